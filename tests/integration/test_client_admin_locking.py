"""Client administration while another process writes (a running server or relay): on SQLite a
transaction that read first and then wrote would fail at once with 'database is locked' when the
other process committed in between; the commands that change clients take the write lock first and
wait their turn instead (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import insert

from soap_orders.adapters.database import create_database_engine
from soap_orders.adapters.orm import order_events
from soap_orders.domain.clients import Scope
from soap_orders.service import auth
from tests.records import unique


def _while_another_writes(deps, change) -> object:  # type: ignore[no-untyped-def]
    """Run ``change`` while another connection holds a write transaction, committed a moment later."""
    other = create_database_engine(deps.settings.database_url)
    holding, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def writer() -> None:
        with other.begin() as connection:
            connection.execute(insert(order_events).values(
                order_number="LOCK-TEST", event_type="Test", payload={}, occurred_at=datetime.now(timezone.utc)))
            holding.set()
            release.wait(10)

    def changer() -> None:
        try:
            outcome["result"] = change()
        except Exception as error:  # noqa: BLE001 - the test reports what the command raised
            outcome["error"] = error

    first = threading.Thread(target=writer)
    first.start()
    try:
        assert holding.wait(10)
        second = threading.Thread(target=changer)
        second.start()
        second.join(0.5)  # it has read by now, and waits for the lock
        release.set()
        second.join(30)
        assert not second.is_alive()
    finally:
        release.set()
        first.join(30)
        other.dispose()
    assert "error" not in outcome, outcome.get("error")
    return outcome["result"]


def test_adding_and_changing_a_client_while_another_process_writes_waits_its_turn(deps):
    name = unique("lock-client")
    command = auth.NewClient(name, (Scope("orders:read"),))

    created = _while_another_writes(deps, lambda: auth.add_client(deps.uow(), command, deps.clock, deps.secret_box))
    assert created.client.name == name  # type: ignore[attr-defined]

    rotated = _while_another_writes(deps, lambda: auth.rotate_secret(deps.uow(), name, deps.clock, deps.secret_box))
    assert rotated.secret != created.secret  # type: ignore[attr-defined]
    disabled = _while_another_writes(deps, lambda: auth.set_disabled(deps.uow(), name))
    assert disabled.disabled is True  # type: ignore[attr-defined]
    assert [c.name for c in auth.list_clients(deps.uow()) if c.name == name and c.disabled] == [name]
