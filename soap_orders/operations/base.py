"""What an operation is: one declaration from which every way of calling it is derived."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, TypeVar

from ..config import Settings
from ..documents import Document, Field, records
from ..domain.clients import Scope
from ..domain.errors import Forbidden, ValidationError
from ..service.auth import Principal
from ..service.orders import Caller
from ..service.ports import Clock, OrderDocuments, UnitOfWork


class Services(Protocol):
    """What a use case is handed: a fresh unit of work per call, the clock and the settings."""

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def documents(self) -> OrderDocuments[records.Rendered]: ...

    def uow(self) -> UnitOfWork: ...


Command = TypeVar("Command")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Call:
    """One call of an operation: the wired services and who is calling."""

    services: Services
    caller: Caller

    @classmethod
    def by(cls, services: Services, principal: Principal) -> Call:
        """A call by an authenticated client."""
        return cls(services, Caller(principal.client, principal.address))

    def uow(self) -> UnitOfWork:
        return self.services.uow()

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def settings(self) -> Settings:
        return self.services.settings


@dataclass(frozen=True)
class Operation:
    """An operation of the contract, declared once.

    ``request`` lists the request's elements (loaded into ``command``), ``answer`` the answer's
    elements (read by name from what ``run`` returns). The SOAP service, the JSON routes, the scope
    check, the OpenAPI document, ``check`` and the tests' operation lists all come from here.

    Its ``name`` is its command's class name, written once there: the use cases key idempotency and
    the audit trail on the command they are given (``service.idempotency.operation_of``), and the
    wire names the operation, its request and its answer the same way. An operation writes (and is
    replayed) exactly when its request has a RequestId."""

    scope: Scope
    request: tuple[Field, ...]
    command: Callable[..., Any]
    answer: tuple[Field, ...]
    run: Callable[[Call, Any], Any] = field(compare=False)
    doc: str = ""
    #: Other scopes that may call it too: an ERP client reads back the orders and subscriptions
    #: it feeds (``scope`` stays the operation's own, as the contract's tables list it).
    also: tuple[Scope, ...] = ()

    @property
    def name(self) -> str:
        """The operation's name on the wire: its command's class name."""
        return self.command.__name__

    @cached_property
    def writes(self) -> bool:
        """Whether it changes state: it takes a RequestId, and its first result is replayed for it."""
        return any(f.name == "RequestId" for f in self.request)

    @cached_property
    def scopes(self) -> frozenset[Scope]:
        """Every scope that may call the operation: one of them is enough."""
        return frozenset((self.scope, *self.also))

    def allows(self, held: frozenset[Scope]) -> bool:
        """Whether a caller holding the scopes ``held`` may call the operation."""
        return not self.scopes.isdisjoint(held)

    @property
    def needs(self) -> str:
        """The scopes that may call it, in words: "the orders:read or erp scope"."""
        return "the " + " or ".join(scope.value for scope in (self.scope, *self.also)) + " scope"

    @cached_property
    def request_document(self) -> Document:
        return Document(self.name, self.request, self.command)

    @cached_property
    def answer_document(self) -> Document:
        return Document(f"{self.name}Response", self.answer)

    def authorize(self, principal: Principal) -> None:
        """Refuse a caller without a scope that may call the operation."""
        if not self.allows(principal.scopes):
            raise Forbidden(f"This client lacks {self.needs} needed for {self.name}.")

    def invoke(self, call: Call, record: Any) -> Any:
        """Run the operation on a request in its plain-data form: load the command, run the use case.
        Every way in (SOAP, the direct read path, JSON, the command line) calls it so."""
        return self.run(call, self.load(record))

    def load(self, record: Any) -> Any:
        """The command for a request in its plain-data form; a bad field is a ValidationError."""
        try:
            return records.load(self.request_document, record)
        except records.RecordError as error:
            raise ValidationError(error.message, error.path or None) from None

    @property
    def summary(self) -> str:
        return self.description.split(". ")[0].rstrip(".") + "."

    @property
    def description(self) -> str:
        return " ".join(inspect.cleandoc(self.doc).split())


def outcome_of(result: Any) -> str:
    """What a call's result says happened, for the access log and metrics: its Outcome, or OK."""
    outcome = getattr(result, "outcome", None)
    return outcome.value if outcome is not None else "OK"


def action(use_case: Callable[[UnitOfWork, Command, Clock, Caller], Result]) -> Callable[[Call, Command], Result]:
    """An operation's ``run`` for a use case of the common shape of a state change: a fresh unit of
    work, the command, the clock and who is calling."""

    def run(call: Call, command: Command) -> Result:
        return use_case(call.uow(), command, call.clock, call.caller)

    run.__name__ = run.__qualname__ = use_case.__name__
    run.__doc__ = use_case.__doc__
    return run
