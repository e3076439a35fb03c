"""OAuth2 refreshes from several processes at once on SQLite: each takes its write lock as its
transaction begins, so none fails with "database is locked" (503 Server.Unavailable)."""

from __future__ import annotations

import threading

import pytest

from tests.server import Server

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
