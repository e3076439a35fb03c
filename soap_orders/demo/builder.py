# Over 500 lines: one builder taking an order through its life step by step (paid, shipped, delivered, returned), read in that order.
"""Demo orders built through the domain, deterministically from a seed.

``build_orders(count, seed)`` yields ``Order`` objects: the same ``(count, seed, first_number)``
always gives the same orders, whatever the date or machine. Each order is placed by its customer,
then taken through its life as a shop would: paid, shipped in one or more parcels, delivered,
returned. What the ERP reports (payment, parcels, returns) is written on the order as the ERP
would report it; what the service decides is done by the domain's own rules: a refund is made by
``Order.refund`` and a cancellation by ``Order.cancel``, so refunded amounts, refunded line
quantities and financial statuses are the domain's figures, never the builder's. Every order
passes ``Order.check()`` before it is handed out.

Timestamps are anchored on 2026-01-01T00:00:00Z and reach back about six months, with more
orders near the anchor, so the newest orders are still open and the older ones delivered.

The orders stand for history that happened before the service saw them (as if imported from the
ERP), so the events the domain recorded while building them are cleared: demo data adds no
entries to the order event log.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..domain import money
from ..domain.consistency import Inconsistent, check_country, reconcile
from ..domain.orders import (
    Channel,
    FinancialStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderType,
    Outcome,
    Reason,
    Refund,
    RefundLineRequest,
    Return,
    ReturnItem,
    ReturnRefundStatus,
    ReturnStatus,
    ReturnUpdate,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)
from .customers import CUSTOMERS_PER_ORDER, DemoCustomer, demo_customer
from .draw import between, fill, pick
from .reference import (
    CARRIERS,
    CONSUMABLES,
    EXPRESS_SURCHARGE,
    FIXED_DISCOUNTS,
    PRODUCTS,
    RETURN_REASONS,
    SHIPPING,
    shelf_price,
)

#: "Now" for the demo data: every generated timestamp lies before it.
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
#: How far back the oldest orders go.
SPAN = timedelta(days=180)
#: Order numbers start here by default: SO-100001, SO-100002, ...
FIRST_ORDER_NUMBER = 100_001
#: The largest first number: order numbers keep to SO- and at most nine digits.
LAST_ORDER_NUMBER = 999_999_999

# ---------------------------------------------------------------------- how often things happen

# Weights of each status by the age of the order (the newest orders are the open ones).
STATUS_BY_AGE: tuple[tuple[timedelta, dict[OrderStatus, int]], ...] = (
    (timedelta(days=1), {OrderStatus.PENDING: 40, OrderStatus.PROCESSING: 32, OrderStatus.ON_HOLD: 15,
                         OrderStatus.CANCELLED: 13}),
    (timedelta(days=3), {OrderStatus.PENDING: 18, OrderStatus.PROCESSING: 26, OrderStatus.ON_HOLD: 12,
                         OrderStatus.PARTIALLY_SHIPPED: 16, OrderStatus.SHIPPED: 20, OrderStatus.CANCELLED: 8}),
    (timedelta(days=10), {OrderStatus.PENDING: 5, OrderStatus.PROCESSING: 4, OrderStatus.ON_HOLD: 10,
                          OrderStatus.PARTIALLY_SHIPPED: 15, OrderStatus.SHIPPED: 28, OrderStatus.DELIVERED: 29,
                          OrderStatus.CANCELLED: 9}),
    (timedelta(days=30), {OrderStatus.ON_HOLD: 7, OrderStatus.PARTIALLY_SHIPPED: 8, OrderStatus.SHIPPED: 8,
                          OrderStatus.DELIVERED: 69, OrderStatus.CANCELLED: 8}),
    (SPAN * 2, {OrderStatus.SHIPPED: 2, OrderStatus.DELIVERED: 90, OrderStatus.CANCELLED: 8}),
)
ORDER_TYPES = {OrderType.STANDARD: 78, OrderType.PRE_ORDER: 4, OrderType.BACKORDER: 4,
               OrderType.SUBSCRIPTION: 8, OrderType.REPLACEMENT: 3, OrderType.EXCHANGE: 3}
#: Channels of retail orders; a few standard orders are WHOLESALE instead (bulk, trade prices).
CHANNELS = {Channel.WEB: 50, Channel.MOBILE_APP: 26, Channel.STORE: 5, Channel.PHONE: 5,
            Channel.MARKETPLACE: 10}
WHOLESALE_SHARE = 0.04
#: Statuses of a parcel that has left but not arrived.
IN_FLIGHT = {ShipmentStatus.IN_TRANSIT: 45, ShipmentStatus.OUT_FOR_DELIVERY: 14, ShipmentStatus.DELAYED: 18,
             ShipmentStatus.EXCEPTION: 10, ShipmentStatus.ATTEMPTED_DELIVERY: 8}
#: A parcel still in EXCEPTION this long after the order was placed has gone back to the sender.
RETURN_TO_SENDER_AFTER = timedelta(days=30)
CANCEL_REASONS = {Reason.CUSTOMER: 60, Reason.INVENTORY: 15, Reason.FRAUD: 8, Reason.DECLINED: 10,
                  Reason.OTHER: 7}
#: How a return stands, and what the warehouse and the refund say at that stage.
RETURN_STAGES = {ReturnStatus.REQUESTED: 8, ReturnStatus.LABEL_CREATED: 12, ReturnStatus.IN_TRANSIT: 14,
                 ReturnStatus.RECEIVED: 14, ReturnStatus.COMPLETED: 40, ReturnStatus.REJECTED: 6,
                 ReturnStatus.CANCELLED: 6}


# ---------------------------------------------------------------------- public API


def build_orders(count: int, seed: int, *, first_number: int = FIRST_ORDER_NUMBER) -> Iterator[Order]:
    """Yield ``count`` orders, deterministically from ``seed``.

    Order numbers run from ``SO-<first_number>`` in order of creation; about three orders share
    each customer email. Every order has passed ``Order.check()``.
    """
    if not FIRST_ORDER_NUMBER <= first_number <= LAST_ORDER_NUMBER - count + 1:
        raise ValueError(f"first_number must be between {FIRST_ORDER_NUMBER} and {LAST_ORDER_NUMBER - count + 1}")
    rng = random.Random(seed)
    customers = max(1, math.ceil(count * CUSTOMERS_PER_ORDER))
    for index in range(count):
        # Evenly spread positions, squared so that recent days hold more orders than old ones.
        position = (index + rng.random()) / count
        created = (ANCHOR - SPAN * (1 - position) ** 2 - timedelta(minutes=5)).replace(microsecond=0)
        # Loyal customers (low numbers) order more often than the rest.
        customer = demo_customer(seed, int(customers * rng.random() ** 1.25))
        yield OrderBuilder(rng, first_number + index, created, customer).build()


# ---------------------------------------------------------------------- one order


class BuildError(RuntimeError):
    """The builder asked the domain for something it refused: a defect in the builder."""


class OrderBuilder:
    """Builds one order; all randomness comes from the shared generator, in a fixed order."""

    def __init__(self, rng: random.Random, number: int, created: datetime, customer: DemoCustomer) -> None:
        self.rng = rng
        self.digits = str(number)
        self.number = f"SO-{number}"
        self.created = created
        self.customer = customer
        self.currency = customer.currency
        #: Every moment something happened to the order; the latest is its UpdatedAt.
        self.moments: list[datetime] = [created]
        self.order: Order

    # -------------------------------------------------------------- whole order

    def build(self) -> Order:
        """The order placed, then taken to a status fitting its age."""
        rng = self.rng
        status = pick(rng, next(w for limit, w in STATUS_BY_AGE if ANCHOR - self.created < limit))
        order_type = pick(rng, ORDER_TYPES)
        wholesale = order_type is OrderType.STANDARD and rng.random() < WHOLESALE_SHARE
        channel = Channel.WHOLESALE if wholesale else pick(rng, CHANNELS)
        lines = self._lines(order_type, channel, minimum=2 if status is OrderStatus.PARTIALLY_SHIPPED else 1)
        self.order = self._place(order_type, channel, lines)
        status = getattr(self, f"_as_{status.value.lower()}")() or status
        order = self.order
        if order.status is not status:
            raise BuildError(f"{self.number}: built as {order.status.value}, meant to be {status.value}")
        order.updated_at = max(self.moments)
        order.check()
        try:  # what the ERP's checks ask of every record (see domain.consistency)
            check_country(order)
            derived = reconcile(order, order).derived
        except Inconsistent as error:
            raise BuildError(f"{self.number}: {error}") from None
        if derived:
            raise BuildError(f"{self.number}: {', '.join(derived)} do not follow from its parcels")
        # History from before the service saw the order: nothing for the event log.
        order.events.clear()
        return order

    def _lines(self, order_type: OrderType, channel: Channel, minimum: int) -> list[OrderLine]:
        """1-5 lines of distinct products (consumables for subscriptions, free for replacements)."""
        rng = self.rng
        if order_type is OrderType.SUBSCRIPTION:
            products = rng.sample(CONSUMABLES, max(minimum, rng.choice((1, 1, 2))))
        else:
            count = max(minimum, rng.choices((1, 2, 3, 4, 5), weights=(38, 30, 17, 10, 5))[0])
            products = rng.sample(PRODUCTS, count)
        lines = []
        for number, product in enumerate(products, 1):
            suffix, label = rng.choice(product.variants) if product.variants else ("", "")
            if channel is Channel.WHOLESALE:
                quantity = rng.choice((6, 12, 12, 24, 48))
            else:
                quantity = rng.choices((1, 2, 3), weights=(76, 18, 6))[0]
            price = Decimal(0) if order_type is OrderType.REPLACEMENT else shelf_price(product, self.currency)
            if channel is Channel.WHOLESALE:
                price = price * Decimal("0.6")
            lines.append(OrderLine(
                line_number=number,
                sku=f"{product.code}-{suffix}" if suffix else product.code,
                name=f"{product.name} - {label}" if label else product.name,
                quantity=quantity,
                unit_price=money.quantize(price, self.currency),
                image_url=f"https://cdn.example.com/products/{product.code.lower()}/{(suffix or 'default').lower()}.jpg",
                status=LineStatus.PENDING,
            ))
        return lines

    def _place(self, order_type: OrderType, channel: Channel, lines: list[OrderLine]) -> Order:
        """The order as placed: subtotal, discount, shipping (free above a threshold), US sales
        tax and the total, and the customer's email as written this time; nothing paid, nothing
        shipped. (The customer is complete before the order is made: the database mapping does
        not see changes made inside it afterwards.)"""
        rng, currency = self.rng, self.currency
        subtotal = sum((line.line_total for line in lines), Decimal(0))
        discount = Decimal(0)
        if subtotal > 0 and rng.random() < 0.22:
            if rng.random() < 0.6:
                discount = money.quantize(subtotal * rng.choice((10, 15, 20)) / 100, currency)
            else:
                discount = min(FIXED_DISCOUNTS[currency], money.quantize(subtotal / 2, currency))
        fee, free_from = SHIPPING[currency]
        shipping = Decimal(0)
        if subtotal > 0 and channel is not Channel.STORE:
            shipping = fee if subtotal - discount < free_from else Decimal(0)
            if rng.random() < 0.12:
                shipping += EXPRESS_SURCHARGE[currency]
        rate = self.customer.country.tax_rates.get(self.customer.address.region or "", Decimal(0))
        tax = money.quantize((subtotal - discount) * rate, currency)
        customer = self.customer.as_customer()
        if self.customer.mixed_case and rng.random() < 0.5:
            local = customer.email.split("@")[0].title()
            customer.email = local + "@" + rng.choice(("example.com", "Example.com", "EXAMPLE.COM"))

        def amount(value: Decimal) -> Decimal:
            return money.quantize(value, currency)

        return Order(
            order_number=self.number,
            customer=customer,
            currency=currency,
            created_at=self.created,
            subtotal=amount(subtotal),
            total=amount(subtotal + shipping + tax - discount),
            shipping_total=amount(shipping),
            tax_total=amount(tax),
            discount_total=amount(discount),
            order_type=order_type,
            channel=channel,
            status=OrderStatus.PENDING,
            financial_status=FinancialStatus.PENDING,
            shipping_address=self.customer.shipping_address(),
            lines=lines,
        )

    # -------------------------------------------------------------- per status

    def _as_pending(self) -> None:
        """Placed, payment outstanding or only authorised."""
        self.order.financial_status = (
            FinancialStatus.PENDING if self.rng.random() < 0.7 else FinancialStatus.AUTHORIZED
        )
        self._expect(self.created)

    def _as_processing(self) -> OrderStatus | None:
        """Being picked; nothing has left yet, so it can still be cancelled. Now and then it is
        packed already, a label printed: then it is SHIPPED (the status it returns)."""
        rng, order = self.rng, self.order
        order.status = OrderStatus.PROCESSING
        order.financial_status = FinancialStatus.PAID if rng.random() < 0.7 else FinancialStatus.AUTHORIZED
        self._set_lines(order.lines, LineStatus.PROCESSING)
        labelled = rng.random() < 0.15
        if labelled:
            order.shipments.append(self._shipment(order.lines, ShipmentStatus.LABEL_CREATED, None))
        self._expect(self.created)
        if labelled:
            # Packed, its label printed, waiting for the carrier: a parcel carries its items, so
            # the lines and the order are SHIPPED (see domain.orders.derive_fulfilment).
            order.status = OrderStatus.SHIPPED
            self._set_lines(order.lines, LineStatus.SHIPPED)
            for line in order.lines:
                line.quantity_shipped = line.quantity
            return OrderStatus.SHIPPED
        return None

    def _as_on_hold(self) -> None:
        """Held for review (payment, address, stock)."""
        self.order.status = OrderStatus.ON_HOLD
        self.order.financial_status = pick(self.rng, {FinancialStatus.AUTHORIZED: 45, FinancialStatus.PENDING: 30,
                                                      FinancialStatus.PAID: 25})
        self._expect(self.created + timedelta(days=self.rng.randint(2, 6)))

    def _as_partially_shipped(self) -> None:
        """Some lines shipped in one or two parcels, the rest still to come."""
        rng, order = self.rng, self.order
        order.status = OrderStatus.PARTIALLY_SHIPPED
        order.financial_status = FinancialStatus.PAID
        lines = order.lines
        shipped = rng.sample(lines, rng.randint(1, len(lines) - 1))
        shipped.sort(key=lambda line: line.line_number)
        groups = [shipped] if len(shipped) == 1 or rng.random() < 0.5 else [shipped[:1], shipped[1:]]
        for group in groups:
            status = pick(rng, {ShipmentStatus.IN_TRANSIT: 40, ShipmentStatus.DELIVERED: 30,
                                ShipmentStatus.DELAYED: 15, ShipmentStatus.OUT_FOR_DELIVERY: 15})
            self._ship(group, status)
        waiting = LineStatus.PENDING if order.order_type is OrderType.BACKORDER else LineStatus.PROCESSING
        self._set_lines([line for line in lines if all(line is not other for other in shipped)], waiting)
        self._expect(self.created + timedelta(days=rng.randint(5, 21)), from_date=max(self.moments))

    def _as_shipped(self) -> None:
        """Every line on its way, perhaps in two parcels, perhaps delayed; rarely a goodwill refund."""
        rng, order = self.rng, self.order
        order.status = OrderStatus.SHIPPED
        order.financial_status = FinancialStatus.PAID
        lines = order.lines
        groups = [lines]
        if len(lines) > 1 and rng.random() < 0.3:
            cut = rng.randint(1, len(lines) - 1)
            groups = [lines[:cut], lines[cut:]]
        for index, group in enumerate(groups):
            status = ShipmentStatus.DELIVERED if index == 0 and len(groups) > 1 else pick(rng, IN_FLIGHT)
            if status is ShipmentStatus.EXCEPTION and ANCHOR - self.created > RETURN_TO_SENDER_AFTER:
                status = ShipmentStatus.RETURNED_TO_SENDER
            self._ship(group, status)
        order.expected_delivery_date = max(
            s.expected_delivery_date for s in order.shipments if s.expected_delivery_date is not None
        )
        if rng.random() < 0.15 and order.total > 0:
            troubled = (ShipmentStatus.DELAYED, ShipmentStatus.EXCEPTION, ShipmentStatus.RETURNED_TO_SENDER)
            delayed = any(s.status in troubled for s in order.shipments)
            amount = order.shipping_total or money.quantize(order.total / 10, self.currency)
            if amount > 0:
                self._refund(Reason.LATE_DELIVERY if delayed else Reason.OTHER,
                             "Goodwill refund while the parcel is on its way.", max(self.moments), amount=amount)

    def _as_delivered(self) -> None:
        """Every parcel delivered; some orders then see a return or a partial or full refund."""
        rng, order = self.rng, self.order
        order.status = OrderStatus.DELIVERED
        order.financial_status = FinancialStatus.PAID
        lines = order.lines
        groups = [lines]
        if len(lines) > 1 and rng.random() < 0.2:
            cut = rng.randint(1, len(lines) - 1)
            groups = [lines[:cut], lines[cut:]]
        for group in groups:
            self._ship(group, ShipmentStatus.DELIVERED)
        if order.total == 0:
            return
        roll = rng.random()
        if roll < 0.18:
            self._return(full=rng.random() < 0.15)
        elif roll < 0.26:
            amount = money.quantize(order.total * rng.choice((10, 15, 20, 25)) / 100, self.currency)
            if amount > 0:
                self._refund(Reason.DAMAGED, "Partial refund: item arrived slightly damaged.",
                             self._after(max(self.moments), days=5), amount=amount)
        elif roll < 0.29:
            reason = rng.choice((Reason.DAMAGED, Reason.LATE_DELIVERY))
            self._refund(reason, "Full refund; no need to send the items back.",
                         self._after(max(self.moments), days=5))

    def _as_cancelled(self) -> None:
        """Cancelled before shipping by ``Order.cancel``: voided when unpaid, refunded when paid."""
        rng, order = self.rng, self.order
        reason = pick(rng, CANCEL_REASONS)
        cancelled_at = self._after(self.created, days=2, minimum=timedelta(minutes=10))
        self.moments.append(cancelled_at)
        if reason is not Reason.DECLINED and rng.random() < 0.5 and order.total > 0:
            order.financial_status = FinancialStatus.PAID
        decision = order.cancel(
            reason=reason, now=cancelled_at, request_id=f"demo-{self.digits}-cancel", refund_id=self._refund_id()
        )
        if decision.outcome is not Outcome.CANCELLED:
            raise BuildError(f"{self.number}: {decision.message}")
        if decision.refund is not None:
            self._settle_by_age(decision.refund)

    # -------------------------------------------------------------- parts

    @staticmethod
    def _set_lines(lines: Sequence[OrderLine], status: LineStatus) -> None:
        for line in lines:
            line.status = status

    def _after(self, start: datetime, *, days: float, minimum: timedelta = timedelta(hours=1)) -> datetime:
        """A moment from ``minimum`` to ``days`` after ``start``, never past the anchor."""
        latest = min(start + timedelta(days=days), ANCHOR - timedelta(minutes=1))
        return between(self.rng, min(start + minimum, latest), latest)

    def _expect(self, ship_from: datetime, *, from_date: datetime | None = None) -> None:
        """Expected ship and delivery dates of an open order."""
        rng, order = self.rng, self.order
        ship = max(ship_from, from_date or ship_from) + timedelta(days=rng.randint(1, 3))
        if order.order_type in (OrderType.PRE_ORDER, OrderType.BACKORDER):
            ship += timedelta(days=rng.randint(7, 30))
        order.expected_ship_date = ship.date()
        order.expected_delivery_date = (ship + timedelta(days=rng.randint(1, 4))).date()

    def _shipment(self, lines: Sequence[OrderLine], status: ShipmentStatus, shipped_at: datetime | None) -> Shipment:
        """A parcel of whole lines, as the ERP reports it."""
        rng = self.rng
        carrier = CARRIERS[rng.choice(self.customer.country.carriers)]
        tracking = fill(rng, carrier.tracking)
        base = shipped_at or self.created
        return Shipment(
            shipment_id=f"SH-{self.digits}-{len(self.order.shipments) + 1}",
            status=status,
            carrier_name=carrier.name,
            carrier_code=carrier.code,
            tracking_number=tracking,
            tracking_url=carrier.url.format(tn=tracking),
            shipped_at=shipped_at,
            expected_delivery_date=(base + timedelta(days=rng.randint(2, 5))).date(),
            items=[ShipmentItem(line.sku, line.quantity) for line in lines],
        )

    def _ship(self, lines: Sequence[OrderLine], status: ShipmentStatus) -> None:
        """Add a parcel of ``lines`` that has left the warehouse, and mark the lines shipped."""
        rng = self.rng
        age = ANCHOR - self.created
        if status is ShipmentStatus.DELIVERED:
            shipped_at = between(rng, self.created + timedelta(hours=2), self.created + min(timedelta(days=2), age * 0.3))
        else:
            shipped_at = between(rng, self.created + min(timedelta(hours=2), age * 0.2),
                                 self.created + min(timedelta(days=3), age * 0.7))
        shipment = self._shipment(lines, status, shipped_at)
        self.moments.append(shipped_at)
        line_status = LineStatus.SHIPPED
        if status is ShipmentStatus.DELIVERED:
            left = ANCHOR - shipped_at
            shipment.delivered_at = between(rng, shipped_at + min(timedelta(hours=12), left * 0.3),
                                            shipped_at + min(timedelta(days=5), left * 0.8))
            self.moments.append(shipment.delivered_at)
            line_status = LineStatus.DELIVERED
        self.order.shipments.append(shipment)
        for line in lines:
            line.status = line_status
            line.quantity_shipped = line.quantity

    def _refund_id(self) -> str:
        return f"RF-{self.digits}-{len(self.order.refunds) + 1}"

    def _refund(self, reason: Reason, note: str | None, at: datetime, *, amount: Decimal | None = None,
                lines: tuple[RefundLineRequest, ...] = (), settled: bool | None = None) -> Refund:
        """Refund through ``Order.refund`` (an amount, lines, or the whole refundable balance);
        settled when ``settled`` is true, by its age when it is None (see ``_settle_by_age``)."""
        decision = self.order.refund(
            reason=reason, now=at, request_id=f"demo-{self.digits}-refund-{len(self.order.refunds) + 1}",
            refund_id=self._refund_id(), amount=amount, lines=lines, note=note,
        )
        if decision.refund is None:
            raise BuildError(f"{self.number}: {decision.message}")
        self.moments.append(at)
        if settled:
            decision.refund.settle()
        elif settled is None:
            self._settle_by_age(decision.refund)
        return decision.refund

    def _settle_by_age(self, refund: Refund) -> None:
        """Refunds older than two days are settled (COMPLETED); half of the newer ones are still PENDING."""
        if not (ANCHOR - refund.created_at < timedelta(days=2) and self.rng.random() < 0.5):
            refund.settle()

    def _return(self, *, full: bool) -> None:
        """A return of some (or all) items, at some stage of its journey back. The warehouse's
        reports are written as the ERP sends them; inspecting and refunding a received return are
        ``Order.update_return`` (its lines refunded as a line refund is), and when everything came
        back, shipping is refunded by ``Order.refund``."""
        rng, order = self.rng, self.order
        delivered = max(self.moments)
        if ANCHOR - delivered < timedelta(hours=8):
            return
        lines = order.lines
        chosen = lines if full else rng.sample(lines, rng.randint(1, max(1, len(lines) - 1)))
        quantities = {line.line_number: line.quantity if full else rng.randint(1, line.quantity) for line in chosen}
        created = self._after(delivered, days=14, minimum=timedelta(hours=6))
        self.moments.append(created)
        status = ReturnStatus.COMPLETED if full else pick(rng, RETURN_STAGES)
        # A return the warehouse has received is moved on by the domain's own rule (as
        # UpdateReturn does): inspected, or refunded for its lines (the COMPLETED stage).
        inspected = rng.choice((False, True))
        reported = ReturnStatus.RECEIVED if status is ReturnStatus.COMPLETED else status
        warehouse, refund_status = {
            ReturnStatus.REQUESTED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.LABEL_CREATED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.IN_TRANSIT: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.RECEIVED: (WarehouseStatus.RECEIVED, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.REJECTED: (WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED),
            ReturnStatus.CANCELLED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
        }[reported]
        ret = Return(
            return_id=f"RT-{self.digits}-{len(order.returns) + 1}",
            status=reported,
            created_at=created,
            reason=rng.choice(RETURN_REASONS),
            warehouse_status=warehouse,
            refund_status=refund_status,
            items=[ReturnItem(line.sku, quantities[line.line_number], line.line_number) for line in chosen],
        )
        if status is not ReturnStatus.REQUESTED:
            carrier = CARRIERS[self.customer.country.carriers[0]]
            ret.return_tracking_number = fill(rng, carrier.tracking)
            ret.carrier_code = carrier.code
            ret.label_url = f"https://returns.example.com/labels/{ret.return_id}.pdf"
        order.returns.append(ret)
        if reported is ReturnStatus.RECEIVED:
            for line in chosen:
                line.quantity_returned = quantities[line.line_number]
                if line.quantity_returned == line.quantity:
                    line.status = LineStatus.RETURNED
        if status is ReturnStatus.RECEIVED and inspected:
            self._update_return(ret, ReturnUpdate.INSPECTED, created)
        if status is ReturnStatus.COMPLETED:
            at = self._after(created, days=8, minimum=timedelta(days=1))
            refund = self._update_return(ret, ReturnUpdate.REFUNDED, at, note=f"Refund for return {ret.return_id}.")
            if refund is None:
                raise BuildError(f"{self.number}: return {ret.return_id} was not refunded")
            refund.settle()
            self.moments.append(at)
            if full and order.shipping_total > 0:
                self._refund(Reason.CUSTOMER, "Shipping refunded with the full return.", at,
                             amount=order.shipping_total, settled=True)

    def _update_return(self, ret: Return, update: ReturnUpdate, at: datetime, note: str | None = None) -> Refund | None:
        """Move a return on through ``Order.update_return``; the refund it issued, if any."""
        decision = self.order.update_return(
            ret.return_id, update, now=at, request_id=f"demo-{ret.return_id}-{update.value.lower()}",
            refund_id=self._refund_id(), note=note,
        )
        if decision.outcome is not Outcome.RETURN_UPDATED:
            raise BuildError(f"{self.number}: {decision.message}")
        return decision.refund
