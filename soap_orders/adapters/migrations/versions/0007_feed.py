"""The change feed names who made each change and under which RequestId

Revision ID: 0007_feed
Revises: 0006_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_feed"
down_revision = "0006_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=True))
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("request_id")
        batch.drop_column("client")
