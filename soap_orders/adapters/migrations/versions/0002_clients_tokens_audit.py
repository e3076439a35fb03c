"""API clients, OAuth2 tokens, WS-Security nonces, authentication failures, audit records

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("encrypted_secret", sa.Text()),
        sa.Column("allowed_networks", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_clients"),
        sa.UniqueConstraint("name", name="uq_api_clients_name"),
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_oauth_tokens"),
    )
    op.create_index("ix_oauth_tokens_client", "oauth_tokens", ["client"])
    op.create_index("ix_oauth_tokens_expires_at", "oauth_tokens", ["expires_at"])
    op.create_table(
        "wsse_nonces",
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_wsse_nonces"),
    )
    op.create_index("ix_wsse_nonces_keep_until", "wsse_nonces", ["keep_until"])
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_failures"),
    )
    op.create_index("ix_auth_failures_key_occurred_at", "auth_failures", ["key", "occurred_at"])
    op.create_table(
        "audit_records",
        sa.Column("id", ID64, autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("address", sa.String(45)),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("order_number", sa.String(64)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_records"),
    )
    op.create_index("ix_audit_records_order_number", "audit_records", ["order_number"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_order_number", table_name="audit_records")
    op.drop_table("audit_records")
    op.drop_index("ix_auth_failures_key_occurred_at", table_name="auth_failures")
    op.drop_table("auth_failures")
    op.drop_index("ix_wsse_nonces_keep_until", table_name="wsse_nonces")
    op.drop_table("wsse_nonces")
    op.drop_index("ix_oauth_tokens_expires_at", table_name="oauth_tokens")
    op.drop_index("ix_oauth_tokens_client", table_name="oauth_tokens")
    op.drop_table("oauth_tokens")
    op.drop_table("api_clients")
