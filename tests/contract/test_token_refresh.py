"""OAuth2 refreshes at once: from several processes on SQLite, each takes its write lock as its
transaction begins, so none fails with "database is locked" (503 Server.Unavailable); and a
client that presents one refresh token many times at once gets one new pair and is not locked out."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.records import unique
from tests.server import Server, add_client

pytestmark = pytest.mark.slow

CALLERS = 4
REFRESHES = 30


@pytest.fixture
def two_workers(tmp_path):
    from tests.conftest import _database

    server = Server(_database("sqlite", tmp_path, "refresh"), tmp_path / "gunicorn.log", workers=2)
    yield server
    server.stop()


def test_concurrent_refreshes_never_meet_a_locked_database(two_workers):
    server = two_workers
    refresh_tokens = [server.token().json()["refresh_token"] for _ in range(CALLERS)]
    statuses: list[list[int]] = [[] for _ in range(CALLERS)]
    start = threading.Barrier(CALLERS)

    def caller(index: int) -> None:
        token = refresh_tokens[index]
        start.wait(timeout=30)
        for _ in range(REFRESHES):
            answer = server.token(grant_type="refresh_token", refresh_token=token)
            statuses[index].append(answer.status_code)
            if answer.status_code != 200:
                return
            token = answer.json()["refresh_token"]

    threads = [threading.Thread(target=caller, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert statuses == [[200] * REFRESHES] * CALLERS, server.log()[-3000:]


# ---------------------------------------------------------------------- reuse of a rotated refresh token

#: The failure limit a server has unless configured otherwise (SOAP_ORDERS_AUTH_FAILURE_LIMIT).
DEFAULT_FAILURE_LIMIT = 10
RACERS = 32
FIND = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:soap-orders:orders:v1">'
        b"<s:Body><o:FindOrdersByEmail><o:Email>racer@example.com</o:Email></o:FindOrdersByEmail></s:Body></s:Envelope>")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def limited(request, tmp_path_factory):
    """A server with the default failure limit, behind a trusted proxy (127.0.0.1), so each test
    calls from addresses of its own."""
    from tests.conftest import _database

    directory = tmp_path_factory.mktemp(f"limited-{request.param}")
    server = Server(_database(request.param, directory, "limited"), directory / "gunicorn.log", extra_env={
        "SOAP_ORDERS_AUTH_FAILURE_LIMIT": str(DEFAULT_FAILURE_LIMIT), "SOAP_ORDERS_TRUSTED_PROXIES": "127.0.0.1/32"})
    yield server
    server.stop()


def grant(server: Server, credentials: tuple[str, str], address: str, **form: str) -> requests.Response:
    return requests.post(f"{server.base_url}/oauth/token", data={"grant_type": "client_credentials", **form},
                         auth=credentials, headers={"X-Forwarded-For": address}, timeout=60)


def find(server: Server, address: str, **kwargs: object) -> requests.Response:
    return requests.post(server.soap_url, data=FIND, timeout=30, headers={
        "Content-Type": "text/xml; charset=utf-8", "X-Forwarded-For": address, **kwargs.pop("headers", {})}, **kwargs)


def test_concurrent_refreshes_of_one_token_give_one_pair_and_never_lock_the_client_out(limited):
    name = unique("racer")
    credentials = (name, add_client(limited.database_url, name))
    address = "198.51.100.21"
    first = grant(limited, credentials, address)
    assert first.status_code == 200
    start = threading.Barrier(RACERS)
    answers: list[requests.Response] = []

    def refresh() -> None:
        start.wait(timeout=60)
        answers.append(grant(limited, credentials, address, grant_type="refresh_token",
                             refresh_token=first.json()["refresh_token"]))

    threads = [threading.Thread(target=refresh) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    outcomes = sorted((answer.status_code, answer.json().get("error")) for answer in answers)
    assert outcomes == [(200, None)] + [(400, "invalid_grant")] * (RACERS - 1), limited.log()[-3000:]
    # More refused grants than the failure limit, and the client still works from that address:
    # with its secret, with its new pair, and with a new grant.
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert find(limited, address, auth=credentials).status_code == 200
    assert find(limited, address, headers={"Authorization": f"Bearer {winner['access_token']}"}).status_code == 200
    again = grant(limited, credentials, address, grant_type="refresh_token", refresh_token=winner["refresh_token"])
    assert again.status_code == 200
    assert grant(limited, credentials, address).status_code == 200


def test_a_reused_refresh_token_is_refused_each_time_without_counting_as_a_failed_login(limited):
    name = unique("reuser")
    credentials = (name, add_client(limited.database_url, name))
    address = "198.51.100.22"
    tokens = grant(limited, credentials, address).json()
    rotated = grant(limited, credentials, address, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert rotated.status_code == 200
    for _ in range(DEFAULT_FAILURE_LIMIT + 2):
        reused = grant(limited, credentials, address, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        unknown = grant(limited, credentials, address, grant_type="refresh_token", refresh_token="never-issued")
        assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    # The token the rotation gave is not revoked by the reuse of its predecessor (see README).
    current = grant(limited, credentials, address, grant_type="refresh_token",
                    refresh_token=rotated.json()["refresh_token"])
    assert current.status_code == 200
    assert find(limited, address, auth=credentials).status_code == 200


def test_wrong_secrets_at_the_token_endpoint_still_lock_out(limited):
    name = unique("guessed")
    secret = add_client(limited.database_url, name)
    address = "198.51.100.23"
    codes = [grant(limited, (name, "guess"), address).status_code for _ in range(DEFAULT_FAILURE_LIMIT + 1)]
    assert codes == [401] * DEFAULT_FAILURE_LIMIT + [429]
    locked = grant(limited, (name, secret), address)
    assert locked.status_code == 429 and locked.json()["error"] == "invalid_client"
    assert int(locked.headers["Retry-After"]) > 0
