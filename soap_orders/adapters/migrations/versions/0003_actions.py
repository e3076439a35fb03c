"""Order actions: address changes, line cancellations, replacements, returns; tracking-number lookups

Revision ID: 0003_actions
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_actions"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("address_changed_at", sa.DateTime(timezone=True)))
    op.add_column("orders", sa.Column("replaces_order_number", sa.String(64)))
    op.add_column("orders", sa.Column("replacement_order_numbers", sa.JSON()))
    op.create_index("ix_orders_replaces_order_number", "orders", ["replaces_order_number"])
    op.add_column("order_lines", sa.Column("quantity_replaced", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("returns", sa.Column("refund_id", sa.String(64)))
    op.add_column("return_items", sa.Column("line_number", sa.Integer()))
    op.add_column("audit_records", sa.Column("details", sa.JSON()))
    op.create_index("ix_shipments_tracking_number_lower", "shipments", [sa.text("lower(tracking_number)")])
    op.create_index(
        "ix_returns_return_tracking_number_lower", "returns", [sa.text("lower(return_tracking_number)")]
    )


def downgrade() -> None:
    op.drop_index("ix_returns_return_tracking_number_lower", table_name="returns")
    op.drop_index("ix_shipments_tracking_number_lower", table_name="shipments")
    op.drop_column("audit_records", "details")
    op.drop_column("return_items", "line_number")
    op.drop_column("returns", "refund_id")
    op.drop_column("order_lines", "quantity_replaced")
    op.drop_index("ix_orders_replaces_order_number", table_name="orders")
    op.drop_column("orders", "replacement_order_numbers")
    op.drop_column("orders", "replaces_order_number")
    op.drop_column("orders", "address_changed_at")
