"""Orders and everything hanging off them, with the rules for cancelling and refunding.

Entities are plain dataclasses; the database mapping lives in ``adapters.orm`` and depends on
this module, never the reverse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from . import money
from .errors import ValidationError
from .events import OrderCancelled, OrderEvent, RefundIssued


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


CAPTURED_STATUSES = frozenset(
    {FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED}
)
SHIPPED_ORDER_STATUSES = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)


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
    #: The part of ``quantity_refunded`` / ``quantity_cancelled`` done through the service: an
    #: upsert may report more, never less, and may not drop or shrink the line below it.
    quantity_refunded_by_service: int = 0
    quantity_cancelled_by_service: int = 0

    @property
    def touched_by_service(self) -> bool:
        return bool(self.quantity_refunded_by_service or self.quantity_cancelled_by_service)

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
        for name in ("quantity_shipped", "quantity_cancelled", "quantity_refunded", "quantity_returned"):
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
    def has_left(self) -> bool:
        """True once the parcel is with the carrier (a created label alone is not a shipment)."""
        return self.status is not ShipmentStatus.LABEL_CREATED or self.shipped_at is not None


@dataclass(eq=False)
class ReturnItem:
    sku: str
    quantity: int


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
    origin: Origin = Origin.ERP


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


@dataclass(frozen=True)
class RefundLineRequest:
    """One line of a per-line refund: identified by its number or its SKU."""

    quantity: int
    line_number: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class Decision:
    """The result of asking an order to do something."""

    outcome: Outcome
    reason_code: ReasonCode
    message: str
    refund: Refund | None = None


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
            requested = min(self._lines_value(line_quantities), refundable)
            if requested <= 0:
                return self._reject(ReasonCode.NOTHING_REFUNDABLE, "those items were free of charge")
        elif requested is None:
            requested = refundable
        if requested > refundable:
            return self._reject(
                ReasonCode.EXCEEDS_REFUNDABLE,
                f"at most {money.format_amount(refundable, self.currency)} can be refunded",
            )
        for number, quantity in line_quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_refunded += quantity
            line.quantity_refunded_by_service += quantity
        refund = self._add_refund(refund_id, requested, reason, now, note)
        self.updated_at = now
        self.events.append(
            RefundIssued(
                self.order_number, now, refund.refund_id, refund.amount, self.currency, reason.value,
                note, request_id, tuple(sorted(line_quantities.items())),
            )
        )
        return Decision(
            Outcome.REFUNDED,
            ReasonCode.NONE,
            f"A refund of {money.format_amount(refund.amount, self.currency)} has been issued "
            f"for order {self.order_number}.",
            refund,
        )

    # ------------------------------------------------------------------ helpers of the rules

    def _reject(self, code: ReasonCode, why: str) -> Decision:
        return Decision(Outcome.REJECTED, code, f"Order {self.order_number} cannot be refunded: {why}.")

    def _resolve_line(self, wanted: RefundLineRequest) -> OrderLine | None:
        if wanted.line_number is None and wanted.sku is None:
            raise ValidationError("Each refund line needs a LineNumber or a Sku.", "Line")
        if wanted.quantity < 1:
            raise ValidationError("Refund line Quantity must be at least 1.", "Quantity")
        return self.line(line_number=wanted.line_number, sku=wanted.sku)

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
