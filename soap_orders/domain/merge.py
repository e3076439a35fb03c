# Over 500 lines: one plan (_Plan) decides a whole document before the stored order changes; its checks
# and changes per part (lines, parcels, returns, refunds) share what it read, in the order they are checked.
"""Merging an ERP's document of an order into the stored order: merge, never erase.

The ERP owns the order's data: customer, shipping address, lines, prices, totals, statuses, and the
shipments, returns and refunds it reports. The service owns what callers did through it: refunds,
cancellations, returns, address changes (and, later, replacements), each marked with
``Origin.SERVICE``. A merge updates the ERP's part and keeps the service's part; when a document
contradicts the service's part (a refunded line removed, a total below what was refunded, a
cancelled order reported as shipped) the document is refused and the stored order is not touched.

Records with an id (shipments, returns, refunds) are upserted by id and never removed by a document
that leaves them out: an upsert may add and update, a refund once counted stays counted. Lines follow
the document, except that a line refunded or cancelled through the service must stay in it.

``merge_into`` decides first, reading only, and changes the stored order only once the document is
accepted, and then only the attributes whose values differ (so a stored order mapped to a database
is written only where something changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from . import money
from .consistency import (
    Inconsistent,
    Reconciled,
    check_country,
    check_identity,
    reconcile,
)
from .errors import ValidationError
from .events import OrderUpserted
from .orders import (
    CAPTURED_STATUSES,
    RETURN_TRANSITIONS,
    SHIPPED_ORDER_STATUSES,
    Address,
    FinancialStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Origin,
    Refund,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    apply_fulfilment,
)
from .privacy import keep_order_forgotten
from .upserts import UpsertOutcome, UpsertReasonCode


@dataclass(frozen=True)
class MergeResult:
    """The decision on one document. ``field`` names the document's field a refusal is about;
    ``changed`` lists the wire names of the parts of the order that changed."""

    outcome: UpsertOutcome
    reason_code: UpsertReasonCode
    message: str
    field: str | None = None
    changed: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.outcome is not UpsertOutcome.REJECTED

    def with_personal_data_forgotten(self) -> MergeResult:
        """This result of an accepted document whose personal data was set aside."""
        return replace(self, reason_code=UpsertReasonCode.PERSONAL_DATA_FORGOTTEN,
                       message=self.message.rstrip(".") + "; its customer's personal data stays forgotten.")


class _Refused(Exception):
    def __init__(self, code: UpsertReasonCode, field: str, problem: str) -> None:
        super().__init__(problem)
        self.code = code
        self.field = field
        self.problem = problem

    def result(self) -> MergeResult:
        message = f"{self.field}: {self.problem}; the order was not changed."
        return MergeResult(UpsertOutcome.REJECTED, self.code, message, self.field)

    @classmethod
    def of(cls, inconsistent: Inconsistent) -> _Refused:
        return cls(UpsertReasonCode(inconsistent.rule.value), inconsistent.field, inconsistent.problem)


def _accepted(outcome: UpsertOutcome, message: str, derived: tuple[str, ...],
              changed: tuple[str, ...] = ()) -> MergeResult:
    """An accepted document's result; STATE_DERIVED when values derived from its parcels replaced
    what it said."""
    if not derived:
        return MergeResult(outcome, UpsertReasonCode.NONE, message, changed=changed)
    message = message.rstrip(".") + "; derived from its parcels: " + ", ".join(derived) + "."
    return MergeResult(outcome, UpsertReasonCode.STATE_DERIVED, message, derived[0], changed)


# ---------------------------------------------------------------------- entry points


def accept_new(order: Order, *, now: datetime, request_id: str | None = None) -> MergeResult:
    """Check a document for an order not stored yet; on acceptance record ``OrderUpserted``."""
    _as_erp(order)
    order.replace_identity = False  # a new order has no identity to replace; the flag is not kept
    try:
        order.check_unless_checked()  # an order read from a record was checked as it was read
    except ValidationError as error:
        return MergeResult(UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, error.message, error.field)
    try:
        check_country(order)
        reconciled = reconcile(order, order)
    except Inconsistent as inconsistent:
        return _Refused.of(inconsistent).result()
    apply_fulfilment(order, reconciled.fulfilment)
    order.updated_at = order.updated_at or now
    order.events.append(OrderUpserted(order.order_number, now, UpsertOutcome.CREATED.value, request_id, ()))
    return _accepted(UpsertOutcome.CREATED, "The order was created.", reconciled.derived)


def merge_into(stored: Order, incoming: Order, *, now: datetime, request_id: str | None = None) -> MergeResult:
    """Merge the ERP's document ``incoming`` into ``stored`` (the same order number).

    REJECTED and UNCHANGED leave ``stored`` exactly as it was; UPDATED changes only what differs
    and records an ``OrderUpserted`` event naming the parts that changed. ``incoming`` is consumed:
    its objects may become part of ``stored``. The personal data of a forgotten customer stays
    forgotten, whatever the document carries (``PERSONAL_DATA_FORGOTTEN`` says it carried some)."""
    if incoming.order_number != stored.order_number:
        raise ValueError("merge_into needs two versions of the same order")
    set_aside = keep_order_forgotten(stored, incoming)
    result = _merge(stored, incoming, now=now, request_id=request_id)
    return result.with_personal_data_forgotten() if set_aside and result.accepted else result


def _merge(stored: Order, incoming: Order, *, now: datetime, request_id: str | None) -> MergeResult:
    _as_erp(incoming)
    try:
        incoming.check_unless_checked()
    except ValidationError as error:
        return MergeResult(UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, error.message, error.field)
    try:
        plan = _Plan(stored, incoming)
    except _Refused as refused:
        return refused.result()
    changed = plan.apply()
    if incoming.updated_at is not None and incoming.updated_at != stored.updated_at:
        stored.updated_at = incoming.updated_at
        changed.append("UpdatedAt")
    if not changed:
        return MergeResult(UpsertOutcome.UNCHANGED, UpsertReasonCode.NONE, "The order already held this data.")
    if incoming.updated_at is None:
        stored.updated_at = now
    names = tuple(dict.fromkeys(changed))
    stored.events.append(OrderUpserted(stored.order_number, now, UpsertOutcome.UPDATED.value, request_id, names))
    return _accepted(UpsertOutcome.UPDATED, "The order was updated.", plan.reconciled.derived, names)


def _as_erp(order: Order) -> None:
    """A document from the ERP carries nothing made through the service, whatever it claims."""
    for refund in order.refunds:
        refund.origin = Origin.ERP
    for return_ in order.returns:
        return_.origin, return_.settled_by = Origin.ERP, None
    for line in order.lines:
        line.quantity_refunded_by_service = line.quantity_cancelled_by_service = 0
    order.cancel_origin = Origin.ERP if order.status is OrderStatus.CANCELLED else None
    order.address_origin = Origin.ERP


# ---------------------------------------------------------------------- the plan


#: Order fields the ERP owns outright (wire name, attribute).
_ERP_FIELDS: tuple[tuple[str, str], ...] = (
    ("OrderType", "order_type"),
    ("Channel", "channel"),
    ("CreatedAt", "created_at"),
    ("Currency", "currency"),
    ("Subtotal", "subtotal"),
    ("ShippingTotal", "shipping_total"),
    ("TaxTotal", "tax_total"),
    ("DiscountTotal", "discount_total"),
    ("Total", "total"),
    ("ExpectedShipDate", "expected_ship_date"),
    ("ExpectedDeliveryDate", "expected_delivery_date"),
    ("Customer", "customer"),
)
_LINE_FIELDS = (
    "sku", "name", "quantity", "unit_price", "image_url", "quantity_shipped", "quantity_returned", "out_of_stock",
)
_SHIPMENT_FIELDS = (
    "status", "carrier_name", "carrier_code", "tracking_number", "tracking_url", "shipped_at",
    "expected_delivery_date", "delivered_at",
)
#: What the ERP may update on a return made through the service (its processing, not its making).
_RETURN_PROGRESS = ("status", "return_tracking_number", "carrier_code", "label_url", "warehouse_status", "refund_status")
_RETURN_FIELDS = _RETURN_PROGRESS + ("created_at", "reason")
#: What a return's outcome is made of: kept once the service has settled it.
_RETURN_OUTCOME = ("status", "warehouse_status", "refund_status")
#: Statuses of a return whose items are not counted as returned.
_RETURN_NOT_RETURNED = frozenset({ReturnStatus.REJECTED, ReturnStatus.CANCELLED})
_REFUND_FIELDS = ("amount", "reason", "status", "created_at", "note")

T = TypeVar("T")
#: Sets an attribute when its value differs and notes the wire name of what changed.
_Put = Callable[[Any, str, Any, str], None]


class _Plan:
    """The merged values, computed without touching the stored order; raises ``_Refused``."""

    def __init__(self, stored: Order, incoming: Order) -> None:
        self.stored = stored
        self.incoming = incoming
        self.cancelled_by_service = stored.cancel_origin is Origin.SERVICE
        if incoming.currency != stored.currency and stored.refunds:
            raise _Refused(UpsertReasonCode.CURRENCY_CHANGED, "Currency", "cannot change on an order with refunds")
        try:
            check_identity(stored, incoming)
        except Inconsistent as inconsistent:
            raise _Refused.of(inconsistent) from None
        self._check_cancellation()
        self.lines = self._lines()
        self.refunds = self._refunds()
        self._check_payment()
        try:
            check_country(incoming)
            self.reconciled = self._derive()
        except Inconsistent as inconsistent:
            raise _Refused.of(inconsistent) from None

    def _derive(self) -> Reconciled:
        """The lines' shipped quantities and statuses, and the order's status, as they follow from
        every parcel of the order once merged (the stored ones the document leaves out too), put
        into the merged values; what the document said is checked against them."""
        lines = [replace(new, status=values["status"], quantity_cancelled=values["quantity_cancelled"])
                 for _old, new, values in self.lines]
        reported = {shipment.shipment_id: shipment for shipment in self.incoming.shipments}
        parcels = [reported.pop(shipment.shipment_id, shipment) for shipment in self.stored.shipments]
        status = self.stored.status if self.cancelled_by_service else self.incoming.status
        merged = replace(self.incoming, lines=lines, shipments=parcels + list(reported.values()), status=status)
        reconciled = reconcile(merged, self.incoming)
        for _old, new, values in self.lines:
            state = reconciled.fulfilment.lines[new.line_number]
            values["quantity_shipped"], values["status"] = state.shipped, state.status
        return reconciled

    # -- lines

    def _lines(self) -> list[tuple[OrderLine | None, OrderLine, dict[str, Any]]]:
        """(stored line or None, incoming line, merged values) in the document's order."""
        stored_lines = {line.line_number: line for line in self.stored.lines}
        returned: dict[int, int] = {}  # items returned through the service, by line
        for return_ in self.stored.returns:
            # A rejected return took its items back out of the line's returned quantity.
            if return_.origin is Origin.SERVICE and return_.status not in _RETURN_NOT_RETURNED:
                for item in return_.items:
                    if item.line_number is not None:
                        returned[item.line_number] = returned.get(item.line_number, 0) + item.quantity
        # Items of the ERP's returns that the service rejected, which a document that has not caught
        # up still counts as returned (it reports the return as not rejected), by line.
        reported_returns = {return_.return_id: return_ for return_ in self.incoming.returns}
        not_returned: dict[int, int] = {}
        for return_ in self.stored.returns:
            sent = reported_returns.get(return_.return_id)
            if (return_.origin is Origin.ERP and return_.settled_by is Origin.SERVICE
                    and return_.status in _RETURN_NOT_RETURNED
                    and sent is not None and sent.status not in _RETURN_NOT_RETURNED):
                for item in return_.items:
                    # The line UpdateReturn took the items back from (its number, else its SKU).
                    line = self.stored.line(line_number=item.line_number,
                                             sku=None if item.line_number is not None else item.sku)
                    if line is not None:
                        not_returned[line.line_number] = not_returned.get(line.line_number, 0) + item.quantity
        reported = {line.line_number for line in self.incoming.lines}
        for line in self.stored.lines:
            if line.line_number not in reported and line.touched_by_service:
                code, what = _line_conflict(line)
                raise _Refused(code, "Lines", f"line {line.line_number} was {what} through the service and must stay")
        plan = []
        for index, line in enumerate(self.incoming.lines, 1):
            old = stored_lines.get(line.line_number)
            values = {name: getattr(line, name) for name in _LINE_FIELDS}
            by_refund = old.quantity_refunded_by_service if old else 0
            by_cancel = old.quantity_cancelled_by_service if old else 0
            if old is not None and old.touched_by_service:
                code, what = _line_conflict(old)
                if line.sku != old.sku:
                    raise _Refused(code, f"Lines[{index}].Sku", f"cannot change on a line {what} through the service")
                if line.quantity < by_refund:
                    raise _Refused(UpsertReasonCode.LINE_REFUNDED, f"Lines[{index}].Quantity",
                                   "is below the quantity refunded through the service")
                if line.quantity < by_cancel:
                    raise _Refused(UpsertReasonCode.LINE_CANCELLED, f"Lines[{index}].Quantity",
                                   "is below the quantity cancelled through the service")
                if line.quantity < old.quantity_replaced:
                    raise _Refused(UpsertReasonCode.LINE_REPLACED, f"Lines[{index}].Quantity",
                                   "is below the quantity replaced through the service")
                if by_cancel and line.quantity_shipped > line.quantity - by_cancel:
                    raise _Refused(UpsertReasonCode.CANCELLED_ORDER_SHIPPED, f"Lines[{index}].QuantityShipped",
                                   "includes items cancelled through the service")
            reported_returned = max(line.quantity_returned - not_returned.get(line.line_number, 0), 0)
            values["quantity_returned"] = min(max(reported_returned, returned.get(line.line_number, 0)),
                                              line.quantity)
            values["quantity_refunded"] = max(line.quantity_refunded, by_refund)
            values["quantity_cancelled"] = max(line.quantity_cancelled, by_cancel)
            values["quantity_refunded_by_service"] = by_refund
            values["quantity_cancelled_by_service"] = by_cancel
            # quantity_shipped and status are derived from the merged parcels (see _derive).
            values["status"] = LineStatus.CANCELLED if by_cancel and by_cancel >= line.quantity else line.status
            plan.append((old, line, values))
        return plan

    # -- refunds

    def _refunds(self) -> list[tuple[Refund | None, Refund | None, dict[str, Any]]]:
        """(stored refund or None, reported refund or None, merged values): stored ones first."""
        reported = {refund.refund_id: (index, refund) for index, refund in enumerate(self.incoming.refunds, 1)}
        plan: list[tuple[Refund | None, Refund | None, dict[str, Any]]] = []
        for old in self.stored.refunds:
            values = {name: getattr(old, name) for name in _REFUND_FIELDS}
            index, new = reported.pop(old.refund_id, (0, None))
            if new is not None:
                path = f"Refunds[{index}]"
                if old.origin is Origin.SERVICE:
                    if new.amount != old.amount:
                        raise _Refused(UpsertReasonCode.REFUND_CONFLICT, f"{path}.Amount",
                                       "differs from the refund made through the service")
                    if new.status is RefundStatus.FAILED and old.status is not RefundStatus.FAILED:
                        raise _Refused(UpsertReasonCode.REFUND_CONFLICT, f"{path}.Status",
                                       "cannot mark a refund made through the service as failed")
                    if old.status is RefundStatus.PENDING and new.status is RefundStatus.COMPLETED:
                        values["status"] = RefundStatus.COMPLETED  # settled by the payment side
                else:
                    if _counted(new) < _counted(old):
                        field = "Status" if new.status is RefundStatus.FAILED else "Amount"
                        raise _Refused(UpsertReasonCode.REFUND_REDUCED, f"{path}.{field}",
                                       "would lower what has been refunded")
                    values = {name: getattr(new, name) for name in _REFUND_FIELDS}
            plan.append((old, new, values))
        for _index, new in reported.values():
            plan.append((None, new, {name: getattr(new, name) for name in _REFUND_FIELDS}))
        return plan

    @property
    def refunded(self) -> Decimal:
        amount = sum((v["amount"] for _o, _n, v in self.refunds if v["status"] is not RefundStatus.FAILED), Decimal(0))
        return money.quantize(amount, self.incoming.currency)

    @property
    def service_refunds(self) -> bool:
        return any(old is not None and old.origin is Origin.SERVICE for old, _n, _v in self.refunds)

    # -- order-level rules

    def _check_cancellation(self) -> None:
        if not self.cancelled_by_service:
            return
        incoming = self.incoming
        if incoming.status in SHIPPED_ORDER_STATUSES:
            raise _Refused(UpsertReasonCode.CANCELLED_ORDER_SHIPPED, "Status",
                           "reports as shipped an order cancelled through the service")
        for index, line in enumerate(incoming.lines, 1):
            if line.quantity_shipped:
                raise _Refused(UpsertReasonCode.CANCELLED_ORDER_SHIPPED, f"Lines[{index}].QuantityShipped",
                               "reports shipped items on an order cancelled through the service")
        for index, shipment in enumerate(incoming.shipments, 1):
            if shipment.has_left:
                raise _Refused(UpsertReasonCode.CANCELLED_ORDER_SHIPPED, f"Shipments[{index}]",
                               "reports a parcel on its way for an order cancelled through the service")

    def _check_payment(self) -> None:
        refunded = self.refunded
        if refunded <= 0:
            return
        if self.incoming.financial_status not in CAPTURED_STATUSES and not self._keeps_service_void():
            raise _Refused(UpsertReasonCode.TOTAL_BELOW_REFUNDED, "FinancialStatus",
                           "says nothing was charged, but refunds have been made")
        if self.incoming.total < refunded:
            raise _Refused(UpsertReasonCode.TOTAL_BELOW_REFUNDED, "Total", "is less than what has been refunded")

    def _keeps_service_void(self) -> bool:
        """A payment voided by a cancellation through the service stays voided while the ERP still
        reports it as not captured."""
        return (
            self.cancelled_by_service
            and self.stored.financial_status is FinancialStatus.VOIDED
            and self.incoming.financial_status in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED)
        )

    def _financial_status(self) -> FinancialStatus:
        status = self.incoming.financial_status
        if self._keeps_service_void():
            return FinancialStatus.VOIDED
        if self.service_refunds and status in CAPTURED_STATUSES:
            refunded = self.refunded
            if refunded >= self.incoming.total:
                return FinancialStatus.REFUNDED
            if refunded > 0 and status is FinancialStatus.PAID:
                return FinancialStatus.PARTIALLY_REFUNDED
        return status

    # -- applying

    def apply(self) -> list[str]:
        """Write the merged values into the stored order; the wire names of what changed."""
        stored, incoming = self.stored, self.incoming
        changed: list[str] = []

        def put(target: Any, name: str, value: Any, wire: str) -> None:
            if getattr(target, name) != value:
                setattr(target, name, value)
                changed.append(wire)

        for wire, name in _ERP_FIELDS:
            put(stored, name, getattr(incoming, name), wire)
        if stored.address_origin is not Origin.SERVICE and not _same_address(
            stored.shipping_address, incoming.shipping_address
        ):
            stored.shipping_address = incoming.shipping_address
            changed.append("ShippingAddress")
        if not self.cancelled_by_service:
            put(stored, "status", self.reconciled.fulfilment.status, "Status")
            put(stored, "cancelled_at", incoming.cancelled_at, "CancelledAt")
            put(stored, "cancel_reason", incoming.cancel_reason, "CancelReason")
            put(stored, "cancel_origin", incoming.cancel_origin, "Status")
        put(stored, "financial_status", self._financial_status(), "FinancialStatus")

        # Lines: update by number, add new ones, drop the ones the document no longer has.
        kept = {id(old) for old, _new, _values in self.lines if old is not None}
        for dropped in [line for line in stored.lines if id(line) not in kept]:
            stored.lines.remove(dropped)
            changed.append("Lines")
        for old, new, values in self.lines:
            target = new if old is None else old
            if old is None:
                stored.lines.append(new)
                changed.append("Lines")
            for name, value in values.items():
                put(target, name, value, "Lines")

        self._apply_refunds(put, changed)
        _upsert_by_id(stored.shipments, incoming.shipments, lambda s: s.shipment_id, _merge_shipment, put,
                      changed, "Shipments")
        _upsert_by_id(stored.returns, incoming.returns, lambda r: r.return_id, _merge_return, put,
                      changed, "Returns")
        return changed

    def _apply_refunds(self, put: _Put, changed: list[str]) -> None:
        for old, new, values in self.refunds:
            if old is None:
                assert new is not None
                self.stored.refunds.append(new)
                changed.append("Refunds")
                continue
            for name, value in values.items():
                put(old, name, value, "Refunds")


def _line_conflict(line: OrderLine) -> tuple[UpsertReasonCode, str]:
    if line.quantity_refunded_by_service:
        return UpsertReasonCode.LINE_REFUNDED, "refunded"
    if line.quantity_cancelled_by_service:
        return UpsertReasonCode.LINE_CANCELLED, "cancelled"
    return UpsertReasonCode.LINE_REPLACED, "replaced"


def _counted(refund: Refund) -> Decimal:
    return refund.amount if refund.counts else Decimal(0)


def _same_address(a: Address | None, b: Address | None) -> bool:
    """Equal addresses; no address and an address of empty fields are the same."""
    return _address_key(a) == _address_key(b)


def _address_key(address: Address | None) -> tuple[Any, ...] | None:
    if address is None:
        return None
    key = (address.name, address.line1, address.line2, address.city, address.region, address.postal_code,
           address.country_code, address.phone)
    return None if all(part is None for part in key) else key


def _upsert_by_id(
    stored: list[T],
    reported: list[T],
    key: Callable[[T], str],
    merge: Callable[[T, T, _Put, list[str], str], None],
    put: _Put,
    changed: list[str],
    wire: str,
) -> None:
    """Update the stored records the document reports by id, add the new ones, keep the rest."""
    by_id = {key(item): item for item in stored}
    for item in reported:
        old = by_id.get(key(item))
        if old is None:
            stored.append(item)
            changed.append(wire)
        else:
            merge(old, item, put, changed, wire)


def _merge_shipment(old: Shipment, new: Shipment, put: _Put, changed: list[str], wire: str) -> None:
    for name in _SHIPMENT_FIELDS:
        put(old, name, getattr(new, name), wire)
    _replace_items(old.items, new.items, put, changed, wire)


def _merge_return(old: Return, new: Return, put: _Put, changed: list[str], wire: str) -> None:
    """A document updates a return by id, but never reopens one that has reached an end.

    A return the service settled (refunded or rejected it), whoever created it, keeps its outcome
    and its items whatever a document says; and no document moves a return that has ended
    (refunded, rejected, completed, cancelled) back to a status from which it could be refunded:
    a copy that has not caught up would otherwise reopen it, to be refunded twice (or its rejected
    items counted as returned). The ERP opens a new return instead."""
    ended = old.status not in RETURN_TRANSITIONS
    keep_outcome = (
        old.settled_by is Origin.SERVICE
        or (old.origin is Origin.SERVICE and ended)
        or (ended and new.status in RETURN_TRANSITIONS)
    )
    fields = _RETURN_PROGRESS if old.origin is Origin.SERVICE else _RETURN_FIELDS
    for name in fields:
        if not (keep_outcome and name in _RETURN_OUTCOME):
            put(old, name, getattr(new, name), wire)
    if old.origin is not Origin.SERVICE and not keep_outcome:
        _replace_items(old.items, new.items, put, changed, wire)


def _replace_items(
    old: list[Any], new: Iterable[ShipmentItem | ReturnItem], put: _Put, changed: list[str], wire: str
) -> None:
    new = list(new)
    def key(item: Any) -> tuple[Any, ...]:
        return item.sku, item.quantity, getattr(item, "line_number", None)

    if [key(i) for i in old] == [key(i) for i in new]:
        return
    # Update in place as far as both go, then add or drop the rest: no row is deleted and re-inserted.
    for target, source in zip(old, new, strict=False):
        put(target, "sku", source.sku, wire)
        put(target, "quantity", source.quantity, wire)
        if hasattr(source, "line_number"):
            put(target, "line_number", source.line_number, wire)
    if len(new) > len(old):
        old.extend(new[len(old):])
    else:
        del old[len(new):]
    changed.append(wire)
