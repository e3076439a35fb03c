"""Line state follows the parcels: the one rule that derives each line's shipped and delivered
quantities and status, and the order's status, from its shipments."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import (
    DELIVERED_LINE_STATUSES,
    SHIPPED_LINE_STATUSES,
    SHIPPED_ORDER_STATUSES,
    LineStatus,
    OrderLine,
    OrderState,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)


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


def untracked_shipments(order: OrderState) -> dict[int, Untracked]:
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


def derive_fulfilment(order: OrderState, untracked: dict[int, Untracked] | None = None) -> Fulfilment:
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


def _order_status(order: OrderState, states: dict[int, LineState]) -> OrderStatus:
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


def apply_fulfilment(order: OrderState, fulfilment: Fulfilment) -> None:
    """Store what :func:`derive_fulfilment` found: each line's shipped quantity and status, and the order's."""
    for line in order.lines:
        state = fulfilment.lines[line.line_number]
        line.quantity_shipped = state.shipped
        line.status = state.status
    order.status = fulfilment.status


