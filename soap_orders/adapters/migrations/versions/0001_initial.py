"""Initial schema: orders, lines, shipments, returns, refunds, idempotency records, order events

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:54:48.023604
"""

import sqlalchemy as sa
from alembic import op

# Exact decimals: NUMERIC where the database has it, canonical text on SQLite.
MONEY = sa.Numeric(18, 4).with_variant(sa.String(40), "sqlite")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client', 'request_id', name=op.f('pk_idempotency_records'))
    )
    op.create_table('order_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_events_order_number'), ['order_number'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('order_type', sa.Enum('STANDARD', 'PRE_ORDER', 'BACKORDER', 'SUBSCRIPTION', 'REPLACEMENT', 'EXCHANGE', name='ordertype', native_enum=False, length=32), nullable=False),
    sa.Column('channel', sa.Enum('WEB', 'MOBILE_APP', 'STORE', 'PHONE', 'MARKETPLACE', 'WHOLESALE', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'PROCESSING', 'ON_HOLD', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'CANCELLED', name='orderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('financial_status', sa.Enum('PENDING', 'AUTHORIZED', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED', name='financialstatus', native_enum=False, length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', MONEY, nullable=False),
    sa.Column('shipping_total', MONEY, nullable=False),
    sa.Column('tax_total', MONEY, nullable=False),
    sa.Column('discount_total', MONEY, nullable=False),
    sa.Column('total', MONEY, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Enum('CUSTOMER', 'FRAUD', 'INVENTORY', 'DECLINED', 'DAMAGED', 'LATE_DELIVERY', 'OTHER', name='reason', native_enum=False, length=32), nullable=True),
    sa.Column('expected_ship_date', sa.Date(), nullable=True),
    sa.Column('expected_delivery_date', sa.Date(), nullable=True),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('customer_first_name', sa.String(length=100), nullable=True),
    sa.Column('customer_last_name', sa.String(length=100), nullable=True),
    sa.Column('customer_phone', sa.String(length=32), nullable=True),
    sa.Column('ship_name', sa.String(length=200), nullable=True),
    sa.Column('ship_line1', sa.String(length=200), nullable=True),
    sa.Column('ship_line2', sa.String(length=200), nullable=True),
    sa.Column('ship_city', sa.String(length=100), nullable=True),
    sa.Column('ship_region', sa.String(length=100), nullable=True),
    sa.Column('ship_postal_code', sa.String(length=20), nullable=True),
    sa.Column('ship_country_code', sa.String(length=2), nullable=True),
    sa.Column('ship_phone', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('order_number', name=op.f('uq_orders_order_number'))
    )
    # Case-insensitive lookups by email, newest first.
    op.create_index('ix_orders_email_lower_created_at', 'orders', [sa.text('lower(customer_email)'), 'created_at'])
    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', MONEY, nullable=False),
    sa.Column('image_url', sa.String(length=2048), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'RETURNED', name='linestatus', native_enum=False, length=32), nullable=False),
    sa.Column('quantity_shipped', sa.Integer(), nullable=False),
    sa.Column('quantity_cancelled', sa.Integer(), nullable=False),
    sa.Column('quantity_refunded', sa.Integer(), nullable=False),
    sa.Column('quantity_returned', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'line_number', name=op.f('uq_order_lines_order_id_line_number'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.String(length=64), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('reason', sa.Enum('CUSTOMER', 'FRAUD', 'INVENTORY', 'DECLINED', 'DAMAGED', 'LATE_DELIVERY', 'OTHER', name='reason', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'COMPLETED', 'FAILED', name='refundstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('order_id', 'refund_id', name=op.f('uq_refunds_order_id_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)

    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('REQUESTED', 'LABEL_CREATED', 'IN_TRANSIT', 'RECEIVED', 'COMPLETED', 'REJECTED', 'CANCELLED', name='returnstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('return_tracking_number', sa.String(length=64), nullable=True),
    sa.Column('carrier_code', sa.String(length=64), nullable=True),
    sa.Column('label_url', sa.String(length=2048), nullable=True),
    sa.Column('warehouse_status', sa.Enum('AWAITING_ARRIVAL', 'RECEIVED', 'INSPECTING', 'ACCEPTED', 'REJECTED', name='warehousestatus', native_enum=False, length=32), nullable=False),
    sa.Column('refund_status', sa.Enum('NOT_STARTED', 'PENDING', 'REFUNDED', 'DECLINED', name='returnrefundstatus', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_returns_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returns_order_id'), ['order_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('LABEL_CREATED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELAYED', 'ATTEMPTED_DELIVERY', 'DELIVERED', 'EXCEPTION', 'RETURNED_TO_SENDER', name='shipmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('carrier_name', sa.String(length=100), nullable=True),
    sa.Column('carrier_code', sa.String(length=64), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('tracking_url', sa.String(length=2048), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expected_delivery_date', sa.Date(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)

    op.create_table('return_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_pk', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['return_pk'], ['returns.id'], name=op.f('fk_return_items_return_pk_returns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_items'))
    )
    with op.batch_alter_table('return_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_items_return_pk'), ['return_pk'], unique=False)

    op.create_table('shipment_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_pk', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_pk'], ['shipments.id'], name=op.f('fk_shipment_items_shipment_pk_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_items'))
    )
    with op.batch_alter_table('shipment_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_items_shipment_pk'), ['shipment_pk'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_orders_email_lower_created_at', table_name='orders')
    with op.batch_alter_table('shipment_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_items_shipment_pk'))

    op.drop_table('shipment_items')
    with op.batch_alter_table('return_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_items_return_pk'))

    op.drop_table('return_items')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returns_order_id'))

    op.drop_table('returns')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    op.drop_table('orders')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_events_order_number'))

    op.drop_table('order_events')
    op.drop_table('idempotency_records')
