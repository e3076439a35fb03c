"""``soap-orders prune``: delete what has outlived its retention (``domain.retention``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..domain.retention import Kept, RetentionPolicy
from .ports import Clock, UnitOfWork

#: Records deleted per transaction.
BATCH = 5000


@dataclass(frozen=True)
class Pruned:
    kind: Kept
    #: Records from before this moment were (or, in a dry run, would be) deleted.
    before: datetime
    count: int


def prune(uow: Callable[[], UnitOfWork], clock: Clock, policy: RetentionPolicy, *, dry_run: bool = False,
          batch: int = BATCH) -> list[Pruned]:
    """Delete, a batch per transaction, every record older than the policy keeps it; with
    ``dry_run``, only count them. Orders, refunds, returns and shipments are never touched."""
    now = clock()
    pruned = []
    for kind in Kept:
        before = policy.cutoff(kind, now)
        if dry_run:
            with uow() as work:
                count = work.retention.count(kind, before)
        else:
            count = 0
            while True:
                with uow() as work:
                    deleted = work.retention.delete(kind, before, batch)
                    work.commit()
                count += deleted
                if deleted < batch:
                    break
        pruned.append(Pruned(kind, before, count))
    return pruned
