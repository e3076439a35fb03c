"""The SOAP service, generated from the operation declarations.

Each method unpacks its arguments into the operation's plain-data request, loads the command the
same way the JSON twin does, runs the operation's use case and writes the answer as wire objects.
Scope checks and the mapping of errors onto faults happen once, in ``call_wrapper``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from spyne import Service, rpc

from ..domain.errors import DomainError
from ..http.access_log import note
from ..operations import BY_NAME, OPERATIONS, Call, Operation, Services, outcome_of
from ..service.auth import Authenticator
from . import types as t
from .faults import (
    AuthenticationFailedFault,
    InternalErrorFault,
    OrdersFault,
    UnavailableFault,
    fault_for,
)
from .writer import answer_envelope

log = logging.getLogger("soap_orders.soap")


class SoapServices(Services, Protocol):
    """What the composition root hands the SOAP application (``build_application``): what every
    operation is handed, the authenticator of WS-Security headers, and the exceptions meaning the
    database cannot be reached now (answered as ``Server.Unavailable``)."""

    @property
    def authenticator(self) -> Authenticator: ...

    @property
    def unavailable_errors(self) -> tuple[type[BaseException], ...]: ...


def deps(ctx: Any) -> SoapServices:
    """The collaborators wired by the composition root (unit of work factory, clock, ...)."""
    services: SoapServices = ctx.app.soap_orders
    return services


def request_id(ctx: Any) -> str:
    return str(ctx.transport.req_env.get("soap_orders.request_id", "-"))


class OrdersServiceBase(Service):
    """Checks the caller's scope, and maps what a use case raises onto the contract's faults,
    in one place."""

    @classmethod
    def call_wrapper(cls, ctx: Any, args: Any = None) -> Any:
        name = ctx.descriptor.name
        note(ctx.transport.req_env, operation=name)
        principal = ctx.transport.req_env.get("soap_orders.principal")
        if principal is None:
            raise AuthenticationFailedFault("Authentication failed.")
        try:
            BY_NAME[name].authorize(principal)
            return super().call_wrapper(ctx, args)
        except OrdersFault:
            raise
        except DomainError as error:
            fault = fault_for(error)
            if fault is None:
                raise InternalErrorFault(request_id(ctx)) from error
            raise fault from error
        except deps(ctx).unavailable_errors as error:
            log.warning("request %s: storage unavailable: %s", request_id(ctx), type(error).__name__)
            raise UnavailableFault() from error
        except Exception as error:
            log.exception("request %s: unexpected error in %s", request_id(ctx), ctx.method_request_string)
            raise InternalErrorFault(request_id(ctx)) from error


def _wsdl_doc(doc: str) -> str:
    """The documentation as a method's docstring reads (continuation lines indented eight)."""
    lines = doc.split("\n")
    return "\n".join([lines[0], *("        " + line.strip() for line in lines[1:])])


def _method(operation: Operation) -> Any:
    request = operation.request_document
    answer = operation.answer_document
    names = [f.name for f in request.fields]

    def method(ctx: Any, *args: Any) -> Any:
        record = {f.name: t.from_wire(f.kind, value) for f, value in zip(request.fields, args, strict=True)}
        given = {name: value for name, value in record.items() if value is not None}
        result = operation.invoke(Call.by(deps(ctx), ctx.transport.req_env["soap_orders.principal"]), given)
        note(ctx.transport.req_env, outcome=outcome_of(result))
        # The answer is written from its description; spyne leaves a set out_string alone.
        ctx.out_string = [answer_envelope(answer, result)]
        return None if len(answer.fields) == 1 else (None,) * len(answer.fields)

    method.__name__ = method.__qualname__ = operation.name
    method.__doc__ = _wsdl_doc(operation.doc)
    returns = [t.element(f) for f in answer.fields]
    out_names = tuple(f.name for f in answer.fields)
    if len(returns) == 1:
        return rpc(*[t.element(f) for f in request.fields], _args=names,
                   _returns=returns[0], _out_variable_name=out_names[0])(method)
    return rpc(*[t.element(f) for f in request.fields], _args=names,
               _returns=tuple(returns), _out_variable_names=out_names)(method)


OrdersService = type("OrdersService", (OrdersServiceBase,), {
    "__service_name__": "OrdersService",
    "__module__": __name__,
    **{operation.name: _method(operation) for operation in OPERATIONS},
})
