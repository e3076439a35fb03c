"""Writing orders that are not stored yet with set-based statements, without the ORM's unit of work.

The ERP's batches create most orders of a first import: the ORM would track each of their objects,
work out the order of the inserts and flush them one object at a time. Here a batch's new orders
are written table by table, parents first, each table in one statement: on SQLite one
executemany (a multi-row INSERT), on PostgreSQL one ``COPY ... FROM STDIN``; the parents' ids are
worked out before their rows are written (see ``_insert_returning``) and set in their children's
rows. The values are the ones an INSERT would send (each column's bind processing applied). Every
order's document is rendered once and written beside it. One transaction holds the batch.

The rows are what the ORM would write: every column of each table is read from the attribute of
the same name (the mapping in ``orm`` renames none), the customer's and the address's columns
from their composites, and each child's rows come in the order of its collection, so that the
children read back in the same order (they are read back by id). The orders are not in the
session: nothing may read them back in the same unit of work (the upsert keeps its own map).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..documents.records import Rendered
from ..documents.rendered import RENDER_VERSION, render_order
from ..domain.orders import Order
from . import orm
from .database import copy_rows

#: The columns a row is not read from its object for: surrogate ids and the parent's id.
_NOT_ATTRIBUTES = frozenset({"id", "order_id", "shipment_pk", "return_pk"})


def _attributes(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns if column.name not in _NOT_ATTRIBUTES)


_ORDER = _attributes(orm.orders)
_LINE = _attributes(orm.order_lines)
_SHIPMENT = _attributes(orm.shipments)
_SHIPMENT_ITEM = _attributes(orm.shipment_items)
_RETURN = _attributes(orm.returns)
_RETURN_ITEM = _attributes(orm.return_items)
_REFUND = _attributes(orm.refunds)


def _row(item: Any, names: Sequence[str], **parent: Any) -> dict[str, Any]:
    """The row of ``item``: each column from the attribute of its name, as the ORM would flush it."""
    values = item.__dict__  # the instrumented attributes keep their values here
    row = {name: values[name] if name in values else getattr(item, name) for name in names}
    row.update(parent)
    return row


def insert_new_orders(session: Session, new: Sequence[Order],
                      fingerprints: Mapping[str, str]) -> dict[str, Rendered]:
    """Insert ``new`` orders (none of them stored: the caller holds their numbers' locks), with
    every child row and their documents; a document's feed fingerprint is ``fingerprints``' entry
    for its order, if any. Returns the documents written, by order number."""
    written: dict[str, Rendered] = {}
    if not new:
        return written
    order_ids = _insert_returning(session, orm.orders, [_row(order, _ORDER) for order in new])
    lines: list[dict[str, Any]] = []
    shipments: list[tuple[Any, dict[str, Any]]] = []
    returns: list[tuple[Any, dict[str, Any]]] = []
    refunds: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for order, order_id in zip(new, order_ids, strict=True):
        lines += [_row(line, _LINE, order_id=order_id) for line in order.lines]
        shipments += [(shipment, _row(shipment, _SHIPMENT, order_id=order_id)) for shipment in order.shipments]
        returns += [(return_, _row(return_, _RETURN, order_id=order_id)) for return_ in order.returns]
        refunds += [_row(refund, _REFUND, order_id=order_id) for refund in order.refunds]
        rendered = written[order.order_number] = render_order(order)
        documents.append({"order_id": order_id, "render_version": RENDER_VERSION, "xml": rendered.xml,
                          "json": rendered.json, "feed_fingerprint": fingerprints.get(order.order_number)})
    _insert(session, orm.order_lines, lines)
    _insert_with_items(session, orm.shipments, shipments, orm.shipment_items, "shipment_pk", _SHIPMENT_ITEM)
    _insert_with_items(session, orm.returns, returns, orm.return_items, "return_pk", _RETURN_ITEM)
    _insert(session, orm.refunds, refunds)
    _insert(session, orm.order_documents, documents)
    return written


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
    else:
        session.execute(insert(table), rows)


def _copy(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: write ``rows`` (each with the same keys) with one COPY on the session's connection
    (so in its transaction). Each value is bind-processed as an INSERT's parameter would be, then
    written as text by psycopg's own adapters; a column a row leaves out takes its default."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    steps = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    preparer = dialect.identifier_preparer
    pooled = session.connection().connection
    connection = pooled.driver_connection
    assert connection is not None  # the session's connection is checked out for its transaction
    statement = f"COPY {preparer.format_table(table)}"
    try:
        copy_rows(connection, preparer.format_table(table), [preparer.quote(name) for name in names],
                  ([row[name] if process is None else process(row[name]) for name, process in steps] for row in rows))
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy does for the statements it sends: a lost connection leaves the pool, and the
        # error is SQLAlchemy's (so that a database gone away is answered as unavailable).
        if dialect.is_disconnect(error, connection, None):
            pooled.invalidate(error)
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error


def _insert_returning(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert ``rows``; their ids, in the order of the rows.

    On PostgreSQL they are drawn from the table's sequence beforehand and the rows are copied in
    with them. SQLite would send a row at a time to return ids in order; its
    writer holds the database's write lock, so the ids are the ones SQLite would give itself (a
    rowid table's next id is one more than its largest), set in the rows of one executemany."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        session.execute(insert(table), rows)
        return ids
    # The ids the sequence gives, one query for all; sorted, so that they rise with the rows (children
    # read back by id come back in the order of their collection).
    sequence = select(func.nextval(func.pg_get_serial_sequence(table.name, table.c.id.name))) \
        .select_from(func.generate_series(1, len(rows)))
    ids = sorted(session.scalars(sequence))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    _copy(session, table, rows)
    return ids


def _insert_with_items(session: Session, table: Table, parents: Iterable[tuple[Any, dict[str, Any]]],
                       items: Table, parent_column: str, names: Sequence[str]) -> None:
    """Insert the parents' rows, then each parent's ``items`` under its new id."""
    parents = list(parents)
    ids = _insert_returning(session, table, [row for _, row in parents])
    _insert(session, items, [_row(item, names, **{parent_column: parent_id})
                             for (parent, _), parent_id in zip(parents, ids, strict=True) for item in parent.items])
