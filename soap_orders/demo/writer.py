"""Writing demo orders to the database, in batches, one unit of work per batch.

By default demo data never touches an order it did not create: an order number already in use is
skipped (and reported), and the order stored under it is left exactly as it is. Only with
``replace`` are existing orders updated, through the ``upsert_orders`` use case, which merges:
what callers did through the service survives, and an order the demo contradicts is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ..domain.orders import Order
from ..ingest.orders import upsert_orders
from ..service.idempotency import Caller
from ..service.ports import AuditRecord, Clock, UnitOfWork
from .builder import FIRST_ORDER_NUMBER, build_orders
from .suggestions import Suggestions, suggestions_from_store

#: Orders written per transaction.
BATCH_SIZE = 500
#: Who the audit records name as having written the demo orders.
CALLER = Caller("demo-data")
#: How many of the demo's order numbers are looked up for suggestions when nothing was written.
SUGGEST_FROM = 1000
#: How many skipped order numbers the report names.
_NAMED = 3

T = TypeVar("T")


class Wiring(Protocol):
    """What the writer needs from the composition root (``bootstrap.Dependencies`` has it)."""

    @property
    def uow(self) -> Callable[[], UnitOfWork]: ...

    @property
    def clock(self) -> Clock: ...


@dataclass
class WriteReport:
    """What a run of ``write_orders`` did."""

    created: int = 0
    updated: int = 0
    #: With ``replace``: stored orders the demo document contradicts (what callers did survives).
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # order numbers already in use, left untouched
    suggestions: Suggestions = field(default_factory=Suggestions)


def add_new_orders(uow: UnitOfWork, orders: Iterable[Order], clock: Clock,
                   caller: Caller = CALLER) -> tuple[list[Order], list[str]]:
    """Add the orders whose numbers are not in use, in one transaction; never change a stored order.

    Returns the orders added and the numbers skipped because an order already has them."""
    batch = list(orders)
    numbers = [order.order_number for order in batch]
    now = clock()
    with uow:
        existing = uow.orders.get_many(numbers, for_update=True)
        added = [order for order in batch if order.order_number not in existing]
        for order in added:
            order.updated_at = order.updated_at or now
            uow.orders.add(order)
        # Every order is added before the first audit record, so that they are inserted together.
        for order in added:
            uow.audit.add(AuditRecord(now, caller.client, caller.address, "UpsertOrder", order.order_number, None,
                                      "CREATED"))
        uow.commit()
    return added, [number for number in numbers if number in existing]


def write_orders(wiring: Wiring, orders: Iterable[Order], *, replace: bool = False,
                 batch_size: int = BATCH_SIZE) -> WriteReport:
    """Write ``orders`` in batches: new ones are added; existing ones are skipped, or with
    ``replace`` updated by ``upsert_orders`` (which refuses what contradicts the service's part)."""
    report = WriteReport()
    for batch in _batches(orders, batch_size):
        if replace:
            for order in batch:  # --replace means it: another customer and other items may take the number
                order.replace_identity = True
            # Demo data is no news to a customer: it queues no notification.
            summary = upsert_orders(wiring.uow(), batch, wiring.clock, CALLER, notify=False)
            report.created += summary.created
            report.updated += summary.updated
            report.refused += [result.order_number for result in summary.results
                               if result.outcome.value == "REJECTED" and result.order_number is not None]
            written = [order for order in batch if order.order_number not in report.refused]
        else:
            written, skipped = add_new_orders(wiring.uow(), batch, wiring.clock)
            report.created += len(written)
            report.skipped += skipped
        for order in written:
            report.suggestions.see(order)
    return report


def write_demo_data(wiring: Wiring, count: int, seed: int, *, if_empty: bool, replace: bool = False,
                    first_number: int = FIRST_ORDER_NUMBER) -> str:
    """Write ``count`` generated orders; with ``if_empty``, only into a database without orders.

    Returns what to tell the user: a summary with the order numbers skipped (if any), then
    customer emails and order numbers worth trying (with ``if_empty`` and a database already
    holding orders: a note that nothing was written, and suggestions from the demo's stored
    orders, if any)."""
    if if_empty and _has_orders(wiring):
        lines = ["The database already holds orders; no demo data written."]
        numbers = [f"SO-{first_number + i}" for i in range(min(count, SUGGEST_FROM))]
        stored = suggestions_from_store(wiring.uow, numbers)
        return "\n".join(lines + (["Try:", *stored] if stored else []))
    report = write_orders(wiring, build_orders(count, seed, first_number=first_number), replace=replace)
    written = report.created + report.updated
    counts = f"{report.created} created, {report.updated} updated"
    if report.refused:
        refused = report.refused
        lines = [
            f"Wrote {written} of {count} demo orders (seed {seed}): {counts}, {len(refused)} refused.",
            "Refused, because callers changed them through the service (merge, never erase): "
            + ", ".join(refused[:_NAMED]) + (f" and {len(refused) - _NAMED} more." if len(refused) > _NAMED else "."),
        ]
    elif not report.skipped:
        lines = [f"Wrote {count} demo orders (seed {seed}): {counts}."]
    else:
        skipped = report.skipped
        named = ", ".join(skipped[:_NAMED]) + (f" and {len(skipped) - _NAMED} more" if len(skipped) > _NAMED else "")
        lines = [
            f"Wrote {written} of {count} demo orders (seed {seed}): {counts}, {len(skipped)} skipped.",
            f"Skipped order numbers already in use, leaving their orders untouched: {named}.",
            "Use --first-number to number demo orders after the existing ones, or --replace to overwrite them.",
        ]
    suggestions = report.suggestions.lines()
    if suggestions:
        lines += ["Try:", *suggestions]
    return "\n".join(lines)


def _has_orders(wiring: Wiring) -> bool:
    with wiring.uow() as uow:
        return uow.orders.count() > 0


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
