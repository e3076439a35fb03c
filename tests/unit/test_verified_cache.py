"""The in-process memory of successful credential checks: expiry, bounds, off switch."""

from __future__ import annotations

from soap_orders.domain.clients import Scope
from soap_orders.service.auth import Principal, VerifiedCache

PRINCIPAL = Principal("erp", frozenset({Scope.READ}), "10.0.0.1", "basic")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_success_is_remembered_until_its_time_is_up():
    clock = FakeClock()
    cache = VerifiedCache(5, clock)
    cache.put(("basic", "erp", "digest", "10.0.0.1"), PRINCIPAL)
    clock.now += 4.9
    assert cache.get(("basic", "erp", "digest", "10.0.0.1")) is PRINCIPAL
    clock.now += 0.2
    assert cache.get(("basic", "erp", "digest", "10.0.0.1")) is None


def test_other_credentials_or_another_address_are_not_the_same_entry():
    cache = VerifiedCache(5, FakeClock())
    cache.put(("basic", "erp", "digest", "10.0.0.1"), PRINCIPAL)
    assert cache.get(("basic", "erp", "other-digest", "10.0.0.1")) is None
    assert cache.get(("basic", "erp", "digest", "10.0.0.2")) is None
    assert cache.get(("wsse-text", "erp", "digest", "10.0.0.1")) is None


def test_a_shorter_limit_wins_over_the_ttl():
    clock = FakeClock()
    cache = VerifiedCache(5, clock)
    cache.put(("bearer", "", "token", None), PRINCIPAL, limit=1)
    clock.now += 1.01
    assert cache.get(("bearer", "", "token", None)) is None


def test_zero_ttl_remembers_nothing():
    cache = VerifiedCache(0, FakeClock())
    cache.put(("basic", "erp", "digest", None), PRINCIPAL)
    assert cache.get(("basic", "erp", "digest", None)) is None


def test_the_cache_is_bounded():
    cache = VerifiedCache(5, FakeClock())
    for i in range(VerifiedCache.MAX_ENTRIES + 1):
        cache.put(("basic", f"c{i}", "d", None), PRINCIPAL)
    assert len(cache._entries) <= VerifiedCache.MAX_ENTRIES
