"""API clients: allowlists, presets, and which address a request comes from."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from soap_orders.domain.clients import (
    ApiClient,
    Scope,
    address_in,
    client_address,
    parse_networks,
)
from soap_orders.domain.errors import ValidationError
from soap_orders.service import passwords

TRUSTED = ("10.0.0.0/8",)


def test_presets_name_dg_published_addresses():
    assert parse_networks(["dg-us", "dg-eu", "dg-test"]) == ("35.167.19.246/32", "18.197.240.87/32", "109.70.151.103/32")


def test_networks_are_normalised_and_deduplicated():
    assert parse_networks(["192.168.1.7/24", "192.168.1.0/24", " 2001:db8::1 "]) == ("192.168.1.0/24", "2001:db8::1/128")


def test_a_bad_allowlist_entry_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as refused:
        parse_networks(["not-an-address-XYZ"])
    assert "XYZ" not in refused.value.message


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "18.197.240.87", "203.0.113.5"),  # untrusted peer: header ignored
        ("10.1.1.1", "18.197.240.87", "18.197.240.87"),  # trusted proxy: header believed
        ("10.1.1.1", "6.6.6.6, 18.197.240.87, 10.2.2.2", "18.197.240.87"),  # right-most untrusted hop
        ("10.1.1.1", "10.2.2.2, 10.3.3.3", "10.1.1.1"),  # every hop trusted: the peer itself
        ("10.1.1.1", "garbage", None),  # a trusted proxy passing garbage: unknown caller
        ("10.1.1.1", None, "10.1.1.1"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(remote, forwarded, expected):
    assert client_address(remote, forwarded, TRUSTED) == expected


def test_unknown_or_malformed_addresses_are_in_no_network():
    assert not address_in(None, ["0.0.0.0/0"])
    assert not address_in("not an ip", ["0.0.0.0/0"])
    assert address_in("::1", ["::1/128"])


def test_a_client_without_its_own_list_allows_any_address():
    client = ApiClient("dg", frozenset({Scope.READ}), "x", datetime.now(timezone.utc))
    assert client.allows_address("203.0.113.9")
    limited = ApiClient("dg", frozenset({Scope.READ}), "x", datetime.now(timezone.utc), allowed_networks=("10.0.0.0/8",))
    assert limited.allows_address("10.9.9.9") and not limited.allows_address("203.0.113.9")


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "semi;colon", "ünïcode"])
def test_client_names_are_short_plain_tokens(name):
    with pytest.raises(ValidationError):
        ApiClient.check_name(name)


def test_secrets_are_stored_as_salted_scrypt_hashes():
    secret = passwords.new_secret()
    first, second = passwords.hash_secret(secret), passwords.hash_secret(secret)
    assert first != second and first.startswith("scrypt$") and secret not in first
    assert passwords.verify_secret(secret, first) and passwords.verify_secret(secret, second)
    assert not passwords.verify_secret(secret + "x", first)
    assert not passwords.verify_secret(secret, "scrypt$broken")


def test_every_operation_in_the_wsdl_needs_a_scope():
    from lxml import etree

    from soap_orders.operations import BY_NAME

    wsdl = etree.parse(str(Path(__file__).resolve().parents[2] / "wsdl" / "orders.wsdl"))
    operations = {op.get("name") for op in wsdl.iterfind(".//{http://schemas.xmlsoap.org/wsdl/}portType/{http://schemas.xmlsoap.org/wsdl/}operation")}
    assert operations == set(BY_NAME)
    assert all(operation.scope for operation in BY_NAME.values())
