"""Remembered credential checks on a real database: repeat calls cost no query, wrong secrets are
never remembered and always counted, digests always reach the nonce check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from soap_orders.domain.clients import Scope
from soap_orders.domain.errors import AuthenticationFailed
from soap_orders.service.auth import (
    Authenticator,
    AuthSettings,
    NewClient,
    add_client,
    failure_key,
)


@pytest.fixture
def counted(deps):
    """An authenticator that remembers checks for 60 s, and how many units of work it opened."""
    opened = []

    def uow():
        opened.append(1)
        return deps.uow()

    authenticator = Authenticator(uow, deps.clock, AuthSettings(verified_ttl=timedelta(seconds=60)), deps.secret_box)
    secret = add_client(deps.uow(), NewClient("cached", (Scope.READ,), (), False), deps.clock, None).secret
    return authenticator, secret, opened


def test_a_repeated_success_costs_no_query(counted):
    authenticator, secret, opened = counted
    first = authenticator.password("cached", secret, "10.0.0.1")
    after_first = len(opened)
    for _ in range(5):
        assert authenticator.password("cached", secret, "10.0.0.1") == first
    assert after_first >= 1 and len(opened) == after_first


def test_a_wrong_secret_is_never_remembered_and_always_counted(counted, deps):
    authenticator, secret, opened = counted
    authenticator.password("cached", secret, "10.0.0.1")
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            authenticator.password("cached", secret + "x", "10.0.0.1")
    with deps.uow() as uow:
        counts = uow.failures.counts([failure_key("cached", "10.0.0.1")], deps.clock() - timedelta(minutes=5))
    assert counts[failure_key("cached", "10.0.0.1")] == 3


def test_the_same_secret_from_another_address_is_checked_again(counted):
    authenticator, secret, opened = counted
    authenticator.password("cached", secret, "10.0.0.1")
    before = len(opened)
    authenticator.password("cached", secret, "10.0.0.2")
    assert len(opened) > before
