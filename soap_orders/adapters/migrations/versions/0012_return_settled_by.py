"""Who settled a return (refunded or rejected it): SERVICE once UpdateReturn did, whoever created the
return, so that a stale ERP document cannot reopen it

Existing returns are marked from what is stored: a return whose refund the service issued, and a
return that an UpdateReturn of the change feed moved to REFUNDED or REJECTED.

Revision ID: 0012_return_settled_by
Revises: 0011_retention
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012_return_settled_by"
down_revision = "0011_retention"
branch_labels = None
depends_on = None

SETTLED = ("REFUNDED", "REJECTED")


def upgrade() -> None:
    op.add_column("returns", sa.Column("settled_by", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    returns = sa.table("returns", sa.column("id"), sa.column("order_id"), sa.column("return_id"),
                       sa.column("status"), sa.column("refund_id"), sa.column("settled_by"))
    refunds = sa.table("refunds", sa.column("order_id"), sa.column("refund_id"), sa.column("origin"))
    orders = sa.table("orders", sa.column("id"), sa.column("order_number"))
    events = sa.table("order_events", sa.column("order_number"), sa.column("event_type"), sa.column("payload"))

    # Refunded by the service: the return's refund is one the service issued.
    issued = sa.select(refunds.c.order_id).where(
        refunds.c.order_id == returns.c.order_id, refunds.c.refund_id == returns.c.refund_id,
        refunds.c.origin == "SERVICE",
    )
    bind.execute(returns.update().where(returns.c.status == "REFUNDED", issued.exists()).values(settled_by="SERVICE"))

    # Refunded or rejected by an UpdateReturn recorded in the change feed.
    settled: set[tuple[str, str]] = set()
    query = sa.select(events.c.order_number, events.c.payload).where(events.c.event_type == "ReturnUpdated")
    for number, payload in bind.execute(query):
        data = json.loads(payload) if isinstance(payload, str) else payload
        if data and data.get("new_status") in SETTLED:
            settled.add((number, data["return_id"]))
    for number, return_id in sorted(settled):
        order_ids = sa.select(orders.c.id).where(orders.c.order_number == number).scalar_subquery()
        bind.execute(
            returns.update()
            .where(returns.c.order_id == order_ids, returns.c.return_id == return_id,
                   returns.c.status.in_(SETTLED))
            .values(settled_by="SERVICE")
        )


def downgrade() -> None:
    op.drop_column("returns", "settled_by")
