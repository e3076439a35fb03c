"""The v1 operations. Each body unpacks, calls one use case, translates, returns."""

from __future__ import annotations

import logging
from typing import Any

from spyne import Boolean, Service, rpc

from ..domain import orders as model
from ..domain.clients import Scope
from ..domain.errors import DomainError
from ..service import orders as use_cases
from ..web.access_log import note
from . import translate
from . import types as t
from .faults import (
    AuthenticationFailedFault,
    ForbiddenFault,
    InternalErrorFault,
    OrdersFault,
    UnavailableFault,
    fault_for,
)

log = logging.getLogger("soap_orders.soap")


def deps(ctx: Any) -> Any:
    """The collaborators wired by bootstrap (unit of work factory, clock, ...)."""
    return ctx.app.soap_orders


def request_id(ctx: Any) -> str:
    return str(ctx.transport.req_env.get("soap_orders.request_id", "-"))


#: The scope each operation needs.
REQUIRED_SCOPE = {
    "FindOrdersByEmail": Scope.READ,
    "GetOrder": Scope.READ,
    "CancelOrder": Scope.ACT,
    "IssueRefund": Scope.ACT,
}


def caller(ctx: Any) -> use_cases.Caller:
    principal = ctx.transport.req_env["soap_orders.principal"]
    return use_cases.Caller(principal.client, principal.address)


class OrdersServiceBase(Service):
    """Checks the caller's scope, and maps what a use case raises onto the contract's faults,
    in one place."""

    @classmethod
    def call_wrapper(cls, ctx: Any, args: Any = None) -> Any:
        note(ctx.transport.req_env, operation=ctx.descriptor.name)
        principal = ctx.transport.req_env.get("soap_orders.principal")
        if principal is None:
            raise AuthenticationFailedFault("Authentication failed.")
        scope = REQUIRED_SCOPE[ctx.descriptor.name]
        if scope not in principal.scopes:
            raise ForbiddenFault(f"This client lacks the {scope.value} scope needed for {ctx.descriptor.name}.")
        try:
            result = super().call_wrapper(ctx, args)
            note(ctx.transport.req_env, outcome=_outcome(ctx, result))
            return result
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


def _outcome(ctx: Any, result: Any) -> str:
    """An action's ``Outcome`` (its first output), ``OK`` for a read."""
    names = list(getattr(ctx.descriptor.out_message, "_type_info", {}) or ())
    if names[:1] == ["Outcome"] and isinstance(result, (tuple, list)) and result:
        return str(result[0])
    return "OK"


_ACTION_OUT = ("Outcome", "ReasonCode", "Message", "Order")


class OrdersService(OrdersServiceBase):
    __service_name__ = "OrdersService"

    @rpc(
        t.required(t.EmailType),
        t.optional(t.OrderStatusType),
        t.optional(t.DateType),
        t.optional(t.DateType),
        t.optional(t.PageSizeType, default=20),
        t.optional(t.PageNumberType, default=1),
        _returns=(
            t.required(t.Orders),
            t.required(t.CountType),
            t.required(t.PageNumberType),
            t.required(t.PageSizeType),
            Boolean(min_occurs=1, nillable=False),
        ),
        _out_variable_names=("Orders", "TotalCount", "PageNumber", "PageSize", "HasMore"),
    )
    def FindOrdersByEmail(ctx, Email, Status, PlacedFrom, PlacedTo, PageSize, PageNumber):  # noqa: N802,N803
        """A customer's orders by email (trimmed, case-insensitive), newest first, one page at a time.
        Status, PlacedFrom and PlacedTo (UTC dates, inclusive) narrow the search. No match is an
        empty Orders list, not a fault."""
        page = use_cases.find_orders_by_email(
            deps(ctx).uow(),
            use_cases.FindOrdersByEmail(
                email=Email,
                status=model.OrderStatus(Status) if Status else None,
                placed_from=PlacedFrom,
                placed_to=PlacedTo,
                page_size=20 if PageSize is None else PageSize,
                page_number=1 if PageNumber is None else PageNumber,
            ),
        )
        orders = t.Orders(Order=[translate.order(o) for o in page.orders])
        return orders, page.total_count, page.page_number, page.page_size, page.has_more

    @rpc(
        t.required(t.OrderNumberType),
        t.optional(t.EmailType),
        _returns=t.required(t.Order),
        _out_variable_name="Order",
    )
    def GetOrder(ctx, OrderNumber, Email):  # noqa: N802,N803
        """One order by its number. When Email is given it must be the customer's; otherwise the
        answer is the same Client.OrderNotFound fault as for an unknown number."""
        return translate.order(use_cases.get_order(deps(ctx).uow(), OrderNumber, Email))

    @rpc(
        t.required(t.OrderNumberType),
        t.required(t.RequestIdType),
        t.required(t.ReasonType),
        t.optional(t.NoteType),
        _returns=(
            t.required(t.OutcomeType),
            t.required(t.ReasonCodeType),
            t.required(t.MessageType),
            t.required(t.Order),
        ),
        _out_variable_names=_ACTION_OUT,
    )
    def CancelOrder(ctx, OrderNumber, RequestId, Reason, Note):  # noqa: N802,N803
        """Cancel an order while nothing has shipped. A paid order is refunded in full, an
        authorised one voided. Outcome is CANCELLED, ALREADY_CANCELLED or REJECTED (ReasonCode
        ALREADY_SHIPPED). The same RequestId replays the first result."""
        result = use_cases.cancel_order(
            deps(ctx).uow(),
            use_cases.CancelOrder(OrderNumber, RequestId, model.Reason(Reason), Note),
            deps(ctx).clock,
            caller(ctx),
        )
        return result.outcome.value, result.reason_code.value, result.message, translate.order(result.order)

    @rpc(
        t.required(t.OrderNumberType),
        t.required(t.RequestIdType),
        t.required(t.ReasonType),
        t.optional(t.PositiveAmountType),
        t.optional(t.RefundLines),
        t.optional(t.NoteType),
        _returns=(
            t.required(t.OutcomeType),
            t.required(t.ReasonCodeType),
            t.required(t.MessageType),
            t.optional(t.Refund),
            t.required(t.AmountType),
            t.required(t.Order),
        ),
        _out_variable_names=("Outcome", "ReasonCode", "Message", "Refund", "RefundableAmount", "Order"),
    )
    def IssueRefund(ctx, OrderNumber, RequestId, Reason, Amount, Lines, Note):  # noqa: N802,N803
        """Refund an Amount, or Lines (each by LineNumber or Sku, with a Quantity), or, given
        neither, the whole refundable balance. Outcome is REFUNDED or REJECTED with a ReasonCode
        (NOT_PAID, NOTHING_REFUNDABLE, EXCEEDS_REFUNDABLE, EXCEEDS_LINE_QUANTITY, UNKNOWN_LINE).
        The same RequestId replays the first result."""
        lines = tuple(
            model.RefundLineRequest(quantity=line.Quantity, line_number=line.LineNumber, sku=line.Sku)
            for line in (Lines.Line if Lines is not None and Lines.Line else ())
        )
        result = use_cases.issue_refund(
            deps(ctx).uow(),
            use_cases.IssueRefund(OrderNumber, RequestId, model.Reason(Reason), Amount, lines, Note),
            deps(ctx).clock,
            caller(ctx),
        )
        order = result.order
        refund = translate.refund(result.refund, order.currency) if result.refund else None
        return (
            result.outcome.value,
            result.reason_code.value,
            result.message,
            refund,
            order.refundable_amount,
            translate.order(order),
        )
