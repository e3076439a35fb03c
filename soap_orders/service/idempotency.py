"""Running a state-changing call once per RequestId.

The first result for a client's RequestId is stored in the same transaction as the change and
replayed for every later call with that id; the same id with other parameters, or for another
operation, is an :class:`IdempotencyConflict`. A call that raised stored nothing.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from ..domain import limits
from ..domain.errors import IdempotencyConflict, ValidationError
from .ports import Clock, UnitOfWork

Result = TypeVar("Result")


@dataclass(frozen=True)
class Caller:
    """Who asked for a change: the client whose RequestIds these are, and where from (for the audit)."""

    client: str
    address: str | None = None


class Command(Protocol):
    """A dataclass with a ``request_id``."""

    @property
    def request_id(self) -> str: ...


def operation_of(command: object) -> str:
    """The operation a command is for, which its RequestId is kept under and its audit records
    name: the command's class name, which is also the operation's (``operations.base.Operation``
    takes its name from its command)."""
    return type(command).__name__


def checked_request_id(request_id: str) -> str:
    request_id = (request_id or "").strip()
    if not 1 <= len(request_id) <= limits.REQUEST_ID:
        raise ValidationError("RequestId must be 1 to 64 characters.", "RequestId")
    return request_id


def act_once(
    uow: UnitOfWork,
    command: Command,
    clock: Clock,
    caller: Caller,
    execute: Callable[[datetime], Result],
    dump: Callable[[Result], dict[str, Any]],
    load: Callable[[dict[str, Any]], Result],
) -> Result:
    """Run ``execute(now)`` inside ``uow`` unless ``command.request_id`` was used before for the
    command's operation (``operation_of``).

    ``execute`` makes the change and its audit record without committing; its result is stored
    (as ``dump`` makes it, once the changed orders' documents are written: ``dump`` may take them
    from ``uow.orders.written_document``) and committed with the change. A repeated id replays
    ``load(stored)``."""
    operation = operation_of(command)
    request_id = checked_request_id(command.request_id)
    digest = fingerprint(operation, command)
    now = clock()
    with uow:
        stored = uow.idempotency.claim(caller.client, request_id, operation, digest, now)
        if stored is not None:
            if stored.fingerprint != digest:
                raise IdempotencyConflict()
            return load(stored.result)
        uow.act_as(caller.client)
        result = execute(now)
        uow.commit(lambda: uow.idempotency.complete(caller.client, request_id, dump(result)))
    return result


def fingerprint(operation: str, command: Any) -> str:
    """A digest of the operation and everything in the command but its RequestId, insensitive to
    how numbers were written."""
    fields = asdict(command)
    del fields["request_id"]
    body = json.dumps([operation, canonical(fields)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def canonical(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return value
