"""Who made what: origins of refunds, returns, cancellations and address changes, and the line
quantities refunded or cancelled through the service (so an upsert from the ERP keeps them)

Revision ID: 0005_merge
Revises: 0004_outbox

Existing rows are marked from the order event log: a refund or cancellation recorded there was
made through the service; everything else came from the ERP.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_merge"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None

_ORIGIN = sa.String(32)

orders = sa.table(
    "orders", sa.column("id", sa.Integer), sa.column("order_number", sa.String), sa.column("status", sa.String),
    sa.column("cancel_origin", sa.String), sa.column("address_origin", sa.String),
)
returns = sa.table(
    "returns", sa.column("order_id", sa.Integer), sa.column("return_id", sa.String), sa.column("origin", sa.String),
)
lines = sa.table(
    "order_lines", sa.column("order_id", sa.Integer), sa.column("line_number", sa.Integer),
    sa.column("quantity_cancelled", sa.Integer), sa.column("quantity_refunded_by_service", sa.Integer),
    sa.column("quantity_cancelled_by_service", sa.Integer),
)
refunds = sa.table(
    "refunds", sa.column("order_id", sa.Integer), sa.column("refund_id", sa.String), sa.column("origin", sa.String),
)
events = sa.table(
    "order_events", sa.column("id", sa.Integer), sa.column("order_number", sa.String),
    sa.column("event_type", sa.String), sa.column("payload", sa.JSON),
)


def upgrade() -> None:
    op.add_column("orders", sa.Column("cancel_origin", _ORIGIN))
    op.add_column("orders", sa.Column("address_origin", _ORIGIN, nullable=False, server_default="ERP"))
    op.add_column("order_lines", sa.Column("quantity_refunded_by_service", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.add_column("order_lines", sa.Column("quantity_cancelled_by_service", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.add_column("returns", sa.Column("origin", _ORIGIN, nullable=False, server_default="ERP"))
    op.add_column("refunds", sa.Column("origin", _ORIGIN, nullable=False, server_default="ERP"))
    _mark_existing_rows()


def _mark_existing_rows() -> None:
    bind = op.get_bind()
    bind.execute(orders.update().where(orders.c.status == "CANCELLED").values(cancel_origin="ERP"))
    ids = dict(bind.execute(sa.select(orders.c.order_number, orders.c.id)).all())
    rows = bind.execute(
        sa.select(events.c.order_number, events.c.event_type, events.c.payload)
        .where(events.c.event_type.in_(
            ["RefundIssued", "OrderCancelled", "OrderLinesCancelled", "ShippingAddressChanged", "ReturnCreated"]))
        .order_by(events.c.id)
    ).all()
    for number, kind, payload in rows:
        order_id = ids.get(number)
        if order_id is None:
            continue
        if kind == "ShippingAddressChanged":
            bind.execute(orders.update().where(orders.c.id == order_id).values(address_origin="SERVICE"))
            continue
        if kind == "ReturnCreated":
            bind.execute(returns.update().where(returns.c.order_id == order_id,
                                                returns.c.return_id == payload.get("return_id"))
                         .values(origin="SERVICE"))
            continue
        if kind == "OrderLinesCancelled":
            for number_, quantity in payload.get("lines") or ():
                bind.execute(
                    lines.update().where(lines.c.order_id == order_id, lines.c.line_number == number_)
                    .values(quantity_cancelled_by_service=lines.c.quantity_cancelled_by_service + quantity)
                )
            if payload.get("order_cancelled"):
                bind.execute(orders.update().where(orders.c.id == order_id, orders.c.status == "CANCELLED")
                             .values(cancel_origin="SERVICE"))
            continue
        refund_id = payload.get("refund_id")
        if refund_id:
            marked = bind.execute(
                refunds.update().where(refunds.c.order_id == order_id, refunds.c.refund_id == refund_id)
                .values(origin="SERVICE")
            ).rowcount
            if not marked:
                continue  # the refund row is gone: nothing to protect
        if kind == "OrderCancelled":
            bind.execute(orders.update().where(orders.c.id == order_id, orders.c.status == "CANCELLED")
                         .values(cancel_origin="SERVICE"))
            bind.execute(lines.update().where(lines.c.order_id == order_id)
                         .values(quantity_cancelled_by_service=lines.c.quantity_cancelled))
        for number_, quantity in payload.get("lines") or ():
            bind.execute(
                lines.update().where(lines.c.order_id == order_id, lines.c.line_number == number_)
                .values(quantity_refunded_by_service=lines.c.quantity_refunded_by_service + quantity)
            )


def downgrade() -> None:
    op.drop_column("refunds", "origin")
    op.drop_column("returns", "origin")
    op.drop_column("order_lines", "quantity_cancelled_by_service")
    op.drop_column("order_lines", "quantity_refunded_by_service")
    op.drop_column("orders", "address_origin")
    op.drop_column("orders", "cancel_origin")
