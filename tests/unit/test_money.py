"""Amounts of money: currencies' decimal places, parsing, rounding and formatting."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soap_orders.domain import money
from soap_orders.domain.errors import InvalidAmount, InvalidCurrency, ValidationError


@pytest.mark.parametrize(
    ("currency", "places"),
    [("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4)],
)
def test_decimal_places_follow_iso_4217(currency, places):
    assert money.decimal_places(currency) == places


@pytest.mark.parametrize("currency", ["XXX", "EURO", "eur", "", "ZZ-SECRET-ZZ"])
def test_unknown_currency_is_refused_without_echoing_it(currency):
    with pytest.raises(InvalidCurrency) as caught:
        money.decimal_places(currency)
    assert caught.value.field == "Currency"
    assert caught.value.code == "INVALID_CURRENCY"
    assert caught.value.message == "Currency is not an ISO 4217 currency code."
    assert isinstance(caught.value, ValidationError)


def test_quantum_is_one_minor_unit():
    assert money.quantum("EUR") == Decimal("0.01")
    assert money.quantum("JPY") == Decimal("1")
    assert money.quantum("KWD") == Decimal("0.001")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10", "EUR", "10.00"),
        ("2.345", "EUR", "2.34"),  # half to even
        ("2.355", "EUR", "2.36"),
        ("-2.345", "EUR", "-2.34"),
        ("0.5", "JPY", "0"),
        ("1.5", "JPY", "2"),
        ("1.2345", "KWD", "1.234"),
        ("0E-8", "EUR", "0.00"),
        ("1E+2", "EUR", "100.00"),
    ],
)
def test_quantize_rounds_half_to_even_to_the_currency_places(amount, currency, expected):
    result = money.quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(("amount", "expected"), [("2.345", "2.34"), ("2.355", "2.36"), ("-0.125", "-0.12")])
def test_rounding_is_half_to_even_whatever_decimal_context_the_thread_has(amount, expected):
    # A library or host that changes the thread's decimal context does not change how money rounds.
    with localcontext() as context:
        context.rounding = ROUND_HALF_UP
        assert money.quantize(Decimal(amount), "EUR") == Decimal(expected)
        assert money.format_amount(Decimal(amount), "EUR") == f"{expected} EUR"


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.5", "EUR", "12.50"),
        ("  12.50 ", "EUR", "12.50"),
        (12, "EUR", "12.00"),
        (12.25, "EUR", "12.25"),
        (0.1, "EUR", "0.10"),
        (Decimal("7.10"), "EUR", "7.10"),
        ("10.000", "EUR", "10.00"),  # trailing zeros are not decimal places that count
        ("1E+2", "EUR", "100.00"),
        ("0E-8", "EUR", "0.00"),
        ("1500", "JPY", "1500"),
        ("1500.0", "JPY", "1500"),
        ("1.234", "KWD", "1.234"),
        ("0", "EUR", "0.00"),
        ("-3.5", "EUR", "-3.50"),
    ],
)
def test_parse_amount_accepts_numbers_and_quantizes_them(value, currency, expected):
    result = money.parse_amount(value, currency)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "currency", "places"),
    [("1.001", "EUR", 2), ("1E-5", "EUR", 2), ("100.5", "JPY", 0), ("1.2345", "KWD", 3), (0.125, "EUR", 2)],
)
def test_parse_amount_refuses_more_decimal_places_than_the_currency_has(value, currency, places):
    with pytest.raises(InvalidAmount) as caught:
        money.parse_amount(value, currency, field="UnitPrice")
    assert caught.value.message == f"UnitPrice has more than {places} decimal places for {currency}."
    assert caught.value.field == "UnitPrice"


@pytest.mark.parametrize("value", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", float("nan"), float("inf"),
                                   Decimal("NaN"), Decimal("-Infinity")])
def test_parse_amount_refuses_nan_and_infinities(value):
    with pytest.raises(InvalidAmount) as caught:
        money.parse_amount(value, "EUR")
    assert caught.value.message == "Amount is not a finite number."


@pytest.mark.parametrize("value", ["", "  ", "ten", "1,50", "12.5 EUR", "0x10", None, True, [1], "ZZ-SECRET-ZZ"])
def test_parse_amount_refuses_what_is_not_a_decimal_number_without_echoing_it(value):
    with pytest.raises(InvalidAmount) as caught:
        money.parse_amount(value, "EUR")
    assert caught.value.message == "Amount is not a decimal number."
    assert "ZZ-SECRET-ZZ" not in str(caught.value)


def test_parse_amount_refuses_an_unknown_currency():
    with pytest.raises(InvalidCurrency):
        money.parse_amount("1.00", "XXX")


@pytest.mark.parametrize("value", ["1E+30", "1E+100", "12345678901234567890123456789", Decimal("1E+26")])
def test_parse_amount_refuses_an_amount_too_large_to_represent(value):
    with pytest.raises(InvalidAmount) as caught:
        money.parse_amount(value, "EUR", field="Total")
    assert caught.value.field == "Total"
    assert caught.value.message == "Total is too large (at most 14 digits before the decimal point)."


@pytest.mark.parametrize("value", ["0.01", "1", "999999.99"])
def test_positive_amount_accepts_amounts_above_zero(value):
    assert money.positive_amount(value, "EUR") == Decimal(value)


@pytest.mark.parametrize("value", ["0", "0.00", "-0.01", "-5"])
def test_positive_amount_refuses_zero_and_negatives(value):
    with pytest.raises(InvalidAmount) as caught:
        money.positive_amount(value, "EUR", field="Amount")
    assert caught.value.message == "Amount must be greater than zero."


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("12.5"), "EUR", "12.50 EUR"),
        (Decimal("0E-8"), "EUR", "0.00 EUR"),
        (Decimal("1E+2"), "EUR", "100.00 EUR"),
        (Decimal("1E+6"), "EUR", "1000000.00 EUR"),
        (Decimal("1500"), "JPY", "1500 JPY"),
        (Decimal("1E+3"), "JPY", "1000 JPY"),
        (Decimal("1.2"), "KWD", "1.200 KWD"),
        (Decimal("2.345"), "EUR", "2.34 EUR"),
    ],
)
def test_format_amount_never_uses_exponent_form(amount, currency, expected):
    assert money.format_amount(amount, currency) == expected


_CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD", "CLF"])


@given(
    currency=_CURRENCIES,
    amount=st.decimals(min_value=-10**12, max_value=10**12, allow_nan=False, allow_infinity=False, places=6),
)
def test_formatted_amounts_have_exactly_the_currency_places_and_no_exponent(currency, amount):
    text, code = money.format_amount(amount, currency).split(" ")
    assert code == currency
    assert "E" not in text.upper()
    places = money.decimal_places(currency)
    if places:
        assert len(text.split(".")[1]) == places
    else:
        assert "." not in text
    assert Decimal(text) == money.quantize(amount, currency)


@given(currency=_CURRENCIES, units=st.integers(min_value=-10**15, max_value=10**15), exponent=st.integers(-4, 6))
def test_parse_amount_accepts_every_amount_within_the_currency_places_unchanged(currency, units, exponent):
    amount = Decimal(units).scaleb(-exponent)
    places = money.decimal_places(currency)
    too_large = amount != 0 and amount.adjusted() >= money.MAX_INTEGER_DIGITS
    if too_large or -amount.normalize().as_tuple().exponent > places:
        with pytest.raises(InvalidAmount):
            money.parse_amount(str(amount), currency)
    else:
        parsed = money.parse_amount(str(amount), currency)
        assert parsed == amount
        assert parsed.as_tuple().exponent == -places
