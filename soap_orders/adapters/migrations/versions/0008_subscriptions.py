"""Subscriptions, their items, charges, refunds, skipped and produced orders; subscription events in
the order event log and subscription audit records

Revision ID: 0008_subscriptions
Revises: 0007_feed
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_subscriptions"
down_revision = "0007_feed"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 4).with_variant(sa.String(40), "sqlite")
TIME = sa.DateTime(timezone=True)


def _child(name: str, *columns: sa.Column, unique: tuple[str, ...] = ()) -> None:
    constraints = [sa.UniqueConstraint("subscription_pk", *unique, name=f"uq_{name}_subscription_pk_{'_'.join(unique)}")] if unique else []
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["subscription_pk"], ["subscriptions.id"], ondelete="CASCADE",
                                name=f"fk_{name}_subscription_pk_subscriptions"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        *constraints,
    )
    op.create_index(f"ix_{name}_subscription_pk", name, ["subscription_pk"])


CHILDREN = ("subscription_items", "subscription_charges", "subscription_refunds", "subscription_skips",
            "subscription_orders")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("interval", sa.String(32), nullable=False),
        sa.Column("interval_count", sa.Integer(), nullable=False),
        sa.Column("anchor_date", sa.Date()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("updated_at", TIME),
        sa.Column("next_order_date", sa.Date()),
        sa.Column("last_order_date", sa.Date()),
        sa.Column("cancelled_at", TIME),
        sa.Column("cancel_reason", sa.String(32)),
        sa.Column("cancel_note", sa.String(1000)),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("cancel_effective_date", sa.Date()),
        sa.Column("refunded_at", TIME),
        sa.Column("paused_at", TIME),
        sa.Column("paused_until", sa.Date()),
        sa.Column("paused_cycles", sa.Integer()),
        sa.Column("pending_change", sa.JSON()),
        sa.Column("service_lifecycle", sa.String(32)),
        sa.Column("customer_email", sa.String(254), nullable=False),
        sa.Column("customer_first_name", sa.String(100)),
        sa.Column("customer_last_name", sa.String(100)),
        sa.Column("customer_phone", sa.String(32)),
        sa.Column("ship_name", sa.String(200)),
        sa.Column("ship_line1", sa.String(200)),
        sa.Column("ship_line2", sa.String(200)),
        sa.Column("ship_city", sa.String(100)),
        sa.Column("ship_region", sa.String(100)),
        sa.Column("ship_postal_code", sa.String(20)),
        sa.Column("ship_country_code", sa.String(2)),
        sa.Column("ship_phone", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("subscription_id", name="uq_subscriptions_subscription_id"),
    )
    op.create_index(
        "ix_subscriptions_email_lower_created_at", "subscriptions",
        [sa.text("lower(customer_email)"), "created_at"],
    )
    _child(
        "subscription_items",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("image_url", sa.String(2048)),
    )
    _child(
        "subscription_charges",
        sa.Column("charge_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("refunded_amount", MONEY, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("charged_at", TIME, nullable=False),
        sa.Column("order_number", sa.String(64)),
        unique=("charge_id",),
    )
    _child(
        "subscription_refunds",
        sa.Column("refund_id", sa.String(64), nullable=False),
        sa.Column("charge_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("note", sa.String(1000)),
        unique=("refund_id",),
    )
    _child(
        "subscription_skips",
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("skipped_at", TIME, nullable=False),
    )
    _child(
        "subscription_orders",
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("order_date", sa.Date()),
        unique=("order_number",),
    )
    # Subscription events share the order change feed; their subject is the subscription.
    with op.batch_alter_table("order_events") as batch:
        batch.alter_column("order_number", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("subscription_id", sa.String(64)))
        batch.create_index("ix_order_events_subscription_id", ["subscription_id"])
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("subscription_id", sa.String(64)))
        batch.create_index("ix_audit_records_subscription_id", ["subscription_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_index("ix_audit_records_subscription_id")
        batch.drop_column("subscription_id")
    op.execute("DELETE FROM order_events WHERE order_number IS NULL")
    with op.batch_alter_table("order_events") as batch:
        batch.drop_index("ix_order_events_subscription_id")
        batch.drop_column("subscription_id")
        batch.alter_column("order_number", existing_type=sa.String(64), nullable=False)
    for name in reversed(CHILDREN):
        op.drop_index(f"ix_{name}_subscription_pk", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_subscriptions_email_lower_created_at", table_name="subscriptions")
    op.drop_table("subscriptions")
