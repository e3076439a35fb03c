"""Benchmark data sets: N realistic orders in a SQLite file or a PostgreSQL schema, built fast.

A few hundred template orders are written the ordinary way (the demo generator's records through
the upsert use case); the rest are bulk copies of them (``adapters.bulk_load``) under new order
numbers and emails, about three orders per email. One email, ``FIND_EMAIL``, has exactly 20
orders spread over the whole set, for FindOrdersByEmail. A built set is kept (``var/bench``) and
reused while its fingerprint (size, seed, loader version, schema revision) still matches, it
holds its own ``SO-`` orders, and the orders the load's UpsertOrders added (numbered ``UP-``) are
no more than a tenth of them (a 10k set is built afresh after each run, in seconds; a 1M set after
a few).
``pools`` reads, from a set as it stands, the orders the writing calls act on.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, exists, func, select, text
from sqlalchemy.engine import make_url

from soap_orders.adapters import bulk_load, migrate, orm
from soap_orders.adapters.database import create_database_engine, normalize_url
from soap_orders.bootstrap import build_dependencies
from soap_orders.demo import FIRST_ORDER_NUMBER, generate_records
from soap_orders.documents.records import order_from_record
from soap_orders.domain.orders import FinancialStatus, OrderStatus
from soap_orders.ingest.orders import upsert_orders
from tests.server import settings_for_tests

LOADER_VERSION = 1
SEED = 7
TEMPLATES = 400
FIND_EMAIL = "twenty.orders@bench.example.com"
FIND_ORDERS = 20
#: GetOrder cycles through this many orders spread over the set; IssueRefund through at most as many.
SAMPLE = 500


@dataclass(frozen=True)
class Plan:
    """What a data set holds that the load needs."""

    database_url: str
    count: int
    fingerprint: str
    get_numbers: list[str]
    refund_numbers: list[str]
    find_email: str


def _fingerprint(count: int) -> str:
    return f"orders={count} seed={SEED} templates={TEMPLATES} loader={LOADER_VERSION} schema={migrate.head_revision()}"


def _number(index: int) -> str:
    return f"SO-{FIRST_ORDER_NUMBER + index}"


def _spread(items: list[Any], count: int) -> list[Any]:
    if len(items) <= count:
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def _write_templates(database_url: str, count: int) -> tuple[list[str], set[str], list[str]]:
    """Upsert the template orders; returns their numbers, the refundable ones, and their emails."""
    deps = build_dependencies(settings_for_tests(database_url))
    try:
        records = list(generate_records(count, seed=SEED))
        orders = [order_from_record(r) for r in records]
        for start in range(0, len(orders), 200):
            upsert_orders(deps.uow(), orders[start:start + 200], deps.clock)
    finally:
        deps.engine.dispose()
    refundable = {
        o.order_number for o in orders
        if o.financial_status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED)
        and o.status is not OrderStatus.CANCELLED and o.currency != "JPY" and o.refundable_amount >= Decimal(20)
    }
    return [o.order_number for o in orders], refundable, [o.customer.email for o in orders]


def _copies(count: int, numbers: list[str], emails: list[str]) -> list[bulk_load.OrderCopy]:
    templates = len(numbers)
    extra = count - templates
    find_positions = {j * extra // FIND_ORDERS for j in range(FIND_ORDERS)}
    copies = []
    for i in range(extra):
        # A stride coprime with the template count mixes the templates; three orders per email.
        template = (i * 7919) % templates
        group_template = ((i - i % 3) * 7919) % templates
        local, _, domain = emails[group_template].partition("@")
        email = FIND_EMAIL if i in find_positions else f"{local}.{i // 3}@{domain.lower()}"
        copies.append(bulk_load.OrderCopy(numbers[template], _number(templates + i), email))
    return copies


def _postgres_schema_url(base_url: str, schema: str, *, fresh: bool) -> str:
    url = normalize_url(base_url)
    if fresh:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            admin.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _stored_count(database_url: str) -> tuple[int, int]:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            # The set's own orders; UpsertOrders in the load adds orders of other numbers (UP-...): a set
            # grown by more than a tenth of its size is built afresh (counted as not matching).
            total = connection.scalar(select(func.count()).select_from(orm.orders).where(
                orm.orders.c.order_number.like("SO-%"))) or 0
            added = connection.scalar(select(func.count()).select_from(orm.orders).where(
                ~orm.orders.c.order_number.like("SO-%"))) or 0
            if added > total // 10:
                return -1, -1
            find = connection.scalar(select(func.count()).select_from(orm.orders).where(
                func.lower(orm.orders.c.customer_email) == FIND_EMAIL)) or 0
            return int(total), int(find)
    except Exception:  # noqa: BLE001 - a missing or half-built set is rebuilt
        return -1, -1
    finally:
        engine.dispose()


def _where(kind: str, count: int, cache: Path, postgres_base: str | None, name: str) -> tuple[Path, Path, str]:
    """The plan file, the SQLite file and the schema of a data set (``name`` "" for the kept ones)."""
    prefix = f"{name}-" if name else ""
    schema = f"bench_{name}_{count}" if name else f"bench_{count}"
    return cache / f"{prefix}{kind}-{count}.json", cache / f"{name or 'orders'}-{count}.sqlite3", schema


def prepare(kind: str, count: int, cache: Path, postgres_base: str | None, *, rebuild: bool = False,
            log: Any = print, name: str = "") -> Plan:
    """The data set of ``count`` orders on ``kind`` ("sqlite" or "postgresql"), built unless kept;
    ``name`` gives it a file and schema of its own beside the kept ones."""
    cache.mkdir(parents=True, exist_ok=True)
    plan_file, database_file, schema = _where(kind, count, cache, postgres_base, name)
    fingerprint = _fingerprint(count)
    if kind == "sqlite":
        url = f"sqlite:///{database_file}"
    else:
        assert postgres_base is not None
        url = _postgres_schema_url(postgres_base, schema, fresh=False)
    if not rebuild and plan_file.exists():
        kept = Plan(**json.loads(plan_file.read_text()))
        if kept.fingerprint == fingerprint and kept.database_url == url and _stored_count(url) == (count, FIND_ORDERS):
            log(f"  {kind} {count:,} orders: kept from an earlier run")
            return kept
    started = time.monotonic()
    plan_file.unlink(missing_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    else:
        url = _postgres_schema_url(postgres_base or "", schema, fresh=True)
    engine = create_database_engine(url)
    try:
        migrate.upgrade(engine)
        numbers, refundable, emails = _write_templates(url, min(TEMPLATES, count - FIND_ORDERS))
        copies = _copies(count, numbers, emails)
        def progress(written: int) -> None:
            if written % 200_000 < 10_000:
                log(f"    {written:,} of {len(copies):,} copies written ({time.monotonic() - started:.0f} s)")

        bulk_load.copy_orders(engine, copies, progress=progress)
        bulk_load.analyze(engine)
    finally:
        engine.dispose()
    stored = _stored_count(url)
    if stored != (count, FIND_ORDERS):
        raise RuntimeError(f"the {kind} data set holds {stored} (orders, orders of {FIND_EMAIL}), "
                           f"expected {(count, FIND_ORDERS)}")
    all_numbers = [_number(i) for i in range(count)]
    refund_numbers = [c.order_number for c in copies if c.template in refundable and c.email != FIND_EMAIL]
    plan = Plan(url, count, fingerprint, _spread(all_numbers, SAMPLE), _spread(refund_numbers, SAMPLE), FIND_EMAIL)
    plan_file.write_text(json.dumps(asdict(plan), indent=1))
    log(f"  {kind} {count:,} orders: built in {time.monotonic() - started:.0f} s")
    return plan


@dataclass(frozen=True)
class Pools:
    """Orders of a data set the writing calls act on, read from the database as it stands (a kept set
    changes as the benchmark writes to it). The pools are disjoint."""

    #: Not shipped nor cancelled: ChangeShippingAddress (any number of times).
    address: list[str]
    #: (order number, shipment id) of shipments in transit: RecordShipment updating one.
    shipments: list[tuple[str, str]]
    #: Not shipped nor cancelled, each to be used once: CancelOrder.
    cancel: list[str]
    #: Not shipped nor cancelled, each once: CancelOrderLines of one unit of line 1.
    cancel_lines: list[str]
    #: (order number, SKU of line 1) not shipped nor cancelled, each once: RecordShipment of a new shipment.
    ship: list[tuple[str, str]]
    #: Delivered, line 1 delivered and nothing of it returned, refunded or replaced, each once:
    #: CreateReturn of one unit (the first half) and IssueReplacement of one unit (the second half).
    delivered: list[str]
    #: (order number, return id) of returns not yet received, each once: UpdateReturn to RECEIVED.
    returns: list[tuple[str, str]]


def pools(database_url: str, repeatable: int = SAMPLE, once: int = 0) -> Pools:
    """The pools of the data set at ``database_url``: ``repeatable`` orders for the calls that can be
    repeated, ``once`` distinct ones for each call that can be made once per order."""
    o, lines, shipments, returns = orm.orders, orm.order_lines, orm.shipments, orm.returns
    unshipped = (OrderStatus.PENDING.value, OrderStatus.PROCESSING.value)
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            open_orders = list(connection.execute(
                select(o.c.order_number, lines.c.sku).join(lines, lines.c.order_id == o.c.id)
                .where(o.c.status.in_(unshipped), lines.c.line_number == 1, lines.c.quantity_shipped == 0,
                       lines.c.quantity_cancelled == 0, o.c.order_number.like("SO-%"))
                .order_by(o.c.id)))
            in_transit = list(connection.execute(
                select(o.c.order_number, shipments.c.shipment_id).join(shipments, shipments.c.order_id == o.c.id)
                .where(shipments.c.status == "IN_TRANSIT", o.c.status != OrderStatus.CANCELLED.value,
                       o.c.order_number.like("SO-%")).order_by(o.c.id)))
            delivered = list(connection.scalars(
                select(o.c.order_number).join(lines, lines.c.order_id == o.c.id)
                .where(o.c.status == OrderStatus.DELIVERED.value, lines.c.line_number == 1,
                       lines.c.status == "DELIVERED", lines.c.quantity_returned == 0,
                       lines.c.quantity_refunded == 0, lines.c.quantity_replaced == 0,
                       ~exists().where(returns.c.order_id == o.c.id), o.c.order_number.like("SO-%"))
                .order_by(o.c.id))) if once else []
            arriving = list(connection.execute(
                select(o.c.order_number, returns.c.return_id).join(returns, returns.c.order_id == o.c.id)
                .where(returns.c.status.in_(("REQUESTED", "LABEL_CREATED", "IN_TRANSIT")),
                       o.c.order_number.like("SO-%")).order_by(o.c.id))) if once else []
    finally:
        engine.dispose()
    # The consumed pools first (each order once), then the repeatable one from what is left.
    numbers = [(str(n), str(s)) for n, s in open_orders]
    cancel, cancel_lines, ship = (numbers[i * once:(i + 1) * once] for i in range(3))
    address = _spread([n for n, _ in numbers[3 * once:]], repeatable)
    return Pools(address, _spread([(str(n), str(s)) for n, s in in_transit], repeatable),
                 [n for n, _ in cancel], [n for n, _ in cancel_lines], ship,
                 [str(n) for n in delivered[:2 * once]], [(str(n), str(r)) for n, r in arriving[:once]])


def drop(kind: str, count: int, cache: Path, postgres_base: str | None, *, name: str) -> None:
    """Remove the data set ``name`` (its file, or its schema, and its plan)."""
    plan_file, database_file, schema = _where(kind, count, cache, postgres_base, name)
    plan_file.unlink(missing_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database_file}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(normalize_url(postgres_base or ""), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
