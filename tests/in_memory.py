"""The parts of ``Dependencies`` the use cases take, over the in-memory stores
(``soap_orders.adapters.memory``): for tests of what the use cases decide, where how it is stored
is not the point. tests/integration/test_repository_contract.py holds those stores to the SQL ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from soap_orders.adapters.memory import MemoryStore
from soap_orders.bootstrap import utc_now
from soap_orders.service.ports import Clock, StoredEvent, UnitOfWork


@dataclass(frozen=True)
class InMemory:
    store: MemoryStore = field(default_factory=MemoryStore)
    clock: Clock = utc_now

    @property
    def uow(self) -> Callable[[], UnitOfWork]:
        return self.store.uow

    def feed(self) -> list[StoredEvent]:
        """The whole change feed, oldest first."""
        with self.uow() as uow:
            return uow.events.after(0, 1_000_000)
