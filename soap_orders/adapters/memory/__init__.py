"""The stores of ``service.ports`` kept in memory: a unit of work and its repositories over plain
Python objects, for running the use cases where what is stored, and how, is not the point (tests
of the use cases' decisions; tests/integration/test_repository_contract.py holds it to what the
SQL adapters do).

A ``MemoryStore`` holds the committed state. A unit of work works on a copy of it, taken when it
begins, and puts its copy in place when it commits (so a rollback, or leaving without a commit,
changes nothing). One unit of work of a store runs at a time: another one waits until it ends,
as SQLite's writers do; beginning a second one in the thread that has one open is an error (it
would wait for itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import MemoryStore, MemoryUnitOfWork

if TYPE_CHECKING:
    from ...service.ports import UnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]

if TYPE_CHECKING:
    def _is_a_unit_of_work(store: MemoryStore) -> UnitOfWork:
        """The type checker holds the in-memory stores to the ports."""
        return store.uow()

