"""Each order's document keeps the fingerprint of the ERP record whose merge last wrote it

Revision ID: 0013_feed_fingerprint
Revises: 0012_return_settled_by
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_feed_fingerprint"
down_revision = "0012_return_settled_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): a batch copy of the table would reflect orders' index on
    # an expression, which SQLAlchemy cannot.
    op.add_column("order_documents", sa.Column("feed_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("order_documents", "feed_fingerprint")
