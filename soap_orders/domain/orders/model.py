"""Orders and everything hanging off them, with the rules for cancelling and refunding.

Entities are plain dataclasses; the database mapping lives in ``adapters.orm`` and depends on
this module, never the reverse.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from .. import addresses, money
from ..errors import ValidationError
from ..events import (
    OrderCancelled,
    OrderEvent,
    OrderLinesCancelled,
    RefundIssued,
    ReplacementIssued,
    ReplacementOrderCreated,
    ReturnCreated,
    ReturnUpdated,
    ShipmentRecorded,
    ShippingAddressChanged,
)


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


@dataclass(eq=False)
class Order:
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

    # ------------------------------------------------------------------ rules

    def cancel(
        self, *, reason: Reason, now: datetime, request_id: str, refund_id: str, note: str | None = None
    ) -> Decision:
        """Cancel the order while nothing has shipped; refund what was paid, void what was not."""
        if self.status is OrderStatus.CANCELLED:
            return Decision(
                Outcome.ALREADY_CANCELLED,
                ReasonCode.ALREADY_CANCELLED,
                f"Order {self.order_number} was already cancelled.",
            )
        if self.has_shipped:
            return Decision(
                Outcome.REJECTED,
                ReasonCode.ALREADY_SHIPPED,
                f"Order {self.order_number} can no longer be cancelled because it has shipped.",
            )
        refund = None
        refundable = self.refundable_amount
        if refundable > 0:
            refund = self._add_refund(refund_id, refundable, reason, now, note)
        elif self.financial_status in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED):
            self.financial_status = FinancialStatus.VOIDED
        self.status = OrderStatus.CANCELLED
        for line in self.lines:
            line.status = LineStatus.CANCELLED
            line.quantity_cancelled = line.quantity - line.quantity_shipped
            line.quantity_cancelled_by_service = line.quantity_cancelled
        self.cancelled_at = self.updated_at = now
        self.cancel_reason = reason
        self.cancel_origin = Origin.SERVICE
        self.events.append(
            OrderCancelled(
                self.order_number, now, reason.value, note, request_id,
                refund.refund_id if refund else None, refund.amount if refund else None,
            )
        )
        message = f"Order {self.order_number} has been cancelled."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        return Decision(Outcome.CANCELLED, ReasonCode.NONE, message, refund)

    def refund(
        self,
        *,
        reason: Reason,
        now: datetime,
        request_id: str,
        refund_id: str,
        amount: object | None = None,
        lines: tuple[RefundLineRequest, ...] = (),
        note: str | None = None,
    ) -> Decision:
        """Refund an amount, some lines, or (given neither) the whole refundable balance."""
        if amount is not None and lines:
            raise ValidationError("Give either Amount or Lines, not both.", "Amount")
        requested = None if amount is None else money.positive_amount(amount, self.currency)
        if self.financial_status not in CAPTURED_STATUSES:
            return self._reject(ReasonCode.NOT_PAID, "nothing has been charged for it yet")
        refundable = self.refundable_amount
        if refundable <= 0:
            return self._reject(ReasonCode.NOTHING_REFUNDABLE, "it has already been refunded in full")
        line_quantities: dict[int, int] = {}
        if lines:
            for wanted in lines:
                line = self._resolve_line(wanted)
                if line is None:
                    return self._reject(ReasonCode.UNKNOWN_LINE, "one of the items is not part of it")
                line_quantities[line.line_number] = line_quantities.get(line.line_number, 0) + wanted.quantity
            for number, quantity in line_quantities.items():
                line = self.line(line_number=number)
                assert line is not None
                if quantity > line.refundable_quantity:
                    return self._reject(
                        ReasonCode.EXCEEDS_LINE_QUANTITY,
                        f"line {number} has only {line.refundable_quantity} item(s) left to refund",
                    )
            requested = self._lines_refund_amount(line_quantities)
            if requested <= 0:
                return self._reject(ReasonCode.NOTHING_REFUNDABLE, "those items were free of charge")
        elif requested is None:
            requested = refundable
        if requested > refundable:
            return self._reject(
                ReasonCode.EXCEEDS_REFUNDABLE,
                f"at most {money.format_amount(refundable, self.currency)} can be refunded",
            )
        refund = self._issue_refund(line_quantities, requested, reason, now, request_id, refund_id, note)
        return Decision(
            Outcome.REFUNDED,
            ReasonCode.NONE,
            f"A refund of {money.format_amount(refund.amount, self.currency)} has been issued "
            f"for order {self.order_number}.",
            refund,
        )

    # ------------------------------------------------------------------ rules: address, lines, replacements, returns

    def shipped_quantity(self, line: OrderLine) -> int:
        """Items of ``line`` that have left; a line whose status says shipped counts all not cancelled."""
        if line.status in SHIPPED_LINE_STATUSES:
            return max(line.quantity_shipped, line.quantity - line.quantity_cancelled)
        return line.quantity_shipped

    def delivered_quantity(self, line: OrderLine) -> int:
        """Items of ``line`` known to have arrived, by the rule of :func:`derive_fulfilment`: what
        DELIVERED parcels carried to it, and its items shipped without a parcel once the line or the
        order says delivered."""
        return derive_fulfilment(self).lines[line.line_number].delivered

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

    def change_shipping_address(self, address: Address, *, now: datetime, request_id: str) -> Decision:
        """Send the order somewhere else, while nothing has shipped."""
        new = addresses.validated(address)
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("have its address changed", ReasonCode.ALREADY_CANCELLED, "it was cancelled")
        if self.has_shipped:
            return self._refuse("have its address changed", ReasonCode.ALREADY_SHIPPED, "it has already shipped")
        old = self.shipping_address
        self.shipping_address = new
        self.address_origin = Origin.SERVICE
        self.address_changed_at = self.updated_at = now
        self.events.append(
            ShippingAddressChanged(
                self.order_number, now, request_id, None if old is None else asdict(old), asdict(new)
            )
        )
        return Decision(
            Outcome.ADDRESS_CHANGED, ReasonCode.NONE, f"The shipping address of order {self.order_number} was changed."
        )

    def cancel_lines(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: Reason,
        now: datetime,
        request_id: str,
        refund_id: str,
        note: str | None = None,
    ) -> Decision:
        """Cancel quantities of lines not yet shipped; each requested line is cancelled whole or refused.

        What was paid for them is refunded as a line refund is; what was only authorised is released.
        Cancelling the last open item of an order that has not shipped cancels the order, and refunds
        everything still refundable (shipping included)."""
        if not wanted:
            raise ValidationError("Give at least one line to cancel.", "Lines")
        resolved = [(request, self._resolve_line(request, "cancel")) for request in wanted]
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("be cancelled", ReasonCode.ALREADY_CANCELLED, "it was already cancelled")
        results: list[LineResult] = []
        quantities: dict[int, int] = {}
        for request, line in resolved:
            code, why = ReasonCode.NONE, ""
            if line is None:
                code, why = ReasonCode.UNKNOWN_LINE, "is not part of the order"
            else:
                already = quantities.get(line.line_number, 0)
                total = already + request.quantity
                if total <= line.open_quantity:
                    quantities[line.line_number] = total
                elif total <= line.quantity - line.quantity_cancelled:
                    left = line.open_quantity - already
                    code, why = ReasonCode.ALREADY_SHIPPED, f"has only {left} item(s) not shipped"
                elif line.quantity_cancelled == line.quantity:
                    code, why = ReasonCode.ALREADY_CANCELLED, "was already cancelled"
                else:
                    left = max(line.open_quantity - already, 0)
                    code, why = ReasonCode.EXCEEDS_LINE_QUANTITY, f"has only {left} item(s) left to cancel"
            label = f"line {line.line_number}" if line is not None else "the line"
            message = f"Not cancelled: {label} {why}." if why else f"Cancelled {request.quantity} item(s) of {label}."
            results.append(LineResult(request.quantity, request.line_number, request.sku, code, message))
        if not quantities:
            first = next(r for r in results if not r.done)
            return Decision(
                Outcome.REJECTED, first.reason_code,
                f"No line of order {self.order_number} could be cancelled.", lines=tuple(results),
            )
        untracked = untracked_shipments(self)
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_cancelled += quantity
            line.quantity_cancelled_by_service += quantity
            if line.quantity_cancelled == line.quantity:
                line.status = LineStatus.CANCELLED
        closes = all(line.open_quantity == 0 for line in self.lines)
        cancels_order = closes and not self.has_shipped
        refund = None
        released = None
        if self.financial_status in CAPTURED_STATUSES:
            units = {
                n: min(q, self.line(line_number=n).refundable_quantity)  # type: ignore[union-attr]
                for n, q in quantities.items()
            }
            units = {n: q for n, q in units.items() if q > 0}
            amount = self.refundable_amount if cancels_order else self._lines_refund_amount(units)
            if amount > 0:
                refund = self._issue_refund(units, amount, reason, now, request_id, refund_id, note)
        elif self.financial_status in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED):
            released = self.total if cancels_order else min(self._lines_value(quantities), self.total)
            if cancels_order:
                self.financial_status = FinancialStatus.VOIDED
        if cancels_order:
            self.status = OrderStatus.CANCELLED
            self.cancelled_at = now
            self.cancel_reason = reason
            self.cancel_origin = Origin.SERVICE
        else:
            # What is left open may all have shipped (or arrived): the lines and the order follow.
            apply_fulfilment(self, derive_fulfilment(self, untracked))
        self.updated_at = now
        self.events.append(
            OrderLinesCancelled(
                self.order_number, now, request_id, reason.value, note, tuple(sorted(quantities.items())),
                refund.refund_id if refund else None, released, cancels_order,
            )
        )
        if cancels_order:
            self.events.append(OrderCancelled(self.order_number, now, reason.value, note, request_id, None, None))
        message = f"Items of order {self.order_number} were cancelled."
        if cancels_order:
            message = f"Order {self.order_number} has been cancelled: no item was left to send."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        if any(not r.done for r in results):
            message += " Some lines could not be cancelled."
        return Decision(
            Outcome.LINES_CANCELLED, ReasonCode.NONE, message, refund, lines=tuple(results), released_amount=released
        )

    def issue_replacement(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: ReplacementReason,
        now: datetime,
        request_id: str,
        replacement_number: str,
        note: str | None = None,
    ) -> Decision:
        """Send shipped items again in a new order that charges nothing, linked both ways.

        Per line, all replacements together never exceed what was shipped."""
        quantities, refusal = self._requested_lines(wanted, "replacement", "a replacement")
        if not any(self.shipped_quantity(line) for line in self.lines):
            return self._refuse("get a replacement", ReasonCode.NOT_SHIPPED, "nothing of it has shipped yet")
        if refusal is not None:
            return refusal
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            left = self.shipped_quantity(line) - line.quantity_replaced
            if quantity > left:
                return self._refuse(
                    "get a replacement", ReasonCode.EXCEEDS_REPLACEABLE,
                    f"line {number} has only {max(left, 0)} shipped item(s) left to replace",
                )
        zero = money.quantize(Decimal(0), self.currency)
        new_lines = []
        for position, (number, quantity) in enumerate(quantities.items(), 1):
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_replaced += quantity
            new_lines.append(OrderLine(position, line.sku, line.name, quantity, zero, line.image_url))
        address = self.shipping_address
        replacement = Order(
            order_number=replacement_number,
            customer=Customer(**asdict(self.customer)),
            currency=self.currency,
            created_at=now,
            subtotal=zero,
            total=zero,
            shipping_total=zero,
            tax_total=zero,
            discount_total=zero,
            order_type=OrderType.REPLACEMENT,
            channel=self.channel,
            status=OrderStatus.PENDING,
            financial_status=FinancialStatus.PAID,
            shipping_address=None if address is None else Address(**asdict(address)),
            updated_at=now,
            lines=new_lines,
            replaces_order_number=self.order_number,
        )
        replacement.events.append(
            ReplacementOrderCreated(replacement_number, now, request_id, self.order_number, reason.value)
        )
        self.replacement_order_numbers = [*self.replacement_order_numbers, replacement_number]
        self.updated_at = now
        self.events.append(
            ReplacementIssued(
                self.order_number, now, request_id, replacement_number, reason.value, note,
                tuple(sorted(quantities.items())),
            )
        )
        return Decision(
            Outcome.REPLACEMENT_ISSUED, ReasonCode.NONE,
            f"Replacement order {replacement_number} was created for order {self.order_number}.",
            replacement=replacement,
        )

    def create_return(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: ReturnReason,
        now: datetime,
        window: timedelta,
        request_id: str,
        return_id: str,
        return_tracking_number: str | None = None,
        carrier_code: str | None = None,
        label_url: str | None = None,
        note: str | None = None,
    ) -> Decision:
        """Open a return (RMA) for delivered items within the return window.

        Per line, open and completed returns together never exceed what was delivered."""
        texts = _return_texts(return_tracking_number, carrier_code, label_url)
        quantities, refusal = self._requested_lines(wanted, "return", "a return")
        if not any(self.delivered_quantity(line) for line in self.lines):
            return self._refuse("get a return", ReasonCode.NOT_DELIVERED, "nothing of it has been delivered yet")
        if refusal is not None:
            return refusal
        if now - self.return_window_start > window:
            return self._refuse(
                "get a return", ReasonCode.OUTSIDE_RETURN_WINDOW,
                f"items can be returned only within {window.days} days of delivery",
            )
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            delivered = self.delivered_quantity(line)
            if delivered == 0:
                return self._refuse("get a return", ReasonCode.NOT_DELIVERED, f"line {number} has not been delivered")
            left = delivered - line.quantity_returned
            if quantity > left:
                return self._refuse(
                    "get a return", ReasonCode.EXCEEDS_RETURNABLE,
                    f"line {number} has only {max(left, 0)} delivered item(s) left to return",
                )
        items = []
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_returned += quantity
            items.append(ReturnItem(line.sku, quantity, number))
        tracking, carrier, label = texts
        status = ReturnStatus.LABEL_CREATED if label else ReturnStatus.REQUESTED
        self.returns.append(
            Return(return_id, status, now, reason.value, tracking, carrier, label, items=items, origin=Origin.SERVICE)
        )
        self.updated_at = now
        self.events.append(
            ReturnCreated(
                self.order_number, now, request_id, return_id, reason.value, note,
                tuple(sorted(quantities.items())), tracking, carrier, label,
            )
        )
        return Decision(
            Outcome.RETURN_CREATED, ReasonCode.NONE,
            f"Return {return_id} was created for order {self.order_number}.", return_id=return_id,
        )

    def update_return(
        self,
        return_id: str,
        status: ReturnUpdate,
        *,
        now: datetime,
        request_id: str,
        refund_id: str,
        note: str | None = None,
    ) -> Decision:
        """Move a return on: received, inspected, refunded (its lines, as a line refund is) or rejected."""
        found = next((r for r in self.returns if r.return_id == return_id), None)
        if found is None:
            return self._refuse(
                "have that return updated", ReasonCode.UNKNOWN_RETURN, "it has no return with that ReturnId"
            )
        if status not in RETURN_TRANSITIONS.get(found.status, frozenset()):
            return Decision(
                Outcome.REJECTED, ReasonCode.INVALID_TRANSITION,
                f"Return {return_id} of order {self.order_number} is {found.status.value} "
                f"and cannot become {status.value}.",
                return_id=return_id,
            )
        old = found.status
        refund = None
        if status is ReturnUpdate.REFUNDED:
            quantities: dict[int, int] = {}
            for item in found.items:
                line = self._return_line(item)
                if line is None:
                    return self._refuse(
                        "have that return refunded", ReasonCode.UNKNOWN_LINE, "an item of the return is not part of it"
                    )
                quantities[line.line_number] = quantities.get(line.line_number, 0) + item.quantity
            decision = self.refund(
                reason=Reason.RETURN, now=now, request_id=request_id, refund_id=refund_id, note=note,
                lines=tuple(RefundLineRequest(q, line_number=n) for n, q in quantities.items()),
            )
            if decision.outcome is not Outcome.REFUNDED:
                return replace(decision, return_id=return_id)
            refund = decision.refund
            assert refund is not None
            found.status, found.refund_id = ReturnStatus.REFUNDED, refund.refund_id
            found.warehouse_status, found.refund_status = WarehouseStatus.ACCEPTED, ReturnRefundStatus.REFUNDED
            found.settled_by = Origin.SERVICE
        elif status is ReturnUpdate.REJECTED:
            for item in found.items:
                line = self._return_line(item)
                if line is not None:
                    line.quantity_returned = max(line.quantity_returned - item.quantity, 0)
            found.status = ReturnStatus.REJECTED
            found.warehouse_status, found.refund_status = WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED
            found.settled_by = Origin.SERVICE
        elif status is ReturnUpdate.RECEIVED:
            found.status, found.warehouse_status = ReturnStatus.RECEIVED, WarehouseStatus.RECEIVED
        else:
            found.status, found.warehouse_status = ReturnStatus.INSPECTED, WarehouseStatus.ACCEPTED
        self.updated_at = now
        self.events.append(
            ReturnUpdated(
                self.order_number, now, request_id, return_id, old.value, found.status.value, note,
                refund.refund_id if refund else None,
            )
        )
        message = f"Return {return_id} of order {self.order_number} is now {found.status.value}."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        return Decision(Outcome.RETURN_UPDATED, ReasonCode.NONE, message, refund, return_id=return_id)

    def record_shipment(self, shipment: Shipment, *, now: datetime, request_id: str) -> Decision:
        """Create a shipment, or update the one with the same ShipmentId, as the ERP reports it.

        A new shipment's quantities (an updated one's increase) never exceed what is unshipped on
        the line (bought minus shipped minus cancelled); items of a cancelled line or order cannot
        ship and an unknown SKU is refused. The items of every recorded shipment count as shipped.
        The lines and the order then follow from the parcels by the one rule of
        :func:`derive_fulfilment` (a line SHIPPED when all its items not cancelled have shipped,
        DELIVERED when the parcels carrying them are; the order PARTIALLY_SHIPPED, SHIPPED, DELIVERED).
        Fields left out of an update keep their values, and empty Items keep the items."""
        incoming = _checked_shipment(shipment)
        found = next((s for s in self.shipments if s.shipment_id == incoming.shipment_id), None)
        if found is None and not incoming.items:
            raise ValidationError("A new shipment needs at least one item.", "Items")
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("ship", ReasonCode.ALREADY_CANCELLED, "it was cancelled")
        old_quantities = found.quantities if found is not None else {}
        new_quantities = incoming.quantities if incoming.items else old_quantities
        for sku in sorted(new_quantities):
            lines = [line for line in self.lines if line.sku == sku]
            if not lines:
                return self._refuse("ship", ReasonCode.UNKNOWN_LINE, "one of the items is not part of it")
            more = new_quantities[sku] - old_quantities.get(sku, 0)
            if more <= 0:
                continue
            unshipped = sum(self._unshipped(line) for line in lines)
            if unshipped == 0 and all(line.quantity_cancelled >= line.quantity for line in lines):
                return self._refuse("ship", ReasonCode.LINE_CANCELLED, f"the items of SKU {sku} were cancelled")
            if more > unshipped:
                return self._refuse(
                    "ship", ReasonCode.EXCEEDS_UNSHIPPED,
                    f"SKU {sku} has only {unshipped} item(s) left to ship",
                )
        untracked = untracked_shipments(self)
        old_status = None if found is None else found.status
        if found is None:
            found = incoming
            self.shipments.append(found)
        else:
            for name in ("carrier_name", "carrier_code", "tracking_number", "tracking_url", "shipped_at",
                         "expected_delivery_date", "delivered_at"):
                value = getattr(incoming, name)
                if value is not None:
                    setattr(found, name, value)
            found.status = incoming.status
            if incoming.items:
                found.items = incoming.items
        if found.shipped_at is None and found.has_left:
            found.shipped_at = now
        if found.status is ShipmentStatus.DELIVERED and found.delivered_at is None:
            found.delivered_at = now
        old_order_status = self.status
        apply_fulfilment(self, derive_fulfilment(self, untracked))
        self.updated_at = now
        self.events.append(
            ShipmentRecorded(
                self.order_number, now, request_id, found.shipment_id,
                None if old_status is None else old_status.value, found.status.value,
                tuple(sorted(found.quantities.items())), found.tracking_number, found.carrier_code,
                old_order_status.value, self.status.value,
            )
        )
        verb = "recorded" if old_status is None else "updated"
        return Decision(
            Outcome.SHIPMENT_RECORDED, ReasonCode.NONE,
            f"Shipment {found.shipment_id} of order {self.order_number} was {verb}: it is {found.status.value} "
            f"and the order is {self.status.value}.",
        )

    def _unshipped(self, line: OrderLine) -> int:
        """Items of ``line`` neither shipped nor cancelled."""
        return max(line.quantity - self.shipped_quantity(line) - line.quantity_cancelled, 0)

    def _return_line(self, item: ReturnItem) -> OrderLine | None:
        if item.line_number is not None:
            return self.line(line_number=item.line_number)
        return self.line(sku=item.sku)

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

    # ------------------------------------------------------------------ helpers of the rules

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


# ---------------------------------------------------------------------- line state: the one rule


@dataclass(frozen=True)
class Untracked:
    """Items of a line shipped with no parcel of the order carrying them: what an ERP that keeps no
    parcel detail reports in a line's QuantityShipped (or Status), and whether they have arrived."""

    quantity: int
    delivered: bool = False


@dataclass(frozen=True)
class LineState:
    """A line's state as it follows from the order's parcels (and the untracked items beside them)."""

    shipped: int
    delivered: int
    status: LineStatus
    #: The items of the line that parcels carry (a part of ``shipped``).
    carried: int = 0


@dataclass(frozen=True)
class Fulfilment:
    """What follows from an order's parcels: each line's state, by line number, and the order's status.
    ``excess`` holds, by SKU, items that parcels carry beyond what the lines of that SKU ordered and
    did not cancel (none in a consistent order)."""

    lines: dict[int, LineState]
    status: OrderStatus
    excess: dict[str, int] = field(default_factory=dict)


def parcel_quantities(shipments: list[Shipment], *, delivered: bool = False) -> dict[str, int]:
    """Items carried by the parcels (only the DELIVERED ones when ``delivered``), summed per SKU.
    Every recorded parcel counts, from its label on: once in a parcel, an item is no longer open."""
    summed: dict[str, int] = {}
    for shipment in shipments:
        if delivered and shipment.status is not ShipmentStatus.DELIVERED:
            continue
        for sku, quantity in shipment.quantities.items():
            summed[sku] = summed.get(sku, 0) + quantity
    return summed


def untracked_shipments(order: Order) -> dict[int, Untracked]:
    """The items the order's lines count as shipped beyond what its parcels carry, by line number:
    the part of a stored line's state that no parcel explains (an ERP's word, kept as it was)."""
    state = derive_fulfilment(order, {})
    untracked = {}
    for line in order.lines:
        beyond = order.shipped_quantity(line) - state.lines[line.line_number].carried
        if beyond > 0:
            delivered = line.status in DELIVERED_LINE_STATUSES or order.status is OrderStatus.DELIVERED
            untracked[line.line_number] = Untracked(beyond, delivered)
    return untracked


def derive_fulfilment(order: Order, untracked: dict[int, Untracked] | None = None) -> Fulfilment:
    """The one rule by which lines and the order follow from the order's parcels.

    Per SKU, the items of the order's parcels go to the lines of that SKU in line-number order,
    each taking at most its items not cancelled (less its untracked items). A line's shipped
    quantity is what parcels carry to it plus its untracked items; its delivered quantity what
    DELIVERED parcels carry to it (the untracked ones too, when they are known to have arrived).
    Its status: CANCELLED when every item was cancelled; DELIVERED when every item not cancelled
    was delivered (RETURNED, when it says so, stays RETURNED); SHIPPED when every item not
    cancelled has shipped; PROCESSING when part of them has, or when it claims a shipped status
    it can no longer claim; otherwise the status it has. The order, unless CANCELLED: DELIVERED or SHIPPED when every
    line not cancelled is; PARTIALLY_SHIPPED when some items have shipped; otherwise the status it
    has (a shipped status it can no longer claim becomes PROCESSING).

    ``untracked`` defaults to what :func:`untracked_shipments` finds in the order as it is."""
    if untracked is None:
        untracked = untracked_shipments(order)
    carried = parcel_quantities(order.shipments)
    arrived = parcel_quantities(order.shipments, delivered=True)
    states: dict[int, LineState] = {}
    for line in sorted(order.lines, key=lambda line: line.line_number):
        wanted = max(line.quantity - line.quantity_cancelled, 0)
        extra = untracked.get(line.line_number, Untracked(0))
        own = min(extra.quantity, wanted)
        by_parcel = min(carried.get(line.sku, 0), wanted - own)
        carried[line.sku] = carried.get(line.sku, 0) - by_parcel
        came = min(arrived.get(line.sku, 0), by_parcel)
        arrived[line.sku] = arrived.get(line.sku, 0) - came
        shipped = own + by_parcel
        delivered = came + (own if extra.delivered else 0)
        states[line.line_number] = LineState(shipped, delivered, _line_status(line, wanted, shipped, delivered),
                                             by_parcel)
    excess = {sku: quantity for sku, quantity in carried.items() if quantity > 0}
    return Fulfilment(states, _order_status(order, states), excess)


def _line_status(line: OrderLine, wanted: int, shipped: int, delivered: int) -> LineStatus:
    if wanted == 0:
        return LineStatus.CANCELLED
    if shipped >= wanted:
        if delivered >= shipped:
            return LineStatus.RETURNED if line.status is LineStatus.RETURNED else LineStatus.DELIVERED
        return LineStatus.SHIPPED
    if line.status in SHIPPED_LINE_STATUSES or (shipped and line.status is LineStatus.PENDING):
        return LineStatus.PROCESSING
    return line.status


def _order_status(order: Order, states: dict[int, LineState]) -> OrderStatus:
    if order.status is OrderStatus.CANCELLED:
        return order.status
    open_lines = [state for state in states.values() if state.status is not LineStatus.CANCELLED]
    if open_lines and all(state.status in DELIVERED_LINE_STATUSES for state in open_lines):
        return OrderStatus.DELIVERED
    if open_lines and all(state.status in SHIPPED_LINE_STATUSES for state in open_lines):
        return OrderStatus.SHIPPED
    if any(state.shipped for state in states.values()):
        return OrderStatus.PARTIALLY_SHIPPED
    if order.status in SHIPPED_ORDER_STATUSES:
        return OrderStatus.PROCESSING
    return order.status


def apply_fulfilment(order: Order, fulfilment: Fulfilment) -> None:
    """Store what :func:`derive_fulfilment` found: each line's shipped quantity and status, and the order's."""
    for line in order.lines:
        state = fulfilment.lines[line.line_number]
        line.quantity_shipped = state.shipped
        line.status = state.status
    order.status = fulfilment.status


def _checked_shipment(shipment: Shipment) -> Shipment:
    """The shipment with its texts stripped and checked, and its items by SKU with positive quantities."""
    texts = {}
    for wire, name in (("ShipmentId", "shipment_id"), ("CarrierName", "carrier_name"),
                       ("CarrierCode", "carrier_code"), ("TrackingNumber", "tracking_number"),
                       ("TrackingUrl", "tracking_url")):
        value = (getattr(shipment, name) or "").strip() or None
        if value is not None:
            if len(value) > SHIPMENT_TEXT_LIMITS[wire]:
                raise ValidationError(f"{wire} must be at most {SHIPMENT_TEXT_LIMITS[wire]} characters.", wire)
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValidationError(f"{wire} must not contain control characters.", wire)
        texts[name] = value
    if texts["shipment_id"] is None:
        raise ValidationError("ShipmentId must not be empty.", "ShipmentId")
    url = texts["tracking_url"]
    if url is not None and not url.lower().startswith(("https://", "http://")):
        raise ValidationError("TrackingUrl must be an http:// or https:// URL.", "TrackingUrl")
    items = []
    for item in shipment.items:
        sku = (item.sku or "").strip()
        if not sku:
            raise ValidationError("Each shipment item needs a Sku.", "Sku")
        if item.quantity < 1:
            raise ValidationError("Shipment item Quantity must be at least 1.", "Quantity")
        items.append(ShipmentItem(sku, item.quantity))
    return Shipment(
        texts["shipment_id"], ShipmentStatus(shipment.status), texts["carrier_name"], texts["carrier_code"],
        texts["tracking_number"], texts["tracking_url"], shipment.shipped_at, shipment.expected_delivery_date,
        shipment.delivered_at, items,
    )


def _return_texts(
    tracking_number: str | None, carrier_code: str | None, label_url: str | None
) -> tuple[str | None, str | None, str | None]:
    """The caller's return tracking number, carrier code and label URL, stripped and checked."""
    values = []
    given = (("ReturnTrackingNumber", tracking_number), ("CarrierCode", carrier_code), ("LabelUrl", label_url))
    for wire, raw in given:
        value = (raw or "").strip() or None
        if value is not None:
            if len(value) > RETURN_TEXT_LIMITS[wire]:
                raise ValidationError(f"{wire} must be at most {RETURN_TEXT_LIMITS[wire]} characters.", wire)
            if any(ord(ch) < 33 or ord(ch) == 127 for ch in value) and wire != "CarrierCode":
                raise ValidationError(f"{wire} must not contain spaces or control characters.", wire)
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValidationError(f"{wire} must not contain control characters.", wire)
        values.append(value)
    label = values[2]
    if label is not None and not label.lower().startswith(("https://", "http://")):
        raise ValidationError("LabelUrl must be an http:// or https:// URL.", "LabelUrl")
    return values[0], values[1], values[2]
