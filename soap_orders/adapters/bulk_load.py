"""Copy stored orders in bulk: many orders cheaply, for benchmarks and load tests.

``copy_orders`` takes orders already in the database (written the ordinary way, through the use
cases) as templates and writes copies of them under new order numbers and customer emails, with
every child row (lines, shipments and their items, returns and their items, refunds). Rows are
copied as the database holds them, so a copy is exactly as valid as its template; its kept-written
document is the template's with the order number and email put in (the template's own document
must be current: write it through the use cases, or run ``write_missing_documents`` first).

It writes in large chunks, one transaction each: executemany on SQLite, ``COPY ... FROM STDIN``
on PostgreSQL (psycopg 3). It bypasses the use cases on purpose: no events, audit or idempotency
rows are written for copies. Every table it copies is one of the order tables of ``orm``; a table
added to hold more per-order data must be added here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Connection, Engine, Table, text

from . import orm
from .database import copy_rows


@dataclass(frozen=True)
class OrderCopy:
    """Write a copy of the stored order ``template`` as ``order_number`` for ``email``."""

    template: str
    order_number: str
    email: str


# (table, the column naming its parent, the parent table): parents come before their children.
_CHILDREN: tuple[tuple[Table, str, Table], ...] = (
    (orm.order_lines, "order_id", orm.orders),
    (orm.shipments, "order_id", orm.orders),
    (orm.shipment_items, "shipment_pk", orm.shipments),
    (orm.returns, "order_id", orm.orders),
    (orm.return_items, "return_pk", orm.returns),
    (orm.refunds, "order_id", orm.orders),
)
TABLES: tuple[Table, ...] = (orm.orders, *(table for table, _, _ in _CHILDREN))


def _columns(table: Table) -> list[str]:
    return [column.name for column in table.columns]


@dataclass
class _Template:
    """One stored order's rows, as the driver returned them: table name -> rows."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    #: The template's kept-written document: (render_version, xml, json), or None (a copy's has no
    #: feed fingerprint).
    document: tuple[int, str, str] | None = None
    number: str = ""
    email: str = ""

    def document_for(self, order_id: int, copy: OrderCopy) -> tuple[Any, ...] | None:
        """The copy's document row: the template's, with the copy's number and email."""
        if self.document is None:
            return None
        version, xml, document = self.document
        xml = xml.replace(f"<tns:OrderNumber>{escape(self.number)}</tns:OrderNumber>",
                          f"<tns:OrderNumber>{escape(copy.order_number)}</tns:OrderNumber>", 1)
        xml = xml.replace(f"<tns:Email>{escape(self.email)}</tns:Email>", f"<tns:Email>{escape(copy.email)}</tns:Email>", 1)
        document = document.replace(f'"OrderNumber":{json.dumps(self.number, ensure_ascii=False)}',
                                    f'"OrderNumber":{json.dumps(copy.order_number, ensure_ascii=False)}', 1)
        document = document.replace(f'"Email":{json.dumps(self.email, ensure_ascii=False)}',
                                    f'"Email":{json.dumps(copy.email, ensure_ascii=False)}', 1)
        return (order_id, version, xml, document, None)  # a copy is no ERP record's merge


def _read_template(connection: Connection, order_number: str) -> _Template:
    # text() statements return the driver's own values, untouched by the column types, so the
    # copies are written back exactly as the templates are stored.
    template = _Template()
    order_columns = _columns(orm.orders)
    found = connection.execute(
        text(f"SELECT {', '.join(order_columns)} FROM orders WHERE order_number = :n"), {"n": order_number}
    ).all()
    if len(found) != 1:
        raise LookupError(f"template order {order_number!r} is not stored")
    template.rows["orders"] = [tuple(found[0])]
    template.number = found[0][order_columns.index("order_number")]
    template.email = found[0][order_columns.index("customer_email")]
    stored = connection.execute(
        text("SELECT render_version, xml, json FROM order_documents WHERE order_id = :i"),
        {"i": found[0][order_columns.index("id")]},
    ).one_or_none()
    template.document = None if stored is None else (stored[0], stored[1], stored[2])
    ids: dict[str, list[Any]] = {"orders": [found[0][order_columns.index("id")]]}
    for table, parent_column, parent in _CHILDREN:
        columns = _columns(table)
        rows: list[tuple[Any, ...]] = []
        for parent_id in ids[parent.name]:
            rows += [tuple(row) for row in connection.execute(
                text(f"SELECT {', '.join(columns)} FROM {table.name} WHERE {parent_column} = :p ORDER BY id"),
                {"p": parent_id},
            )]
        template.rows[table.name] = rows
        ids[table.name] = [row[columns.index("id")] for row in rows]
    return template


class _Writer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = _columns(table)
        if self.postgres:
            if not self.connection.in_transaction():
                # Begun here, not by the driver behind SQLAlchemy's back, so that commit() ends it.
                self.connection.begin()
            raw = self.connection.connection.driver_connection
            assert raw is not None
            copy_rows(raw, table.name, columns, rows)
        else:
            # The driver's own executemany, with the driver's values: nothing to convert on the way.
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


def _chunks(items: Iterable[OrderCopy], size: int) -> Iterator[list[OrderCopy]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def copy_orders(engine: Engine, copies: Iterable[OrderCopy], *, chunk_size: int = 10_000,
                progress: Callable[[int], None] | None = None) -> int:
    """Write the copies, ``chunk_size`` orders per transaction; returns how many were written.

    New order numbers must not be stored yet (the unique index refuses them). Safe to run while
    nothing else writes orders: new row ids continue from the largest stored ids. ``progress`` is
    called with the number written so far after each chunk.
    """
    written = 0
    with engine.connect() as connection:
        writer = _Writer(connection)
        next_id = {
            table.name: int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")).scalar_one()) + 1
            for table in TABLES
        }
        connection.commit()
        templates: dict[str, _Template] = {}
        positions = {table.name: _columns(table) for table in TABLES}
        order_id, order_number, email = (positions["orders"].index(c) for c in ("id", "order_number", "customer_email"))
        # For each child table: where its own id and its parent's id sit in a row.
        places = {table.name: (positions[table.name].index("id"), positions[table.name].index(parent_column))
                  for table, parent_column, _ in _CHILDREN}
        for chunk in _chunks(copies, chunk_size):
            batch: dict[str, list[tuple[Any, ...]]] = {table.name: [] for table in (*TABLES, orm.order_documents)}
            for copy in chunk:
                template = templates.get(copy.template)
                if template is None:
                    template = templates[copy.template] = _read_template(connection, copy.template)
                    connection.commit()
                new_ids: dict[str, dict[Any, int]] = {}
                row = list(template.rows["orders"][0])
                new_ids["orders"] = {row[order_id]: next_id["orders"]}
                row[order_id], row[order_number], row[email] = next_id["orders"], copy.order_number, copy.email
                document = template.document_for(next_id["orders"], copy)
                if document is not None:
                    batch["order_documents"].append(document)
                next_id["orders"] += 1
                batch["orders"].append(tuple(row))
                for table, _parent_column, parent in _CHILDREN:
                    own, up = places[table.name]
                    mapping = new_ids[table.name] = {}
                    for stored in template.rows[table.name]:
                        row = list(stored)
                        mapping[row[own]] = next_id[table.name]
                        row[own], row[up] = next_id[table.name], new_ids[parent.name][row[up]]
                        next_id[table.name] += 1
                        batch[table.name].append(tuple(row))
            for table in (*TABLES, orm.order_documents):
                writer.write(table, batch[table.name])
            connection.commit()
            written += len(chunk)
            if progress is not None:
                progress(written)
        if writer.postgres:
            # Ids were given explicitly: move each table's sequence past them.
            for table in TABLES:
                if next_id[table.name] == 1:
                    continue
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {next_id[table.name] - 1}, true)"
                    f" WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"
                ))
            connection.commit()
    return written


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL; SQLite needs nothing)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in TABLES:
            connection.execute(text(f"ANALYZE {table.name}"))
