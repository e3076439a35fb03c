"""Relays as separate processes (``soap-orders relay``) against one database and a fake flow
server: two at once never post one event twice at the same time; one killed with SIGKILL in the
middle of a batch loses nothing; SIGTERM lets the request in hand finish."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from soap_orders.bootstrap import Dependencies
from tests.flow_server import Answer, FlowServer
from tests.integration.outbox_helpers import (
    RelayProcess,
    dg_environment,
    dg_settings,
    entries,
    queue_delays,
    wait_until,
    wired,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def relays() -> Iterator[list[RelayProcess]]:
    started: list[RelayProcess] = []
    yield started
    for relay in started:
        relay.stop()


@pytest.fixture
def flow() -> Iterator[FlowServer]:
    with FlowServer() as server:
        yield server


def all_sent(deps: Dependencies) -> bool:
    return all(e.state == "SENT" for e in entries(deps))


def test_two_relays_never_post_one_event_twice_at_once(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    flow.default = Answer(delay=0.03)
    dg = dg_settings(flow.base_url, batch_size=5, lease=10.0)
    deps = wired(database_url, dg)
    try:
        env = dg_environment(database_url, dg)
        for name in ("a", "b"):
            relays.append(RelayProcess(env, tmp_path / f"relay-{name}.log"))
        for relay in relays:
            relay.wait_until_running()

        expected = queue_delays(deps, 80, "TWO")
        wait_until(lambda: all_sent(deps), 60, "every event to be sent")

        assert [relay.terminate() for relay in relays] == [0, 0]
        counts = Counter(flow.ids())
        assert sorted(counts) == sorted(expected)
        assert set(counts.values()) == {1}  # every event exactly once (the server never failed)
        assert flow.overlaps == []
        sent_by = [int(relay.log().rsplit("\n", 2)[-2].split(" sent")[0]) for relay in relays]
        assert sum(sent_by) == 80
        assert all(n > 0 for n in sent_by), f"both relays should have taken part: {sent_by}"
    finally:
        deps.engine.dispose()


def test_a_relay_killed_mid_batch_loses_nothing(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    flow.default = Answer(delay=0.1)
    dg = dg_settings(flow.base_url, batch_size=10, lease=2.0)
    deps = wired(database_url, dg)
    try:
        env = dg_environment(database_url, dg)
        expected = queue_delays(deps, 30, "KILL")
        first = RelayProcess(env, tmp_path / "relay-1.log")
        relays.append(first)
        assert flow.wait_for(4, timeout=30), first.log()

        first.process.kill()  # SIGKILL: no chance to record the answer in hand or give back leases
        first.process.wait(timeout=10)
        leased = [e for e in entries(deps) if e.state == "PENDING"]
        assert leased, "the relay should have been killed with events left"
        with deps.engine.connect() as connection:
            in_batch = connection.execute(
                text("SELECT count(*) FROM flow_outbox WHERE claim_token IS NOT NULL AND state = 'PENDING'")
            ).scalar_one()
        assert in_batch > 0, "the relay should have died in the middle of a batch"

        second = RelayProcess(env, tmp_path / "relay-2.log")
        relays.append(second)
        wait_until(lambda: all_sent(deps), 60, "every event to be sent after the restart")
        assert second.terminate() == 0

        received = flow.received
        assert {r.external_id for r in received} == set(expected)  # nothing lost
        by_id: dict[str, list[object]] = {}
        for r in received:
            by_id.setdefault(r.external_id, []).append(r.body)
        duplicates = {i: bodies for i, bodies in by_id.items() if len(bodies) > 1}
        assert len(duplicates) <= dg.batch_size  # only what the killed relay had in hand or had not recorded
        for bodies in duplicates.values():
            assert all(body == bodies[0] for body in bodies)  # a repeat is the very same event
    finally:
        deps.engine.dispose()


def test_sigterm_finishes_the_request_in_hand_then_stops(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    dg = dg_settings(flow.base_url, read_timeout=5.0, lease=30.0)
    deps = wired(database_url, dg)
    try:
        queue_delays(deps, 3, "TERM")
        flow.stall(1.0)
        relay = RelayProcess(dg_environment(database_url, dg), tmp_path / "relay.log")
        relays.append(relay)
        assert flow.wait_for(1, timeout=30), relay.log()

        started = time.monotonic()
        assert relay.terminate() == 0, relay.log()

        assert time.monotonic() - started < 10
        assert len(flow.received) == 1
        states = [(e.state, e.attempts) for e in entries(deps)]
        assert states == [("SENT", 1), ("PENDING", 0), ("PENDING", 0)]
        with deps.engine.connect() as connection:
            assert connection.execute(
                text("SELECT count(*) FROM flow_outbox WHERE claim_token IS NOT NULL")
            ).scalar_one() == 0  # the leases of the batch's rest were given back
        assert "1 sent, 0 to retry, 0 dead" in relay.log()
    finally:
        deps.engine.dispose()
