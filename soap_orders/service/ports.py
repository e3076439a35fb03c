"""What the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from ..domain.orders import Order, OrderStatus

#: Returns the current time as an aware UTC datetime.
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OrderQuery:
    email: str
    status: OrderStatus | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class StoredResult:
    """A result kept under a RequestId."""

    operation: str
    fingerprint: str
    result: dict[str, Any]


class OrderRepository(Protocol):
    def get(self, order_number: str, *, for_update: bool = False) -> Order | None: ...

    def get_many(self, order_numbers: Iterable[str], *, for_update: bool = False) -> dict[str, Order]: ...

    def find_by_email(self, query: OrderQuery) -> tuple[list[Order], int]: ...

    def add(self, order: Order) -> None: ...

    def replace(self, current: Order, new: Order) -> None:
        """Overwrite a stored order with a new version of it (same order number)."""


class IdempotencyStore(Protocol):
    def claim(self, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        """Reserve ``request_id`` for this transaction, or return what is already stored under it.

        A concurrent claim of the same id waits until the first transaction ends."""

    def complete(self, request_id: str, result: dict[str, Any]) -> None: ...


class UnitOfWork(Protocol):
    orders: OrderRepository
    idempotency: IdempotencyStore

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
