"""Each order's document, kept written beside it

Revision ID: 0006_documents
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_documents"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_documents",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("render_version", sa.Integer(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_documents_order_id_orders",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_documents"),
    )
    # The documents of orders stored before are written by `soap-orders db upgrade` (see
    # adapters/migrate.py); until then readers write them afresh.


def downgrade() -> None:
    op.drop_table("order_documents")
