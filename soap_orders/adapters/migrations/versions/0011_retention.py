"""Indexes by age for `soap-orders prune`: idempotency records, audit records and order events

Revision ID: 0011_retention
Revises: 0010_forgotten
"""

from alembic import op

revision = "0011_retention"
down_revision = "0010_forgotten"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])
    op.create_index("ix_audit_records_occurred_at", "audit_records", ["occurred_at"])
    op.create_index("ix_order_events_occurred_at", "order_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_order_events_occurred_at", table_name="order_events")
    op.drop_index("ix_audit_records_occurred_at", table_name="audit_records")
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
