"""The records read from a file, written in batches: one transaction per batch, each record with
its own result.

A record whose fingerprint is stored beside its order (which nothing has changed since) is counted
unchanged without being read into an order; the others are read exactly, turned into orders and
upserted ``size`` at a time (``ingest.orders``). Subscription records go to their own use case
(``ingest.subscriptions``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..documents.records import (
    NumberOutOfRange,
    RecordError,
    order_from_record,
    read_json,
)
from ..documents.rendered import RENDER_VERSION
from ..domain.errors import DomainError
from ..domain.orders import Order
from ..domain.subscriptions import MAX_UPSERT_BATCH
from ..domain.upserts import UpsertOutcome, UpsertReasonCode
from .orders import unchanged_records, upsert_orders
from .report import BATCH_REFUSED, INVALID_DOCUMENT, ImportProblem, ImportReport, clean
from .subscriptions import upsert_subscriptions


@dataclass
class Pending:
    """A record waiting for its batch: where it starts, the record, its order number (when it has
    one) and its fingerprint."""

    line: int
    record: Any
    number: str | None
    fingerprint: str | None
    #: A JSON line read only roughly so far (``record`` is None): it is read exactly (every number
    #: checked) only if its fingerprint does not show it unchanged.
    raw: bytes | None = None


class Batcher:
    """Collects valid orders and upserts them ``size`` at a time, one transaction per batch.

    Every record goes through the upsert (merge, never erase) with its own result: a refused record
    is reported at its line and the others are kept. An order number seen twice is merged twice, in
    the file's order, so the later record wins where the two differ."""

    def __init__(self, deps: Any, size: int, report: ImportReport, *, look_up: int = 0) -> None:
        self.deps = deps
        self.size = size
        self.report = report
        #: How many records may be read before their fingerprints are asked for, in one query (at
        #: least ``size``): asking about many numbers at once costs less than a query per batch.
        self.look_up = max(size, look_up)
        #: How many are read before the next query: ``look_up`` while most records read are found
        #: unchanged (they cost little), else ``size`` (a first import goes a batch at a time: its
        #: progress shows, and a Ctrl-C stops it after little more than a batch).
        self.window = size
        self.pending: list[Pending] = []
        #: Records whose fingerprint did not show them unchanged, to be merged ``size`` at a time:
        #: when few records change, their transactions are not one per batch read.
        self.to_merge: list[Pending] = []
        #: Subscription records (a record with a SubscriptionId), with their lines.
        self.subscriptions: list[tuple[int, dict[str, Any]]] = []

    def add(self, item: Pending) -> None:
        self.pending.append(item)
        if len(self.pending) >= self.window:
            self.flush(final=False)

    def load(self, line: int, record: Any, fingerprint: str | None = None) -> None:
        """Queue one record (turned into an order when the batch is written, unless it is
        unchanged). A record with a SubscriptionId is a subscription."""
        if isinstance(record, dict) and "SubscriptionId" in record:
            self.add_subscription(line, record)
            return
        number = record.get("OrderNumber") if isinstance(record, dict) else None
        self.add(Pending(line, record, number if isinstance(number, str) else None, fingerprint))

    def add_subscription(self, line: int, record: dict[str, Any]) -> None:
        """Queue a subscription record; the use case checks it and answers for it alone. A
        SubscriptionId seen again writes the batch first, so that the later record wins."""
        sid = record.get("SubscriptionId")
        if any(queued.get("SubscriptionId") == sid for _, queued in self.subscriptions):
            self.flush_subscriptions()
        self.subscriptions.append((line, record))
        if len(self.subscriptions) >= min(self.size, MAX_UPSERT_BATCH):
            self.flush_subscriptions()

    def flush_subscriptions(self) -> None:
        if not self.subscriptions:
            return
        batch, self.subscriptions = self.subscriptions, []
        try:
            results = upsert_subscriptions(self.deps.uow(), [record for _, record in batch], self.deps.clock,
                                           dry_run=self.report.dry_run)
        except DomainError as error:
            self.report.errors.append(ImportProblem(batch[0][0], clean(error.message), BATCH_REFUSED))
            return
        for (line, _), result in zip(batch, results, strict=True):
            if result.outcome is UpsertOutcome.CREATED:
                self.report.created += 1
            elif result.outcome is UpsertOutcome.REJECTED:
                why = result.message or result.reason_code.value
                self.report.errors.append(ImportProblem(line, clean(f"{result.reason_code.value}: {why}"),
                                                        result.reason_code.value))
            else:
                self.report.updated += 1
            if result.outcome is not UpsertOutcome.REJECTED and result.reason_code is not UpsertReasonCode.NONE:
                why = result.message or result.reason_code.value
                self.report.notices.append(ImportProblem(line, clean(f"{why} ({result.reason_code.value})"),
                                                         result.reason_code.value))

    def discard(self) -> None:
        """Forget the orders not yet written."""
        self.pending = []
        self.to_merge = []

    def flush(self, *, final: bool = True) -> None:
        """Sort out the records read: the unchanged ones are counted, the others merged once
        ``size`` of them wait (or, ``final``, now)."""
        self.flush_subscriptions()
        if self.pending:
            self._sort_out()
        if self.to_merge and final:
            self._merge()

    def _sort_out(self) -> None:
        read, self.pending = self.pending, []
        # A record whose fingerprint is stored beside its order, which nothing has changed since,
        # would merge to no change: it is counted unchanged without being read into an order. An
        # order number that occurs twice in the records read, or has a record still waiting to be
        # merged, is merged in full, in the file's order (the later record wins): so no record of
        # a number asked about is merged between the query and the answer's use.
        # Numbers are compared as they are stored, trimmed of the spaces around them (" A-1 " is
        # order A-1).
        keys = [None if item.number is None else item.number.strip() for item in read]
        counts = Counter(keys)
        waiting = {None if item.number is None else item.number.strip() for item in self.to_merge}
        wanted = {key: item.fingerprint for key, item in zip(keys, read, strict=True)
                  if key is not None and item.fingerprint is not None and counts[key] == 1 and key not in waiting}
        try:
            unchanged = unchanged_records(self.deps.uow(), wanted)
        except DomainError as error:
            for start in range(0, len(read), self.size):  # each batch refused, at its first line
                self.report.errors.append(ImportProblem(read[start].line, clean(error.message), BATCH_REFUSED))
            for item in read:  # a line that is no JSON is still named as such
                if item.raw is not None:
                    read_exact(item.line, item.raw, self.report)
            return
        self.window = self.look_up if 2 * len(unchanged) > len(read) else self.size
        # The others are merged as if read ``size`` at a time: once a batch read leaves ``size``
        # or more waiting, they are merged together (when few records change, their transactions
        # are not one per batch read).
        for start in range(0, len(read), self.size):
            for key, item in zip(keys[start:start + self.size], read[start:start + self.size], strict=True):
                if key in unchanged:
                    self.report.unchanged += 1
                else:
                    self.to_merge.append(item)
            if len(self.to_merge) >= self.size:
                self._merge()

    def _merge(self) -> None:
        batch, self.to_merge = self.to_merge, []
        lines: list[int] = []
        orders: list[Order] = []
        fingerprints: list[str | None] = []
        for item in batch:
            record = item.record if item.raw is None else read_exact(item.line, item.raw, self.report)
            if record is UNREADABLE_RECORD:
                continue
            try:
                order = order_from_record(record)
            except RecordError as error:
                self.report.errors.append(ImportProblem(item.line, clean(error.message), INVALID_DOCUMENT))
                continue
            lines.append(item.line)
            orders.append(order)
            fingerprints.append(item.fingerprint)
        if not orders:
            return
        try:
            upserted = upsert_orders(self.deps.uow(), orders, self.deps.clock, fingerprints=fingerprints,
                                     dry_run=self.report.dry_run)
        except DomainError as error:
            self.report.errors.append(ImportProblem(lines[0], clean(error.message), BATCH_REFUSED))
            return
        self.report.created += upserted.created
        self.report.updated += upserted.updated
        self.report.unchanged += upserted.unchanged
        for line, result in zip(lines, upserted.results, strict=True):
            message = f"{result.message} ({result.reason_code.value})"
            if result.outcome is UpsertOutcome.REJECTED:
                self.report.errors.append(ImportProblem(line, clean(message), result.reason_code.value))
            elif result.reason_code is not UpsertReasonCode.NONE:
                self.report.notices.append(ImportProblem(line, clean(message), result.reason_code.value))


def record_fingerprint(data: bytes) -> str:
    """The fingerprint of one record as the file holds it, under the rules of this release (a
    release may check or merge differently, so its fingerprints never match an earlier one's)."""
    return hashlib.sha256(_FINGERPRINT_SALT + data).hexdigest()


_FINGERPRINT_SALT = f"soap-orders {__version__} document {RENDER_VERSION}\n".encode()


#: What ``read_exact`` returns for a line it could not read (and reported).
UNREADABLE_RECORD = object()


def read_exact(number: int, raw: bytes, report: ImportReport) -> Any:
    """The record of a JSON line, every number read exactly; or, reported, ``UNREADABLE_RECORD``."""
    try:
        return read_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        report.errors.append(ImportProblem(number, "not valid UTF-8 text"))
    except NumberOutOfRange:
        report.errors.append(ImportProblem(number, "holds a number too large or too small for any field"))
    except (ValueError, RecursionError):
        report.errors.append(ImportProblem(number, "not valid JSON"))
    return UNREADABLE_RECORD
