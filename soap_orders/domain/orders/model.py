"""The order's data: its vocabulary (statuses, reasons, outcome and reason codes), its parts (lines,
shipments, returns, refunds), the figures derived from them, the invariants, and the helpers the
families of actions share.

Entities are plain dataclasses; the database mapping lives in ``adapters.orm`` and depends on
this package, never the reverse. Longer than the other modules of the package because it is the
whole vocabulary of the contract's order documents: each enum is one of their value lists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from .. import money
from ..errors import ValidationError
from ..events import (
    OrderEvent,
    RefundIssued,
)

if TYPE_CHECKING:
    from . import Order


class OrderStatus(str, enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    ON_HOLD = "ON_HOLD"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class FinancialStatus(str, enum.Enum):
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"


class LineStatus(str, enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


class ShipmentStatus(str, enum.Enum):
    LABEL_CREATED = "LABEL_CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELAYED = "DELAYED"
    ATTEMPTED_DELIVERY = "ATTEMPTED_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER"


class ReturnStatus(str, enum.Enum):
    REQUESTED = "REQUESTED"
    LABEL_CREATED = "LABEL_CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    RECEIVED = "RECEIVED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    INSPECTED = "INSPECTED"
    REFUNDED = "REFUNDED"


class WarehouseStatus(str, enum.Enum):
    AWAITING_ARRIVAL = "AWAITING_ARRIVAL"
    RECEIVED = "RECEIVED"
    INSPECTING = "INSPECTING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class ReturnRefundStatus(str, enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"
    DECLINED = "DECLINED"


class RefundStatus(str, enum.Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Origin(str, enum.Enum):
    """Who made a part of an order: the ERP that feeds it in, or a caller acting through the service.

    An upsert from the ERP may update what the ERP made; what the service made is kept."""

    ERP = "ERP"
    SERVICE = "SERVICE"


class Reason(str, enum.Enum):
    """Why an order is cancelled or a refund issued."""

    CUSTOMER = "CUSTOMER"
    FRAUD = "FRAUD"
    INVENTORY = "INVENTORY"
    DECLINED = "DECLINED"
    DAMAGED = "DAMAGED"
    LATE_DELIVERY = "LATE_DELIVERY"
    OTHER = "OTHER"
    #: Refund of the items of a return, issued when the warehouse marks the return refunded.
    RETURN = "RETURN"


class ReplacementReason(str, enum.Enum):
    """Why a replacement order is sent."""

    DAMAGED = "DAMAGED"
    LOST = "LOST"
    WRONG_ITEM = "WRONG_ITEM"
    DEFECTIVE = "DEFECTIVE"
    OTHER = "OTHER"


class ReturnReason(str, enum.Enum):
    """Why the customer sends items back."""

    SIZE = "SIZE"
    DEFECTIVE = "DEFECTIVE"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    WRONG_ITEM = "WRONG_ITEM"
    UNWANTED = "UNWANTED"
    DAMAGED = "DAMAGED"
    OTHER = "OTHER"


class ReturnUpdate(str, enum.Enum):
    """The steps the warehouse or ERP moves a return through."""

    RECEIVED = "RECEIVED"
    INSPECTED = "INSPECTED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"


class OrderType(str, enum.Enum):
    STANDARD = "STANDARD"
    PRE_ORDER = "PRE_ORDER"
    BACKORDER = "BACKORDER"
    SUBSCRIPTION = "SUBSCRIPTION"
    REPLACEMENT = "REPLACEMENT"
    EXCHANGE = "EXCHANGE"


class Channel(str, enum.Enum):
    WEB = "WEB"
    MOBILE_APP = "MOBILE_APP"
    STORE = "STORE"
    PHONE = "PHONE"
    MARKETPLACE = "MARKETPLACE"
    WHOLESALE = "WHOLESALE"


class Outcome(str, enum.Enum):
    """What an action did: the successful answer DG branches on."""

    CANCELLED = "CANCELLED"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"
    ADDRESS_CHANGED = "ADDRESS_CHANGED"
    LINES_CANCELLED = "LINES_CANCELLED"
    REPLACEMENT_ISSUED = "REPLACEMENT_ISSUED"
    RETURN_CREATED = "RETURN_CREATED"
    RETURN_UPDATED = "RETURN_UPDATED"
    SHIPMENT_RECORDED = "SHIPMENT_RECORDED"


class ReasonCode(str, enum.Enum):
    """Machine reason beside an Outcome; ``NONE`` when the action was carried out."""

    NONE = "NONE"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    ALREADY_SHIPPED = "ALREADY_SHIPPED"
    NOT_PAID = "NOT_PAID"
    NOTHING_REFUNDABLE = "NOTHING_REFUNDABLE"
    EXCEEDS_REFUNDABLE = "EXCEEDS_REFUNDABLE"
    EXCEEDS_LINE_QUANTITY = "EXCEEDS_LINE_QUANTITY"
    UNKNOWN_LINE = "UNKNOWN_LINE"
    NOT_SHIPPED = "NOT_SHIPPED"
    NOT_DELIVERED = "NOT_DELIVERED"
    OUTSIDE_RETURN_WINDOW = "OUTSIDE_RETURN_WINDOW"
    EXCEEDS_RETURNABLE = "EXCEEDS_RETURNABLE"
    EXCEEDS_REPLACEABLE = "EXCEEDS_REPLACEABLE"
    UNKNOWN_RETURN = "UNKNOWN_RETURN"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    EXCEEDS_UNSHIPPED = "EXCEEDS_UNSHIPPED"
    LINE_CANCELLED = "LINE_CANCELLED"


CAPTURED_STATUSES = frozenset(
    {FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED}
)
SHIPPED_ORDER_STATUSES = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)
# Line statuses that say every quantity not cancelled has left (and, for the last two, arrived).
SHIPPED_LINE_STATUSES = frozenset({LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.RETURNED})
DELIVERED_LINE_STATUSES = frozenset({LineStatus.DELIVERED, LineStatus.RETURNED})
# Where a return may go next, by the status it has now.
RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnUpdate]] = {
    ReturnStatus.REQUESTED: frozenset({ReturnUpdate.RECEIVED, ReturnUpdate.REJECTED}),
    ReturnStatus.LABEL_CREATED: frozenset({ReturnUpdate.RECEIVED, ReturnUpdate.REJECTED}),
    ReturnStatus.IN_TRANSIT: frozenset({ReturnUpdate.RECEIVED, ReturnUpdate.REJECTED}),
    ReturnStatus.RECEIVED: frozenset({ReturnUpdate.INSPECTED, ReturnUpdate.REFUNDED, ReturnUpdate.REJECTED}),
    ReturnStatus.INSPECTED: frozenset({ReturnUpdate.REFUNDED, ReturnUpdate.REJECTED}),
}
# Longest values of the caller-supplied texts of a return (the same limits as the stored columns).
RETURN_TEXT_LIMITS = {"ReturnTrackingNumber": 64, "CarrierCode": 64, "LabelUrl": 2048}
# Longest values of a recorded shipment's texts (the same limits as the stored columns).
SHIPMENT_TEXT_LIMITS = {
    "ShipmentId": 64, "CarrierName": 100, "CarrierCode": 64, "TrackingNumber": 64, "TrackingUrl": 2048,
}


@dataclass
class Customer:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


@dataclass
class Address:
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None


@dataclass(eq=False)
class OrderLine:
    line_number: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    image_url: str | None = None
    status: LineStatus = LineStatus.PENDING
    quantity_shipped: int = 0
    quantity_cancelled: int = 0
    quantity_refunded: int = 0
    quantity_returned: int = 0
    #: The ERP reports the item cannot be supplied from stock (queues an out-of-stock notification).
    out_of_stock: bool = False
    #: Items sent again in replacement orders, across all of them.
    quantity_replaced: int = 0

    @property
    def open_quantity(self) -> int:
        """Neither shipped nor cancelled: what may still be cancelled."""
        return max(self.quantity - self.quantity_shipped - self.quantity_cancelled, 0)
    #: The part of ``quantity_refunded`` / ``quantity_cancelled`` done through the service: an
    #: upsert may report more, never less, and may not drop or shrink the line below it.
    quantity_refunded_by_service: int = 0
    quantity_cancelled_by_service: int = 0

    @property
    def touched_by_service(self) -> bool:
        return bool(self.quantity_refunded_by_service or self.quantity_cancelled_by_service or self.quantity_replaced)

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def refundable_quantity(self) -> int:
        """Bought minus already refunded: the most a line refund may still take."""
        return self.quantity - self.quantity_refunded

    def check(self) -> None:
        if self.quantity < 1:
            raise ValidationError(f"Line {self.line_number}: Quantity must be at least 1.", "Quantity")
        if self.unit_price < 0:
            raise ValidationError(f"Line {self.line_number}: UnitPrice must not be negative.", "UnitPrice")
        for name in (
            "quantity_shipped", "quantity_cancelled", "quantity_refunded", "quantity_returned", "quantity_replaced"
        ):
            value = getattr(self, name)
            if not 0 <= value <= self.quantity:
                wire = "Quantity" + name.split("_")[1].capitalize()
                raise ValidationError(
                    f"Line {self.line_number}: {wire} must be between 0 and Quantity.", wire
                )


@dataclass(eq=False)
class ShipmentItem:
    sku: str
    quantity: int


@dataclass(eq=False)
class Shipment:
    shipment_id: str
    status: ShipmentStatus
    carrier_name: str | None = None
    carrier_code: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    expected_delivery_date: date | None = None
    delivered_at: datetime | None = None
    items: list[ShipmentItem] = field(default_factory=list)

    @property
    def quantities(self) -> dict[str, int]:
        """The items carried, summed per SKU."""
        summed: dict[str, int] = {}
        for item in self.items:
            summed[item.sku] = summed.get(item.sku, 0) + item.quantity
        return summed

    @property
    def has_left(self) -> bool:
        """True once the parcel is with the carrier (a created label alone is not a shipment)."""
        return self.status is not ShipmentStatus.LABEL_CREATED or self.shipped_at is not None


@dataclass(eq=False)
class ReturnItem:
    sku: str
    quantity: int
    #: The order line returned; absent on returns imported without it (then the SKU tells).
    line_number: int | None = None


@dataclass(eq=False)
class Return:
    return_id: str
    status: ReturnStatus
    created_at: datetime
    reason: str | None = None
    return_tracking_number: str | None = None
    carrier_code: str | None = None
    label_url: str | None = None
    warehouse_status: WarehouseStatus = WarehouseStatus.AWAITING_ARRIVAL
    refund_status: ReturnRefundStatus = ReturnRefundStatus.NOT_STARTED
    items: list[ReturnItem] = field(default_factory=list)
    #: The refund issued when the return was marked refunded.
    refund_id: str | None = None
    origin: Origin = Origin.ERP
    #: SERVICE once UpdateReturn refunded or rejected it (whoever created it): that outcome is kept
    #: whatever a later ERP document says, so a stale copy cannot reopen it to be refunded again.
    settled_by: Origin | None = None


@dataclass(eq=False)
class Refund:
    refund_id: str
    amount: Decimal
    reason: Reason
    status: RefundStatus
    created_at: datetime
    note: str | None = None
    origin: Origin = Origin.ERP

    @property
    def counts(self) -> bool:
        """A failed refund returned no money and does not reduce the refundable balance."""
        return self.status is not RefundStatus.FAILED

    def settle(self) -> None:
        """The payment provider confirmed the money went back: a PENDING refund becomes COMPLETED.
        The amount, and so the order's refundable balance, do not change."""
        if self.status is not RefundStatus.PENDING:
            raise ValidationError(f"Refund {self.refund_id} is {self.status.value}, not PENDING.", "Status")
        self.status = RefundStatus.COMPLETED


@dataclass(frozen=True)
class RefundLineRequest:
    """One line of a per-line refund: identified by its number or its SKU."""

    quantity: int
    line_number: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class LineResult:
    """What became of one requested line of a line cancellation."""

    quantity: int
    line_number: int | None
    sku: str | None
    reason_code: ReasonCode  # NONE when the quantity was cancelled
    message: str

    @property
    def done(self) -> bool:
        return self.reason_code is ReasonCode.NONE


@dataclass(frozen=True)
class Decision:
    """The result of asking an order to do something."""

    outcome: Outcome
    reason_code: ReasonCode
    message: str
    refund: Refund | None = None
    #: Per requested line, for line cancellations.
    lines: tuple[LineResult, ...] = ()
    #: What was only authorised and will no longer be charged (line cancellations).
    released_amount: Decimal | None = None
    #: The new order, for replacements (to be stored beside this one).
    replacement: Order | None = None
    #: The return created or updated.
    return_id: str | None = None


def _same_objects(first: tuple[object, ...], second: tuple[object, ...]) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second, strict=True))


@dataclass(eq=False)
class OrderState:
    """An order's data and invariants; :class:`soap_orders.domain.orders.Order` adds the actions."""

    order_number: str
    customer: Customer
    currency: str
    created_at: datetime
    subtotal: Decimal
    total: Decimal
    shipping_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    discount_total: Decimal = Decimal(0)
    order_type: OrderType = OrderType.STANDARD
    channel: Channel = Channel.WEB
    status: OrderStatus = OrderStatus.PENDING
    financial_status: FinancialStatus = FinancialStatus.PENDING
    shipping_address: Address | None = None
    expected_ship_date: date | None = None
    expected_delivery_date: date | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: Reason | None = None
    #: Who cancelled the order (None while it is not cancelled).
    cancel_origin: Origin | None = None
    #: SERVICE once the shipping address was changed through the service: upserts then keep it.
    address_origin: Origin = Origin.ERP
    lines: list[OrderLine] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    #: When the shipping address was last changed through this service (not by an import).
    address_changed_at: datetime | None = None
    #: For a replacement order: the order it replaces.
    replaces_order_number: str | None = None
    #: Replacement orders issued for this one, oldest first.
    replacement_order_numbers: list[str] = field(default_factory=list)
    #: When the customer's personal data was forgotten (a privacy request, see ``domain.privacy``):
    #: the tombstone that keeps it forgotten when the ERP sends the order again.
    forgotten_at: datetime | None = None
    #: Set on an ERP's record that means to change the order's identity (its currency, customer or
    #: every SKU of its lines); without it such an update is refused (IDENTITY_CHANGED). Not stored.
    replace_identity: bool = False

    # ------------------------------------------------------------------ derived figures

    @property
    def events(self) -> list[OrderEvent]:
        """Events recorded since the order was loaded (not persisted on the order itself)."""
        try:
            recorded: list[OrderEvent] = self.__dict__["_events"]
        except KeyError:
            recorded = self.__dict__["_events"] = []
        return recorded

    @property
    def captured_amount(self) -> Decimal:
        """What the customer was charged: the total once payment is captured, else nothing."""
        return self.total if self.financial_status in CAPTURED_STATUSES else Decimal(0)

    @property
    def refunded_amount(self) -> Decimal:
        amount = sum((r.amount for r in self.refunds if r.counts), Decimal(0))
        return money.quantize(amount, self.currency)

    @property
    def refundable_amount(self) -> Decimal:
        """Paid minus refunded, never below zero."""
        return money.quantize(max(self.captured_amount - self.refunded_amount, Decimal(0)), self.currency)

    @property
    def has_shipped(self) -> bool:
        return (
            self.status in SHIPPED_ORDER_STATUSES
            or any(line.quantity_shipped for line in self.lines)
            or any(shipment.has_left for shipment in self.shipments)
        )

    @property
    def shipped_at(self) -> datetime | None:
        """When the first parcel left, if any has."""
        times = [s.shipped_at for s in self.shipments if s.shipped_at is not None]
        return min(times) if times else None

    def line(self, *, line_number: int | None = None, sku: str | None = None) -> OrderLine | None:
        for line in self.lines:
            if (line_number is None or line.line_number == line_number) and (
                sku is None or line.sku == sku
            ):
                return line
        return None

    # ------------------------------------------------------------------ invariants

    def check(self) -> None:
        """Raise ValidationError when the order's own figures disagree with each other."""
        money.decimal_places(self.currency)
        if not self.order_number.strip():
            raise ValidationError("OrderNumber must not be empty.", "OrderNumber")
        if not self.customer.email or "@" not in self.customer.email:
            raise ValidationError("Customer Email is not an email address.", "Email")
        for name in ("subtotal", "shipping_total", "tax_total", "discount_total", "total"):
            value = getattr(self, name)
            wire = "".join(part.capitalize() for part in name.split("_"))
            setattr(self, name, money.parse_amount(value, self.currency, field=wire))
            if getattr(self, name) < 0:
                raise ValidationError(f"{wire} must not be negative.", wire)
        numbers = [line.line_number for line in self.lines]
        if len(set(numbers)) != len(numbers):
            raise ValidationError("LineNumber values must be unique within an order.", "LineNumber")
        for kind, wire, ids in (
            ("Refunds", "RefundId", [r.refund_id for r in self.refunds]),
            ("Shipments", "ShipmentId", [s.shipment_id for s in self.shipments]),
            ("Returns", "ReturnId", [r.return_id for r in self.returns]),
        ):
            if len(set(ids)) != len(ids):
                raise ValidationError(f"{wire} values must be unique within an order's {kind}.", wire)
        for line in self.lines:
            line.unit_price = money.parse_amount(line.unit_price, self.currency, field="UnitPrice")
            line.check()
        lines_total = sum((line.line_total for line in self.lines), Decimal(0))
        if money.quantize(lines_total, self.currency) != self.subtotal:
            raise ValidationError("Subtotal must equal the sum of the line totals.", "Subtotal")
        expected = self.subtotal + self.shipping_total + self.tax_total - self.discount_total
        if money.quantize(expected, self.currency) != self.total:
            raise ValidationError(
                "Total must equal Subtotal + ShippingTotal + TaxTotal - DiscountTotal.", "Total"
            )
        for refund in self.refunds:
            refund.amount = money.positive_amount(refund.amount, self.currency, field="Refund Amount")
        if self.refunded_amount > self.captured_amount:
            raise ValidationError("Refunds exceed what was paid for the order.", "Refunds")
        self.__dict__["_checked"] = self._checked_values()

    def check_unless_checked(self) -> None:
        """``check``, unless the order passed it and holds the very same values it read since.

        An order read from a record is checked as it is read and again when it is accepted: when
        nothing ``check`` reads has been set anew in between (each value the same object, not
        merely an equal one), the second check would read what the first read and pass; anything
        set since (a total, a line added, a refund's amount) makes it check again."""
        checked = self.__dict__.get("_checked")
        if checked is None or not _same_objects(checked, self._checked_values()):
            self.check()

    def _checked_values(self) -> tuple[object, ...]:
        """Every value ``check`` reads (keep the two together), in a fixed order."""
        values: list[object] = [
            self.order_number, self.currency, self.customer, self.customer.email, self.financial_status,
            self.subtotal, self.shipping_total, self.tax_total, self.discount_total, self.total,
            self.lines, self.refunds, self.shipments, self.returns,
        ]
        for line in self.lines:
            values += (line, line.line_number, line.unit_price, line.quantity, line.quantity_shipped,
                       line.quantity_cancelled, line.quantity_refunded, line.quantity_returned, line.quantity_replaced)
        for refund in self.refunds:
            values += (refund, refund.refund_id, refund.amount, refund.status)
        values += [shipment.shipment_id for shipment in self.shipments]
        values += [return_.return_id for return_ in self.returns]
        return tuple(values)

    # ------------------------------------------------------------------ what has left and arrived

    def shipped_quantity(self, line: OrderLine) -> int:
        """Items of ``line`` that have left; a line whose status says shipped counts all not cancelled."""
        if line.status in SHIPPED_LINE_STATUSES:
            return max(line.quantity_shipped, line.quantity - line.quantity_cancelled)
        return line.quantity_shipped

    @property
    def delivered_at(self) -> datetime | None:
        """When the last delivered parcel arrived, if any delivery time is known."""
        times = [
            s.delivered_at for s in self.shipments if s.status is ShipmentStatus.DELIVERED and s.delivered_at
        ]
        return max(times) if times else None

    @property
    def return_window_start(self) -> datetime:
        """Where the return window starts: the last delivery; when no delivery time is known, the
        first departure, else the order's creation (the earliest the goods can have arrived)."""
        return self.delivered_at or self.shipped_at or self.created_at

    # ------------------------------------------------------------------ helpers of the rules

    def _requested_lines(
        self, wanted: tuple[RefundLineRequest, ...], what: str, action: str
    ) -> tuple[dict[int, int], Decision | None]:
        """Requested quantities summed per line number, or a refusal naming an unknown line."""
        if not wanted:
            raise ValidationError(f"Give at least one line for {action}.", "Lines")
        quantities: dict[int, int] = {}
        refusal = None
        for request in wanted:
            line = self._resolve_line(request, what)
            if line is None:
                refusal = refusal or self._refuse(
                    f"get {action}", ReasonCode.UNKNOWN_LINE, "one of the items is not part of it"
                )
            else:
                quantities[line.line_number] = quantities.get(line.line_number, 0) + request.quantity
        return quantities, refusal

    def _refuse(self, verb: str, code: ReasonCode, why: str) -> Decision:
        return Decision(Outcome.REJECTED, code, f"Order {self.order_number} cannot {verb}: {why}.")

    def _reject(self, code: ReasonCode, why: str) -> Decision:
        return Decision(Outcome.REJECTED, code, f"Order {self.order_number} cannot be refunded: {why}.")

    def _resolve_line(self, wanted: RefundLineRequest, what: str = "refund") -> OrderLine | None:
        if wanted.line_number is None and wanted.sku is None:
            raise ValidationError(f"Each {what} line needs a LineNumber or a Sku.", "Line")
        if wanted.quantity < 1:
            raise ValidationError(f"{what.capitalize()} line Quantity must be at least 1.", "Quantity")
        return self.line(line_number=wanted.line_number, sku=wanted.sku)

    def _lines_refund_amount(self, quantities: dict[int, int]) -> Decimal:
        """The refund owed for line quantities: their value, never more than is still refundable."""
        return min(self._lines_value(quantities), self.refundable_amount)

    def _issue_refund(
        self, quantities: dict[int, int], amount: Decimal, reason: Reason, now: datetime, request_id: str,
        refund_id: str, note: str | None,
    ) -> Refund:
        """Record a refund of ``amount`` (for ``quantities`` of lines, if any) and its event."""
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_refunded += quantity
            line.quantity_refunded_by_service += quantity
        refund = self._add_refund(refund_id, amount, reason, now, note)
        self.updated_at = now
        self.events.append(
            RefundIssued(
                self.order_number, now, refund.refund_id, refund.amount, self.currency, reason.value,
                note, request_id, tuple(sorted(quantities.items())),
            )
        )
        return refund

    def _lines_value(self, quantities: dict[int, int]) -> Decimal:
        """What the given line quantities cost the customer: their share of the goods after the
        order discount, plus their share of tax. Shipping is not part of a line refund."""
        goods = sum(
            (self.line(line_number=n).unit_price * q for n, q in quantities.items()),  # type: ignore[union-attr]
            Decimal(0),
        )
        if self.subtotal > 0:
            goods = goods * (self.subtotal - self.discount_total + self.tax_total) / self.subtotal
        return money.quantize(goods, self.currency)

    def _add_refund(
        self, refund_id: str, amount: Decimal, reason: Reason, now: datetime, note: str | None
    ) -> Refund:
        refund = Refund(refund_id, amount, reason, RefundStatus.PENDING, now, note, Origin.SERVICE)
        self.refunds.append(refund)
        self.financial_status = (
            FinancialStatus.REFUNDED if self.refundable_amount == 0 else FinancialStatus.PARTIALLY_REFUNDED
        )
        return refund

