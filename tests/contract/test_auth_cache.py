"""Remembered credential checks across two gunicorn workers: a rotated or disabled client is
refused by every worker within the cache's lifetime, without a restart."""

from __future__ import annotations

import time

import pytest
import requests

from soap_orders.bootstrap import build_dependencies
from soap_orders.service.auth import rotate_secret, set_disabled
from tests.server import Server, settings_for_tests

pytestmark = pytest.mark.slow

CACHE_SECONDS = 2
GET = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:soap-orders:orders:v1">'
       "<s:Body><o:GetOrder><o:OrderNumber>NOT-STORED</o:OrderNumber></o:GetOrder></s:Body></s:Envelope>")


@pytest.fixture
def cached_server(tmp_path):
    from tests.conftest import _database

    server = Server(_database("sqlite", tmp_path, "auth-cache"), tmp_path / "gunicorn.log", workers=2,
                    extra_env={"SOAP_ORDERS_AUTH_CACHE_SECONDS": str(CACHE_SECONDS)})
    yield server
    server.stop()


def answers(server, credentials, calls=12):
    """The faultcodes (or 'ok') of ``calls`` fresh connections, which spread over both workers."""
    seen = set()
    for _ in range(calls):
        response = requests.post(server.soap_url, data=GET, auth=credentials, timeout=10,
                                 headers={"Content-Type": "text/xml", "Connection": "close"})
        seen.add("known" if b"Client.OrderNotFound" in response.content else
                 "refused" if b"Client.AuthenticationFailed" in response.content else response.status_code)
    return seen


def refused_within(server, credentials, limit):
    """Whether every worker refuses ``credentials`` in a poll that starts within ``limit`` seconds
    (the cache lifetime plus room for a busy machine; without expiry it would never happen)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if answers(server, credentials) == {"refused"}:
            return True
        time.sleep(0.2)
    return False


def test_a_rotated_secret_is_refused_by_every_worker_within_the_cache_lifetime(cached_server):
    name, secret = cached_server.credentials
    assert answers(cached_server, (name, secret)) == {"known"}  # remembered in both workers now
    deps = build_dependencies(settings_for_tests(cached_server.database_url))
    try:
        new = rotate_secret(deps.uow(), name, deps.clock, deps.secret_box).secret
    finally:
        deps.engine.dispose()
    assert refused_within(cached_server, (name, secret), CACHE_SECONDS + 10)
    assert answers(cached_server, (name, new)) == {"known"}


def test_a_disabled_client_is_refused_by_every_worker_within_the_cache_lifetime(cached_server):
    name, secret = cached_server.credentials
    assert answers(cached_server, (name, secret)) == {"known"}
    deps = build_dependencies(settings_for_tests(cached_server.database_url))
    try:
        set_disabled(deps.uow(), name)
    finally:
        deps.engine.dispose()
    assert refused_within(cached_server, (name, secret), CACHE_SECONDS + 10)
