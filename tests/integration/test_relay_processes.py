"""Relays as separate processes (``soap-orders relay``) against one database and a fake flow
server: two at once never post one event twice at the same time; one killed with SIGKILL in the
middle of a batch loses nothing; SIGTERM lets the request in hand finish.

Every wait is for a condition (requests received, events sent, a log line, an exit), within one
generous bound per test (``Deadline``); the flow server holds a request back for as long as a test
needs it in hand, so nothing depends on how fast a busy machine runs."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from soap_orders.bootstrap import Dependencies
from tests.flow_server import Answer, FlowServer
from tests.integration.outbox_helpers import (
    Deadline,
    RelayProcess,
    dg_environment,
    dg_settings,
    entries,
    queue_delays,
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


def unrecorded_posts(flow: FlowServer, deps: Dependencies) -> int:
    """Requests the flow server received that no relay recorded as an attempt (a timed-out or
    retried request is recorded; one a relay died with in hand is not)."""
    return len(flow.received) - sum(e.attempts for e in entries(deps))


def test_two_relays_never_post_one_event_twice_at_once(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    deadline = Deadline()
    flow.default = Answer(delay=0.03)
    dg = dg_settings(flow.base_url, batch_size=5)
    deps = wired(database_url, dg)
    try:
        env = dg_environment(database_url, dg)
        for name in ("a", "b"):
            relays.append(RelayProcess(env, tmp_path / f"relay-{name}.log"))
        for relay in relays:
            relay.wait_until_running(deadline)

        expected = queue_delays(deps, 80, "TWO")
        deadline.wait_until(lambda: all_sent(deps), "every event to be sent")

        assert [relay.terminate(deadline) for relay in relays] == [0, 0]
        assert sorted(Counter(flow.ids())) == sorted(expected)
        assert flow.overlaps == []  # never one event at two relays at once
        assert unrecorded_posts(flow, deps) == 0  # nor posted by one relay and then the other
        sent_by = [int(relay.report().split(" sent")[0]) for relay in relays]
        assert sum(sent_by) == 80
        assert all(n > 0 for n in sent_by), f"both relays should have taken part: {sent_by}"
    finally:
        deps.engine.dispose()


def test_a_relay_killed_mid_batch_loses_nothing(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    # The first relay is killed while the flow server holds its fifth request, in the middle of a
    # batch of ten: the second takes over once the leases (5 s) have run out.
    deadline = Deadline()
    dg = dg_settings(flow.base_url, batch_size=10, connect_timeout=0.5, read_timeout=2.0, lease=5.0,
                     max_attempts=100)
    deps = wired(database_url, dg)
    try:
        env = dg_environment(database_url, dg)
        expected = queue_delays(deps, 30, "KILL")
        held = flow.hold(after=4)
        first = RelayProcess(env, tmp_path / "relay-1.log")
        relays.append(first)
        deadline.wait_until(lambda: len(flow.received) == 5, "the fifth request", first.log)

        first.kill(deadline)
        held.set()
        with deps.engine.connect() as connection:
            in_batch = connection.execute(
                text("SELECT count(*) FROM flow_outbox WHERE state = 'PENDING' AND claim_token = "
                     "(SELECT claim_token FROM flow_outbox WHERE external_id = :held)"),
                {"held": flow.received[4].external_id},
            ).scalar_one()
        assert in_batch >= 2, "the relay should have died with the rest of its batch leased"

        second = RelayProcess(env, tmp_path / "relay-2.log")
        relays.append(second)
        deadline.wait_until(lambda: all_sent(deps), "every event to be sent after the restart", second.log)
        assert second.terminate(deadline) == 0

        received = flow.received
        assert {r.external_id for r in received} == set(expected)  # nothing lost
        # Posted twice: only the request the killed relay had in hand, never recorded.
        assert unrecorded_posts(flow, deps) == 1
        by_id: dict[str, list[object]] = {}
        for r in received:
            by_id.setdefault(r.external_id, []).append(r.body)
        for bodies in by_id.values():
            assert all(body == bodies[0] for body in bodies)  # a repeat is the very same event
    finally:
        deps.engine.dispose()


def test_sigterm_finishes_the_request_in_hand_then_stops(
    database_url: str, flow: FlowServer, relays: list[RelayProcess], tmp_path: Path
) -> None:
    deadline = Deadline()
    dg = dg_settings(flow.base_url, read_timeout=deadline.seconds, lease=3 * deadline.seconds)
    deps = wired(database_url, dg)
    try:
        queue_delays(deps, 3, "TERM")
        held = flow.hold()
        relay = RelayProcess(dg_environment(database_url, dg), tmp_path / "relay.log")
        relays.append(relay)
        deadline.wait_until(lambda: len(flow.received) == 1, "the first request", relay.log)

        relay.process.send_signal(signal.SIGTERM)
        deadline.wait_until(lambda: "Stopping after the request in hand." in relay.log(), "SIGTERM obeyed",
                            relay.log)
        held.set()  # the answer to the request in hand comes only now
        assert relay.wait(deadline, "the relay to stop after the request in hand") == 0

        assert len(flow.received) == 1
        states = [(e.state, e.attempts) for e in entries(deps)]
        assert states == [("SENT", 1), ("PENDING", 0), ("PENDING", 0)]
        with deps.engine.connect() as connection:
            assert connection.execute(
                text("SELECT count(*) FROM flow_outbox WHERE claim_token IS NOT NULL")
            ).scalar_one() == 0  # the leases of the batch's rest were given back
        assert relay.report() == "1 sent, 0 to retry, 0 dead, 0 pruned, 0 skipped."
    finally:
        deps.engine.dispose()
