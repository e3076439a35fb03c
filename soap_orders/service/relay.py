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
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .ports import OutboxEntry, UnitOfWork

log = logging.getLogger(__name__)

#: The most a Retry-After is believed, in seconds.
MAX_RETRY_AFTER = 3600.0
#: How often the long-running relay deletes old SENT rows.
PRUNE_EVERY = timedelta(minutes=10)


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


@dataclass
class RelayReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    pruned: int = 0
    lost_lease: int = 0
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
    ) -> None:
        self.uow = uow
        self.client = client
        self.clock = clock
        self.backoff = backoff
        self.settings = settings
        #: Set (e.g. on SIGTERM) to finish the request in hand and return.
        self.stop = stop or threading.Event()
        #: After a 429, nothing is posted before this time.
        self.paused_until: datetime | None = None
        self._last_prune: datetime | None = None

    # ------------------------------------------------------------------ entry points

    def run_forever(self) -> RelayReport:
        """Deliver until ``stop`` is set; sleeps ``poll_interval`` when nothing is due."""
        report = RelayReport()
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
        return report

    def drain(self) -> RelayReport:
        """Deliver every row due now (and what becomes due while doing so), prune, and return."""
        report = RelayReport()
        self._prune_if_due(report, force=True)
        while not self.stop.is_set() and self.run_batch(report) > 0:
            pass
        return report

    def run_batch(self, report: RelayReport | None = None) -> int:
        """Claim one batch and post it; returns how many rows were attempted."""
        report = report if report is not None else RelayReport()
        now = self.clock()
        if self.paused_until is not None and now < self.paused_until:
            return 0
        token = uuid.uuid4().hex
        lease_until = now + self.settings.lease
        with self.uow() as uow:
            batch = uow.outbox.claim(now, self.settings.batch_size, lease_until, token)
            uow.commit()
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
        """Delete SENT rows older than the retention period."""
        with self.uow() as uow:
            pruned = uow.outbox.prune(self.clock() - self.settings.retention)
            uow.commit()
        return pruned

    # ------------------------------------------------------------------ one row

    def _deliver(self, entry: OutboxEntry, token: str, report: RelayReport) -> None:
        delivery = self.client.post(entry.payload)
        now = self.clock()
        status = delivery.status
        described = f"HTTP {status}: {delivery.detail}" if status is not None else delivery.detail
        with self.uow() as uow:
            outbox = uow.outbox
            if status is not None and 200 <= status < 300:
                done, outcome = outbox.mark_sent(entry.id, token, now, status), "sent"
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
            wait = max(wait, (self.paused_until - self.clock()).total_seconds())
        return max(wait, 0.0)

    def _prune_if_due(self, report: RelayReport, *, force: bool = False) -> None:
        now = self.clock()
        if force or self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            report.pruned += self.prune()
