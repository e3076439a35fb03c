"""The relay: posts queued notifications to the consumer's Flow Execution API.

It leases due outbox rows in batches, posts them one by one, and records each answer in its own
short transaction:

- 2xx: SENT. Nothing is marked sent before the answer arrived, so a relay that dies mid-batch
  loses nothing; the row is posted again (same ``external_id``) once its lease runs out.
- 5xx, 408, a timeout or a connection error: tried again after an exponential backoff with jitter,
  until ``max_attempts``, then DEAD.
- 429: tried again after ``Retry-After`` (or the backoff); the relay pauses all sending until then.
  A 429 does not count as a failed attempt.
- any other answer (a 4xx, a redirect): DEAD at once, the status and the start of the body kept.

Events of one order go out in order: a row is not claimed while an earlier row of its order is
still PENDING (in flight or backing off). A row is only posted while its lease has room for a whole
request, so two relays never post one row at the same time.

The flow ids are the relay's (``Routing``): every notification is queued, and the relay claims the
types it has a flow id for and posts them to that flow. It makes the types the operator chose to
skip SKIPPED (counted), and leaves the others PENDING: held, reported by ``outbox status``, and
sent once a relay with their flow id runs. Held events do not hold up the other events of their
order. Each relay registers itself in the database, says every few seconds that it is alive and
notes each delivery with it, so that any instance can tell whether notifications are being
delivered (``OutboxStats``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain.notifications import addressed
from .ports import OutboxEntry, RelayRecord, UnitOfWork

log = logging.getLogger(__name__)

#: The most a Retry-After is believed, in seconds.
MAX_RETRY_AFTER = 3600.0
#: How often the long-running relay deletes old SENT and SKIPPED rows.
PRUNE_EVERY = timedelta(minutes=10)
#: What a SKIPPED row's last answer says.
SKIP_NOTE = "skipped: SOAP_ORDERS_DG_SKIP names this event type"


@dataclass(frozen=True)
class Routing:
    """What the relay does with each event type: post it to its flow (``flows``: event type ->
    flow id), make it SKIPPED (``skip``), or, for any other type, leave it PENDING (held)."""

    flows: Mapping[str, str]
    skip: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        both = sorted(set(self.flows) & self.skip)
        if both:
            raise ValueError(f"An event type cannot be both sent and skipped: {', '.join(both)}.")


@dataclass(frozen=True)
class Delivery:
    """What came of one POST. ``status`` is None when no HTTP answer arrived (timeout, refused)."""

    status: int | None
    detail: str
    retry_after: float | None = None


class FlowClient(Protocol):
    def post(self, body: dict[str, Any]) -> Delivery: ...

    def close(self) -> None: ...


#: Seconds to wait before the next try, given how many tries have failed (1 after the first).
Backoff = Callable[[int], float]


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 50
    max_attempts: int = 10
    #: How long a claim holds, and the longest one request may take (connect + read timeouts).
    lease: timedelta = timedelta(minutes=5)
    request_time: timedelta = timedelta(seconds=25)
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=7)
    #: How often the relay tells the database it is alive (at most; at least once per poll).
    heartbeat: timedelta = timedelta(seconds=10)


@dataclass
class RelayReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    pruned: int = 0
    lost_lease: int = 0
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.dead + self.lost_lease


class Relay:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        client: FlowClient,
        clock: Callable[[], datetime],
        backoff: Backoff,
        settings: RelaySettings,
        stop: threading.Event | None = None,
        routing: Routing | None = None,
    ) -> None:
        self.uow = uow
        self.client = client
        self.clock = clock
        self.backoff = backoff
        self.settings = settings
        #: Set (e.g. on SIGTERM) to finish the request in hand and return.
        self.stop = stop or threading.Event()
        self.routing = routing or Routing({})
        #: After a 429, nothing is posted before this time.
        self.paused_until: datetime | None = None
        self._last_prune: datetime | None = None
        #: This relay's row in the database (registered when it starts delivering).
        self.relay_id = uuid.uuid4().hex
        self._registered = False
        self._last_beat: datetime | None = None

    # ------------------------------------------------------------------ entry points

    def run_forever(self) -> RelayReport:
        """Deliver until ``stop`` is set; sleeps ``poll_interval`` when nothing is due."""
        report = RelayReport()
        try:
            while not self.stop.is_set():
                try:
                    self._prune_if_due(report)
                    attempted = self.run_batch(report)
                except Exception:  # e.g. the database is unreachable: keep going, the rows are safe
                    log.exception("relay batch failed; trying again shortly")
                    attempted = 0
                    self.stop.wait(max(self.settings.poll_interval, 5.0))
                if attempted == 0 and not self.stop.is_set():
                    self.stop.wait(self._idle_wait())
        finally:
            self._unregister()
        return report

    def drain(self) -> RelayReport:
        """Deliver every row due now (and what becomes due while doing so), prune, and return."""
        report = RelayReport()
        try:
            self._prune_if_due(report, force=True)
            while not self.stop.is_set() and self.run_batch(report) > 0:
                pass
        finally:
            self._unregister()
        return report

    def run_batch(self, report: RelayReport | None = None) -> int:
        """Skip what the operator does not want sent, claim one batch of the types this relay has
        flows for and post it; returns how many rows were attempted."""
        report = report if report is not None else RelayReport()
        self._beat_if_due()
        now = self.clock()
        if self.paused_until is not None and now < self.paused_until:
            return 0
        token = uuid.uuid4().hex
        lease_until = now + self.settings.lease
        with self.uow() as uow:
            skipped = uow.outbox.skip(self.routing.skip, now, SKIP_NOTE) if self.routing.skip else {}
            batch = uow.outbox.claim(now, self.settings.batch_size, lease_until, token, self.routing.flows)
            uow.commit()
        for event_type, count in skipped.items():
            report.skipped += count
            log.info("outbox: %s %s event(s) skipped (SOAP_ORDERS_DG_SKIP)", count, event_type)
        before = report.attempted
        try:
            for entry in batch:
                if self.stop.is_set() or self._paused():
                    break
                if self.clock() + self.settings.request_time >= lease_until:
                    break  # not enough lease left for a whole request: leave the rest to the next claim
                self._deliver(entry, token, report)
        finally:
            if batch:
                with self.uow() as uow:
                    uow.outbox.release(token)
                    uow.commit()
        return report.attempted - before

    def prune(self) -> int:
        """Delete SENT and SKIPPED rows older than the retention period, and forget relays that
        stopped answering that long ago."""
        cutoff = self.clock() - self.settings.retention
        with self.uow() as uow:
            pruned = uow.outbox.prune(cutoff)
            uow.outbox.prune_relays(cutoff)
            uow.commit()
        return pruned

    # ------------------------------------------------------------------ being seen

    def _expiry(self, now: datetime) -> datetime:
        """Until when this relay promises to be heard from again: a few heartbeats or polls, and a
        request that may take its whole time in between."""
        beat = max(self.settings.heartbeat, timedelta(seconds=self.settings.poll_interval))
        return now + 3 * beat + self.settings.request_time

    def _beat_if_due(self) -> None:
        now = self.clock()
        if self._registered and self._last_beat is not None and now - self._last_beat < self.settings.heartbeat:
            return
        with self.uow() as uow:
            if not uow.outbox.beat_relay(self.relay_id, now, self._expiry(now)):
                uow.outbox.register_relay(RelayRecord(
                    relay_id=self.relay_id, host=socket.gethostname()[:255], pid=os.getpid(), started_at=now,
                    seen_at=now, expires_at=self._expiry(now), flow_types=tuple(sorted(self.routing.flows)),
                    skip_types=tuple(sorted(self.routing.skip)),
                ))
            uow.commit()
        self._registered, self._last_beat = True, now

    def _unregister(self) -> None:
        """Say the relay stopped, so that no instance counts on it (best effort: a relay that dies
        is counted out when its promise runs out)."""
        if not self._registered:
            return
        try:
            with self.uow() as uow:
                uow.outbox.stop_relay(self.relay_id, self.clock())
                uow.commit()
        except Exception:
            log.warning("relay: could not record that it stopped", exc_info=True)
        self._registered = False

    # ------------------------------------------------------------------ one row

    def _deliver(self, entry: OutboxEntry, token: str, report: RelayReport) -> None:
        delivery = self.client.post(addressed(entry.payload, self.routing.flows[entry.event_type]))
        now = self.clock()
        status = delivery.status
        described = f"HTTP {status}: {delivery.detail}" if status is not None else delivery.detail
        with self.uow() as uow:
            outbox = uow.outbox
            if status is not None and 200 <= status < 300:
                done, outcome = outbox.mark_sent(entry.id, token, now, status), "sent"
                if done:
                    outbox.note_delivery(self.relay_id, now)
            elif status == 429:
                wait = delivery.retry_after if delivery.retry_after is not None else self.backoff(entry.attempts + 1)
                until = now + timedelta(seconds=min(max(wait, 0.0), MAX_RETRY_AFTER))
                self.paused_until = until
                done = outbox.mark_retry(entry.id, token, now, until, status, described, count_attempt=False)
                outcome = "retried"
            elif status is None or status == 408 or status >= 500:
                if entry.attempts + 1 >= self.settings.max_attempts:
                    done, outcome = outbox.mark_dead(entry.id, token, now, status, described), "dead"
                else:
                    until = now + timedelta(seconds=self.backoff(entry.attempts + 1))
                    done = outbox.mark_retry(entry.id, token, now, until, status, described)
                    outcome = "retried"
            else:
                done, outcome = outbox.mark_dead(entry.id, token, now, status, described), "dead"
            uow.commit()
        self._beat_if_due()
        if not done:
            # Our lease was taken over (we were too slow); the other relay's record stands.
            report.lost_lease += 1
            log.warning("outbox %s: lease lost before the answer was recorded", entry.id)
            return
        setattr(report, outcome, getattr(report, outcome) + 1)
        level = logging.INFO if outcome == "sent" else logging.WARNING
        log.log(level, "outbox %s %s %s: %s (%s)", entry.id, entry.event_type, entry.external_id, outcome,
                described if outcome != "sent" else f"HTTP {status}")

    # ------------------------------------------------------------------ helpers

    def _paused(self) -> bool:
        return self.paused_until is not None and self.clock() < self.paused_until

    def _idle_wait(self) -> float:
        wait = self.settings.poll_interval
        if self.paused_until is not None:
            # Paused by a 429: sleep until then, but wake to say the relay is alive meanwhile.
            paused = (self.paused_until - self.clock()).total_seconds()
            wait = max(wait, min(paused, self.settings.heartbeat.total_seconds()))
        return max(wait, 0.0)

    def _prune_if_due(self, report: RelayReport, *, force: bool = False) -> None:
        now = self.clock()
        if force or self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            report.pruned += self.prune()
