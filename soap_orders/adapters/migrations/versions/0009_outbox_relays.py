"""Notifications are queued whatever the flow ids: the relays register themselves (what they send
and skip, when they were last heard from, when they last delivered), and events of a type the
operator does not want are SKIPPED (with the time)

Rows queued by earlier releases keep the ``action_id`` in their payload; the relay replaces it
with its own flow id when it sends them.

Revision ID: 0009_outbox_relays
Revises: 0008_subscriptions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox_relays"
down_revision = "0008_subscriptions"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("flow_outbox") as batch:
        batch.add_column(sa.Column("skipped_at", TIME))
    op.create_table(
        "outbox_relays",
        sa.Column("relay_id", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("seen_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("stopped_at", TIME),
        sa.Column("flow_types", sa.String(200), nullable=False),
        sa.Column("skip_types", sa.String(200), nullable=False),
        sa.Column("last_delivered_at", TIME),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("relay_id", name="pk_outbox_relays"),
    )


def downgrade() -> None:
    op.drop_table("outbox_relays")
    # SKIPPED rows mean nothing to the earlier release: they were never to be sent. PENDING rows
    # queued since the upgrade carry no action_id: the earlier relay's posts of them are refused
    # (DEAD, with the answer kept), and `soap-orders outbox retry` sends them after upgrading again.
    op.execute("DELETE FROM flow_outbox WHERE state = 'SKIPPED'")
    with op.batch_alter_table("flow_outbox") as batch:
        batch.drop_column("skipped_at")
