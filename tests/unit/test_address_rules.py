"""What an address is refused for, as the caller reads it: the whole message and the field, for a
value that is not text, a control character, an unknown country and a missing postal code."""

from __future__ import annotations

import pytest

from soap_orders.domain.addresses import validated
from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import Address


def address(**overrides):
    values = {"name": "Ann Lee", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001",
              "country_code": "FR"}
    values.update(overrides)
    return Address(**values)


def refusal(**overrides) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as refused:
        validated(address(**overrides))
    return str(refused.value), refused.value.field


def test_a_value_that_is_not_text_is_refused_by_its_wire_name():
    assert refusal(city=75001) == ("City must be text.", "City")


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f"])
def test_control_characters_are_refused_by_the_field_they_are_in(control):
    assert refusal(line1=f"1 Rue{control}de Rivoli") == ("Line1 must not contain control characters.", "Line1")


def test_characters_past_the_control_block_are_kept():
    assert validated(address(line1="1 Rue\x80de Rivoli")).line1 == "1 Rue\x80de Rivoli"
    assert validated(address(name="Zoë Ørsted")).name == "Zoë Ørsted"


@pytest.mark.parametrize("code", ["UK", "XX", "1A"])
def test_a_country_outside_iso_3166_1_alpha_2_is_refused_with_an_example(code):
    assert refusal(country_code=code) == ("CountryCode must be an ISO 3166-1 alpha-2 code such as GB.",
                                          "CountryCode")


def test_a_missing_country_is_required_and_a_longer_code_is_too_long():
    assert refusal(country_code="  ") == ("CountryCode is required.", "CountryCode")
    assert refusal(country_code="FRA") == ("CountryCode must be at most 2 characters.", "CountryCode")


def test_a_postal_code_is_required_where_the_country_uses_one():
    assert refusal(postal_code=None) == ("PostalCode is required for addresses in that country.", "PostalCode")
    assert validated(address(country_code="hk", postal_code=None)).country_code == "HK"
