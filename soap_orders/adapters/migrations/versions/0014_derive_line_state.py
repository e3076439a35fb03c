"""Line state follows the parcels: the stored lines and orders are brought up to what their parcels show

Orders imported before their line state was derived may hold a line PENDING (QuantityShipped 0)
whose item is in a parcel on its way or delivered, and an order status behind it. For every order
with parcels, each line's QuantityShipped and Status and the order's Status are derived by the
domain's rule (``derive_fulfilment``), taking what a line already counted as shipped beyond its
parcels as shipped without a parcel. The upgrade only moves state forward: a quantity or status
already further along is kept (a record ahead of its parcels is refused from this release on, but
what is stored stays as it is). The kept-written documents of the orders it changes are marked
stale, so readers write them afresh and ``soap-orders db upgrade`` rewrites them. Nothing to undo
on downgrade: the figures stay valid for the previous release.

Revision ID: 0014_derive_line_state
Revises: 0013_feed_fingerprint
"""

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from soap_orders.domain.orders import (
    Customer,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    derive_fulfilment,
)

revision = "0014_derive_line_state"
down_revision = "0013_feed_fingerprint"
branch_labels = None
depends_on = None

#: Orders read and written at a time.
CHUNK = 500
#: How far along a status is; the upgrade never moves one back. CANCELLED and RETURNED are kept.
LINE_RANK = {LineStatus.PENDING: 0, LineStatus.PROCESSING: 1, LineStatus.SHIPPED: 2, LineStatus.DELIVERED: 3}
ORDER_RANK = {OrderStatus.PENDING: 0, OrderStatus.PROCESSING: 0, OrderStatus.ON_HOLD: 0,
              OrderStatus.PARTIALLY_SHIPPED: 1, OrderStatus.SHIPPED: 2, OrderStatus.DELIVERED: 3}

orders = sa.table("orders", sa.column("id"), sa.column("status"))
lines = sa.table("order_lines", sa.column("id"), sa.column("order_id"), sa.column("line_number"), sa.column("sku"),
                 sa.column("quantity"), sa.column("status"), sa.column("quantity_shipped"),
                 sa.column("quantity_cancelled"))
shipments = sa.table("shipments", sa.column("id"), sa.column("order_id"), sa.column("status"))
items = sa.table("shipment_items", sa.column("shipment_pk"), sa.column("sku"), sa.column("quantity"))
documents = sa.table("order_documents", sa.column("order_id"), sa.column("render_version"))


def upgrade() -> None:
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.select(shipments.c.order_id).distinct().order_by(shipments.c.order_id))]
    for chunk in _chunks(ids):
        _derive(bind, chunk)


def downgrade() -> None:
    pass


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _derive(bind: Any, ids: list[int]) -> None:
    statuses = dict(bind.execute(sa.select(orders.c.id, orders.c.status).where(orders.c.id.in_(ids))).all())
    by_order: dict[int, list[Any]] = {}
    for row in bind.execute(sa.select(lines).where(lines.c.order_id.in_(ids)).order_by(lines.c.id)):
        by_order.setdefault(row.order_id, []).append(row)
    parcels: dict[int, list[Shipment]] = {}
    carried: dict[int, list[ShipmentItem]] = {}
    for row in bind.execute(sa.select(shipments).where(shipments.c.order_id.in_(ids)).order_by(shipments.c.id)):
        shipment = Shipment(str(row.id), ShipmentStatus(row.status))
        carried[row.id] = shipment.items
        parcels.setdefault(row.order_id, []).append(shipment)
    query = sa.select(items).where(items.c.shipment_pk.in_(list(carried))) if carried else None
    for row in bind.execute(query) if query is not None else ():
        carried[row.shipment_pk].append(ShipmentItem(row.sku, row.quantity))
    changed: list[int] = []
    for order_id in ids:
        rows = by_order.get(order_id, [])
        order = Order(str(order_id), Customer(""), "EUR", datetime.now(timezone.utc), Decimal(0), Decimal(0),
                      status=OrderStatus(statuses[order_id]), shipments=parcels.get(order_id, []),
                      lines=[OrderLine(r.line_number, r.sku, "", r.quantity, Decimal(0), status=LineStatus(r.status),
                                       quantity_shipped=r.quantity_shipped, quantity_cancelled=r.quantity_cancelled)
                             for r in rows])
        if len({line.line_number for line in order.lines}) != len(order.lines):
            continue  # not an order the rule can speak for; left as it is
        fulfilment = derive_fulfilment(order)
        touched = False
        for row, line in zip(rows, order.lines, strict=True):
            state = fulfilment.lines[line.line_number]
            values: dict[str, Any] = {}
            if state.shipped > line.quantity_shipped:
                values["quantity_shipped"] = state.shipped
            if line.status in LINE_RANK and LINE_RANK.get(state.status, -1) > LINE_RANK[line.status]:
                values["status"] = state.status.value
            if values:
                bind.execute(lines.update().where(lines.c.id == row.id).values(**values))
                touched = True
        if order.status in ORDER_RANK and ORDER_RANK.get(fulfilment.status, -1) > ORDER_RANK[order.status]:
            bind.execute(orders.update().where(orders.c.id == order_id).values(status=fulfilment.status.value))
            touched = True
        if touched:
            changed.append(order_id)
    if changed:
        bind.execute(documents.update().where(documents.c.order_id.in_(changed)).values(render_version=-1))
