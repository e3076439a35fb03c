"""Outbox of notifications for the consumer's Flow Execution API; out-of-stock flag on order lines

Revision ID: 0004_outbox
Revises: 0003_actions
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0003_actions"
branch_labels = None
depends_on = None

ID64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("out_of_stock", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "flow_outbox",
        sa.Column("id", ID64, autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_flow_outbox"),
    )
    op.create_index("ix_flow_outbox_external_id", "flow_outbox", ["external_id"])
    op.create_index("ix_flow_outbox_state_next_attempt_at", "flow_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_flow_outbox_order_number_id", "flow_outbox", ["order_number", "id"])


def downgrade() -> None:
    op.drop_index("ix_flow_outbox_order_number_id", table_name="flow_outbox")
    op.drop_index("ix_flow_outbox_state_next_attempt_at", table_name="flow_outbox")
    op.drop_index("ix_flow_outbox_external_id", table_name="flow_outbox")
    op.drop_table("flow_outbox")
    op.drop_column("order_lines", "out_of_stock")
