# Over 500 lines: every table of the schema and its mapping, in one module so the schema reads whole beside its migrations.
"""Tables, and the classical mapping of the domain's dataclasses onto them.

The domain does not know it is mapped: ``start_mappers`` instruments its classes once per process.
Money is stored exactly (NUMERIC on PostgreSQL, text on SQLite, which has no exact decimal type);
timestamps are stored in timezone.utc and always come back timezone-aware.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import (
    class_mapper,
    composite,
    configure_mappers,
    registry,
    relationship,
)
from sqlalchemy.orm.attributes import init_collection, instance_state
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..documents import records
from ..domain import limits
from ..domain import orders as model
from ..domain import subscriptions as subs
from ..domain.clients import ApiClient, Scope
from ..domain.recurrence import Interval

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)
mapper_registry = registry(metadata=metadata)


class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC(18, 4) where the database has it, canonical text on SQLite."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return f"{value:f}" if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: refuses naive values, stores timezone.utc, returns aware timezone.utc datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone.utc time is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _enum(kind: type[enum.Enum]) -> Enum:
    """Enumerations are stored by value as short strings, without database enum types."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _text(limit: int) -> String:
    return String(limit)


class StringList(TypeDecorator[list]):
    """A short list of strings, stored as JSON; NULL reads back as an empty list."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[str] | None:
        return list(value) if value else None

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        return list(value or [])


def _customer_and_address_columns() -> list[Column[Any]]:
    """The customer and the shipping address, embedded in the table of whatever they belong to
    (orders, subscriptions) and mapped as composites of ``Customer`` and ``Address``, and when
    they were forgotten at the customer's request (the tombstone, see ``domain.privacy``)."""
    return [
        Column("customer_email", _text(limits.EMAIL), nullable=False),
        Column("customer_first_name", _text(limits.PERSON_NAME)),
        Column("customer_last_name", _text(limits.PERSON_NAME)),
        Column("customer_phone", _text(limits.PHONE)),
        Column("ship_name", _text(limits.ADDRESS_NAME)),
        Column("ship_line1", _text(limits.ADDRESS_LINE)),
        Column("ship_line2", _text(limits.ADDRESS_LINE)),
        Column("ship_city", _text(limits.PLACE)),
        Column("ship_region", _text(limits.PLACE)),
        Column("ship_postal_code", _text(limits.POSTAL_CODE)),
        Column("ship_country_code", String(limits.COUNTRY_CODE)),
        Column("ship_phone", _text(limits.PHONE)),
        Column("forgotten_at", UTCDateTime),
    ]


orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_number", _text(limits.ORDER_NUMBER), nullable=False, unique=True),
    Column("order_type", _enum(model.OrderType), nullable=False),
    Column("channel", _enum(model.Channel), nullable=False),
    Column("status", _enum(model.OrderStatus), nullable=False),
    Column("financial_status", _enum(model.FinancialStatus), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("shipping_total", Money, nullable=False),
    Column("tax_total", Money, nullable=False),
    Column("discount_total", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", _enum(model.Reason)),
    Column("expected_ship_date", Date),
    Column("expected_delivery_date", Date),
    *_customer_and_address_columns(),
    Column("address_changed_at", UTCDateTime),
    Column("replaces_order_number", _text(limits.ORDER_NUMBER), index=True),
    Column("replacement_order_numbers", StringList),
    Column("cancel_origin", _enum(model.Origin)),
    Column("address_origin", _enum(model.Origin), nullable=False, server_default=model.Origin.ERP.value),
)
# Case-insensitive lookups by email, newest first.
Index("ix_orders_email_lower_created_at", func.lower(orders.c.customer_email), orders.c.created_at)

# Each order's document, written again in the transaction of any change to the order, so reads
# fetch it in one query (see documents/rendered.py); render_version tells a current one.
order_documents = Table(
    "order_documents",
    metadata,
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("render_version", Integer, nullable=False),
    Column("xml", Text, nullable=False),
    Column("json", Text, nullable=False),
    # The fingerprint of the ERP record (``soap-orders import``) whose merge left the order as it
    # is, and that merging again would not change; cleared whenever the document is written by
    # anything else, so an import may skip a record carrying the same fingerprint.
    Column("feed_fingerprint", String(64)),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("line_number", Integer, nullable=False),
    Column("sku", _text(limits.SKU), nullable=False),
    Column("name", _text(limits.PRODUCT_NAME), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("image_url", _text(limits.URL)),
    Column("status", _enum(model.LineStatus), nullable=False),
    Column("quantity_shipped", Integer, nullable=False),
    Column("quantity_cancelled", Integer, nullable=False),
    Column("quantity_refunded", Integer, nullable=False),
    Column("quantity_returned", Integer, nullable=False),
    Column("quantity_replaced", Integer, nullable=False, server_default="0"),
    Column("out_of_stock", Boolean, nullable=False, server_default=false()),
    Column("quantity_refunded_by_service", Integer, nullable=False, server_default="0"),
    Column("quantity_cancelled_by_service", Integer, nullable=False, server_default="0"),
    UniqueConstraint("order_id", "line_number"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("shipment_id", _text(limits.IDENTIFIER), nullable=False),
    Column("status", _enum(model.ShipmentStatus), nullable=False),
    Column("carrier_name", _text(limits.CARRIER_NAME)),
    Column("carrier_code", _text(limits.IDENTIFIER)),
    Column("tracking_number", _text(limits.IDENTIFIER)),
    Column("tracking_url", _text(limits.URL)),
    Column("shipped_at", UTCDateTime),
    Column("expected_delivery_date", Date),
    Column("delivered_at", UTCDateTime),
)
# Customers quote tracking numbers in any case: exact, case-insensitive lookups.
Index("ix_shipments_tracking_number_lower", func.lower(shipments.c.tracking_number))

shipment_items = Table(
    "shipment_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shipment_pk", ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sku", _text(limits.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
)

returns = Table(
    "returns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("return_id", _text(limits.IDENTIFIER), nullable=False),
    Column("status", _enum(model.ReturnStatus), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("reason", _text(limits.RETURN_REASON)),
    Column("return_tracking_number", _text(limits.IDENTIFIER)),
    Column("carrier_code", _text(limits.IDENTIFIER)),
    Column("label_url", _text(limits.URL)),
    Column("warehouse_status", _enum(model.WarehouseStatus), nullable=False),
    Column("refund_status", _enum(model.ReturnRefundStatus), nullable=False),
    Column("refund_id", _text(limits.IDENTIFIER)),
    Column("origin", _enum(model.Origin), nullable=False, server_default=model.Origin.ERP.value),
    Column("settled_by", _enum(model.Origin)),
)
Index("ix_returns_return_tracking_number_lower", func.lower(returns.c.return_tracking_number))

return_items = Table(
    "return_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("return_pk", ForeignKey("returns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sku", _text(limits.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("line_number", Integer),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("refund_id", _text(limits.IDENTIFIER), nullable=False),
    Column("amount", Money, nullable=False),
    Column("reason", _enum(model.Reason), nullable=False),
    Column("status", _enum(model.RefundStatus), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("note", _text(limits.NOTE)),
    Column("origin", _enum(model.Origin), nullable=False, server_default=model.Origin.ERP.value),
    UniqueConstraint("order_id", "refund_id"),
)

# One row per client and RequestId of a state-changing call: the first result, replayed for the
# same id. Each client has its own RequestIds.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("request_id", _text(limits.REQUEST_ID), primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", JSON),
    # Indexed for `soap-orders prune`, as are the times of events and audit records.
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

# Append-only log of what was done to orders; ERP systems read it back in id order.
order_events = Table(
    "order_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_number", _text(limits.ORDER_NUMBER), index=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False, index=True),
    # Who made the change (the API client, or import / demo-data), and under which RequestId.
    Column("client", String(64)),
    Column("request_id", _text(limits.REQUEST_ID)),
    # The subject of a subscription's event (order_number is then empty).
    Column("subscription_id", _text(limits.SUBSCRIPTION_ID), index=True),
)


class PlanChangeJSON(TypeDecorator[subs.PlanChange]):
    """A pending plan change, kept as one JSON value (money and dates as strings)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: subs.PlanChange | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        return {
            "items": [
                {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price": f"{i.unit_price:f}",
                 "image_url": i.image_url}
                for i in value.items
            ],
            "price": f"{value.price:f}",
            "interval": value.frequency.interval.value,
            "interval_count": value.frequency.interval_count,
            "anchor_date": value.anchor_date.isoformat(),
            "effective_date": value.effective_date.isoformat() if value.effective_date else None,
            "requested_at": value.requested_at.astimezone(timezone.utc).isoformat(),
        }

    def process_result_value(self, value: dict[str, Any] | None, dialect: Dialect) -> subs.PlanChange | None:
        if value is None:
            return None
        return subs.PlanChange(
            items=tuple(
                subs.SubscriptionItem(i["sku"], i["name"], i["quantity"], Decimal(i["unit_price"]), i["image_url"])
                for i in value["items"]
            ),
            price=Decimal(value["price"]),
            frequency=subs.Frequency(Interval(value["interval"]), value["interval_count"]),
            anchor_date=date.fromisoformat(value["anchor_date"]),
            effective_date=date.fromisoformat(value["effective_date"]) if value["effective_date"] else None,
            requested_at=datetime.fromisoformat(value["requested_at"]),
        )


class ScopeSet(TypeDecorator[frozenset]):
    """A set of scopes, stored as their names separated by spaces."""

    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else " ".join(sorted(Scope(v).value for v in value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> frozenset[Scope] | None:
        return None if value is None else frozenset(Scope(v) for v in value.split())


class NetworkList(TypeDecorator[tuple]):
    """CIDR strings, stored separated by spaces."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else " ".join(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(value.split())


api_clients = Table(
    "api_clients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("scopes", ScopeSet, nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("encrypted_secret", Text),
    Column("allowed_networks", NetworkList, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("secret_rotated_at", UTCDateTime),
)

# Issued OAuth2 tokens, known only by their SHA-256 digests.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("client", String(64), nullable=False, index=True),
    Column("scopes", ScopeSet, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("revoked", Boolean, nullable=False),
)

# WS-Security nonces seen recently: each may be used once, by any worker of any instance.
wsse_nonces = Table(
    "wsse_nonces",
    metadata,
    Column("nonce", String(128), primary_key=True),
    Column("client", String(64), nullable=False),
    Column("keep_until", UTCDateTime, nullable=False, index=True),
)

# Failed authentications, per client and per address, for throttling.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(128), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_auth_failures_key_occurred_at", "key", "occurred_at"),
)

# Who changed what: one row per state-changing call, written with the change.
audit_records = Table(
    "audit_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("occurred_at", UTCDateTime, nullable=False, index=True),
    Column("client", String(64), nullable=False),
    Column("address", String(45)),
    Column("operation", String(64), nullable=False),
    Column("order_number", _text(limits.ORDER_NUMBER), index=True),
    Column("request_id", _text(limits.REQUEST_ID)),
    Column("outcome", String(64), nullable=False),
    Column("details", JSON),
    Column("subscription_id", _text(limits.SUBSCRIPTION_ID), index=True),
)

# Notifications for the consumer's Flow Execution API, written with the change they announce and
# posted by the relay (``soap-orders relay``): PENDING until a 2xx answer (SENT) or given up (DEAD).
flow_outbox = Table(
    "flow_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_number", _text(limits.ORDER_NUMBER), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("external_id", String(100), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("claim_token", String(32)),
    Column("last_attempt_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("skipped_at", UTCDateTime),
    Index("ix_flow_outbox_state_next_attempt_at", "state", "next_attempt_at"),
    Index("ix_flow_outbox_order_number_id", "order_number", "id"),
)


#: The relays draining the outbox, one row per relay process: what it sends and skips, when it was
#: last heard from and when it last delivered (what instances and `outbox status` report).
outbox_relays = Table(
    "outbox_relays",
    metadata,
    Column("relay_id", String(32), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime),
    Column("flow_types", String(200), nullable=False),
    Column("skip_types", String(200), nullable=False),
    Column("last_delivered_at", UTCDateTime),
    Column("delivered", BigInteger, nullable=False),
)


subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", _text(limits.SUBSCRIPTION_ID), nullable=False, unique=True),
    Column("name", _text(limits.SUBSCRIPTION_NAME), nullable=False),
    Column("status", _enum(subs.SubscriptionStatus), nullable=False),
    Column("currency", String(limits.CURRENCY), nullable=False),
    Column("price", Money, nullable=False),
    Column("interval", _enum(Interval), nullable=False),
    Column("interval_count", Integer, nullable=False),
    Column("anchor_date", Date),
    Column("created_at", UTCDateTime, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("next_order_date", Date),
    Column("last_order_date", Date),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", _enum(subs.CancelReason)),
    Column("cancel_note", _text(limits.NOTE)),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("cancel_effective_date", Date),
    Column("refunded_at", UTCDateTime),
    Column("paused_at", UTCDateTime),
    Column("paused_until", Date),
    Column("paused_cycles", Integer),
    Column("pending_change", PlanChangeJSON),
    Column("service_lifecycle", _enum(subs.LifecycleAction)),
    *_customer_and_address_columns(),
)
# Case-insensitive lookups by email, newest first.
Index("ix_subscriptions_email_lower_created_at", func.lower(subscriptions.c.customer_email),
      subscriptions.c.created_at)


def _subscription_child(name: str, *columns: Any, unique: tuple[str, ...] = ()) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("subscription_pk", ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False, index=True),
        *columns,
        *([UniqueConstraint("subscription_pk", *unique)] if unique else []),
    )


subscription_items = _subscription_child(
    "subscription_items",
    Column("sku", _text(limits.SKU), nullable=False),
    Column("name", _text(limits.PRODUCT_NAME), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("image_url", _text(limits.URL)),
)
subscription_charges = _subscription_child(
    "subscription_charges",
    Column("charge_id", _text(limits.CHARGE_ID), nullable=False),
    Column("amount", Money, nullable=False),
    Column("refunded_amount", Money, nullable=False),
    Column("status", _enum(subs.ChargeStatus), nullable=False),
    Column("charged_at", UTCDateTime, nullable=False),
    Column("order_number", _text(limits.ORDER_NUMBER)),
    unique=("charge_id",),
)
subscription_refunds = _subscription_child(
    "subscription_refunds",
    Column("refund_id", _text(limits.IDENTIFIER), nullable=False),
    Column("charge_id", _text(limits.CHARGE_ID), nullable=False),
    Column("amount", Money, nullable=False),
    Column("reason", _enum(model.Reason), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("note", _text(limits.NOTE)),
    unique=("refund_id",),
)
subscription_skips = _subscription_child(
    "subscription_skips",
    Column("order_date", Date, nullable=False),
    Column("skipped_at", UTCDateTime, nullable=False),
)
subscription_orders = _subscription_child(
    "subscription_orders",
    Column("order_number", _text(limits.ORDER_NUMBER), nullable=False),
    Column("order_date", Date),
    unique=("order_number",),
)


def new_object_builder(kind: type) -> Callable[..., Any]:
    """Builds a new object of the mapped dataclass ``kind`` as ``kind(**values)`` does, without an
    instrumented event per attribute: the same attributes, the same state of a new object (each
    column's value new, each collection's items added to it, each item knowing its parent), which
    the tests hold side by side with the class's own constructor. Used for the objects records are
    read into (``documents.records.build_with``), many of which are new orders."""
    Step = tuple[str, Callable[[], Any] | None, str, Any]
    #: The steps, worked out on first use (once the mappers are configured), then kept whole: a
    #: thread never sees a part of them.
    prepared: list[tuple[Step, ...]] = []

    def prepare() -> tuple[Step, ...]:
        configure_mappers()
        plan: list[Step] = []
        if hasattr(kind, "__post_init__") or not all(item.init for item in dataclasses.fields(kind)):
            plan.append(("", None, "constructor", None))  # built by the class itself
            return tuple(plan)
        mapper: Any = class_mapper(kind)
        columns = {p.key for p in mapper.column_attrs}
        collections = {p.key for p in mapper.relationships}
        composites = {p.key: p for p in mapper.composites}
        for item in dataclasses.fields(kind):
            if not item.init:
                continue
            default: Callable[[], Any] | None = None
            if item.default is not dataclasses.MISSING:
                default = functools.partial(_same, item.default)
            elif item.default_factory is not dataclasses.MISSING:
                default = item.default_factory
            way = ("collection" if item.name in collections else "composite" if item.name in composites
                   else "column" if item.name in columns else "plain")
            plan.append((item.name, default, way, composites.get(item.name)))
        return tuple(plan)

    def build(**values: Any) -> Any:
        if not prepared:
            prepared.append(prepare())
        plan = prepared[0]
        if plan[0][2] == "constructor":
            return kind(**values)
        obj = manager.new_instance()
        state = instance_state(obj)
        own = obj.__dict__
        new = state.committed_state  # what a first set records for each column: no value before
        collections = []
        for name, default, way, composite_property in plan:
            if name in values:
                value = values[name]
            elif default is not None:
                value = default()
            else:
                raise TypeError(f"{kind.__name__}() missing required argument: '{name}'")
            if way == "column":
                own[name] = value
                new[name] = NO_VALUE
            elif way == "plain":
                own[name] = value
            elif way == "composite":
                own[name] = value
                parts = ((None,) * len(composite_property._attribute_keys) if value is None
                         else composite_property._composite_values_from_instance(value))
                for key, part in zip(composite_property._attribute_keys, parts, strict=True):
                    own[key] = part
                    new[key] = NO_VALUE
            else:
                collections.append((name, value))
        for name, items in collections:
            adapter = init_collection(obj, name)
            for item in items:
                adapter.append_with_event(item)
            new.setdefault(name, [])  # as a collection first given: empty before
        state.modified = True
        return obj

    manager: Any = manager_of_class(kind)
    return build


def _same(value: Any) -> Any:
    return value


def _children(kind: type, table: Table, order_by: Any) -> Any:
    return relationship(kind, order_by=order_by, cascade="all, delete-orphan", lazy="selectin")


def start_mappers() -> None:
    """Map the domain classes; safe to call more than once."""
    if getattr(model.Order, "__mapper__", None) is not None:
        return
    mapper_registry.map_imperatively(ApiClient, api_clients)
    mapper_registry.map_imperatively(model.ShipmentItem, shipment_items)
    mapper_registry.map_imperatively(model.ReturnItem, return_items)
    mapper_registry.map_imperatively(model.OrderLine, order_lines)
    mapper_registry.map_imperatively(model.Refund, refunds)
    mapper_registry.map_imperatively(
        model.Shipment,
        shipments,
        properties={"items": _children(model.ShipmentItem, shipment_items, shipment_items.c.id)},
    )
    mapper_registry.map_imperatively(
        model.Return,
        returns,
        properties={"items": _children(model.ReturnItem, return_items, return_items.c.id)},
    )
    mapper_registry.map_imperatively(
        model.Order,
        orders,
        properties={
            "customer": composite(
                model.Customer,
                orders.c.customer_email,
                orders.c.customer_first_name,
                orders.c.customer_last_name,
                orders.c.customer_phone,
            ),
            "shipping_address": composite(
                model.Address,
                orders.c.ship_name,
                orders.c.ship_line1,
                orders.c.ship_line2,
                orders.c.ship_city,
                orders.c.ship_region,
                orders.c.ship_postal_code,
                orders.c.ship_country_code,
                orders.c.ship_phone,
            ),
            "lines": _children(model.OrderLine, order_lines, order_lines.c.line_number),
            "shipments": _children(model.Shipment, shipments, shipments.c.id),
            "returns": _children(model.Return, returns, returns.c.id),
            "refunds": _children(model.Refund, refunds, refunds.c.id),
        },
    )
    _map_subscriptions()
    for kind in (model.Order, model.OrderLine, model.Shipment, model.ShipmentItem, model.Return, model.ReturnItem,
                 model.Refund):
        records.build_with(kind, new_object_builder(kind))


def _map_subscriptions() -> None:
    mapper_registry.map_imperatively(subs.SubscriptionItem, subscription_items)
    mapper_registry.map_imperatively(subs.Charge, subscription_charges)
    mapper_registry.map_imperatively(subs.SubscriptionRefund, subscription_refunds)
    mapper_registry.map_imperatively(subs.SkippedOrder, subscription_skips)
    mapper_registry.map_imperatively(subs.ProducedOrder, subscription_orders)
    mapper_registry.map_imperatively(
        subs.Subscription,
        subscriptions,
        properties={
            "customer": composite(
                model.Customer,
                subscriptions.c.customer_email,
                subscriptions.c.customer_first_name,
                subscriptions.c.customer_last_name,
                subscriptions.c.customer_phone,
            ),
            "shipping_address": composite(
                model.Address,
                subscriptions.c.ship_name,
                subscriptions.c.ship_line1,
                subscriptions.c.ship_line2,
                subscriptions.c.ship_city,
                subscriptions.c.ship_region,
                subscriptions.c.ship_postal_code,
                subscriptions.c.ship_country_code,
                subscriptions.c.ship_phone,
            ),
            "frequency": composite(subs.Frequency, subscriptions.c.interval, subscriptions.c.interval_count),
            "items": _children(subs.SubscriptionItem, subscription_items, subscription_items.c.id),
            "charges": _children(subs.Charge, subscription_charges, subscription_charges.c.id),
            "refunds": _children(subs.SubscriptionRefund, subscription_refunds, subscription_refunds.c.id),
            "skipped_orders": _children(subs.SkippedOrder, subscription_skips, subscription_skips.c.id),
            "orders": _children(subs.ProducedOrder, subscription_orders, subscription_orders.c.id),
        },
    )
