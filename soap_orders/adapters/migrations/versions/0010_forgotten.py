"""When a customer's personal data was forgotten, on orders and subscriptions (the tombstone an ERP
document respects)

Revision ID: 0010_forgotten
Revises: 0009_outbox_relays
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_forgotten"
down_revision = "0009_outbox_relays"
branch_labels = None
depends_on = None

TABLES = ("orders", "subscriptions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns itself): a batch would copy the table and lose
    # its expression index on lower(customer_email).
    for table in TABLES:
        op.drop_column(table, "forgotten_at")
