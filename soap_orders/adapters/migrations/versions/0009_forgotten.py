"""When a customer's personal data was forgotten, on orders and subscriptions (the tombstone an ERP
document respects)

Revision ID: 0009_forgotten
Revises: 0008_subscriptions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_forgotten"
down_revision = "0008_subscriptions"
branch_labels = None
depends_on = None

TABLES = ("orders", "subscriptions")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("forgotten_at")
