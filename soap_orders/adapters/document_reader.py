"""Reading kept-written order documents: one statement on a pooled driver connection.

The two hottest reads of the service, one order's document and a page of a customer's documents,
are a single SELECT each. Through an ORM session they cost a session, a transaction (``BEGIN``
and ``ROLLBACK``) and SQLAlchemy's per-execution machinery, several times the query itself. Here
the statements are declared with the same table metadata, compiled once per dialect at start-up,
and run on a connection from the engine's pool, outside any transaction (a single statement reads
a consistent snapshot on its own; SQLite connections run in autocommit mode and PostgreSQL ones
are switched to it for the read). Bind values go through the columns' own bind processors, and
driver errors are raised as SQLAlchemy's, so callers see what the ORM path would raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, Integer, Select, bindparam, func, select
from sqlalchemy.exc import DBAPIError

from ..documents.records import Rendered
from ..documents.rendered import RENDER_VERSION
from ..service.ports import OrderQuery
from .orm import order_documents, orders

_DOCUMENT_COLUMNS = (order_documents.c.render_version, order_documents.c.xml, order_documents.c.json)
_JOINED = orders.outerjoin(order_documents, order_documents.c.order_id == orders.c.id)


class _Prepared:
    """A statement compiled for one dialect, with the bind processors of its parameters."""

    def __init__(self, statement: Select[Any], engine: Engine) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positions: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.processors = {
            name: processor
            for name, parameter in compiled.binds.items()
            if (processor := parameter.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self.defaults = {name: parameter.value for name, parameter in compiled.binds.items()
                         if parameter.value is not None}

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values}
        for name, processor in self.processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        if self.positions is not None:
            return tuple(merged[name] for name in self.positions)
        return merged


class SqlDocumentReader:
    """The order documents port on SQLAlchemy's pool (see the module's doc)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgresql = engine.dialect.name == "postgresql"
        self._one = _Prepared(
            select(orders.c.customer_email, *_DOCUMENT_COLUMNS).select_from(_JOINED)
            .where(orders.c.order_number == bindparam("order_number")),
            engine,
        )
        self._pages: dict[tuple[bool, bool, bool], tuple[_Prepared, _Prepared]] = {}

    # ------------------------------------------------------------------ the port

    def order_document(self, order_number: str) -> tuple[str, Rendered] | None:
        """The customer's email and the current document of an order; None when the order is not
        stored or its document is missing or out of date (then read the order itself)."""
        rows = self._run(self._one, {"order_number": order_number})
        if not rows:
            return None
        email, version, xml, json = rows[0]
        if version != RENDER_VERSION or xml is None:
            return None
        return email, Rendered(xml, json)

    def order_documents_by_email(self, query: OrderQuery) -> tuple[list[Rendered], int] | None:
        """A page of the current documents of a customer's orders (newest first) and how many
        there are in all; None when one of the page's is missing or out of date."""
        page, count = self._page_statements(query)
        values = _query_values(query)
        rows = self._run(page, {**values, "limit": query.limit, "offset": query.offset})
        if rows:
            total = int(rows[0][-1])
        elif query.offset == 0:
            total = 0
        else:  # past the last page: the page says nothing of the total
            total = int(self._run(count, values)[0][0])
        documents = []
        for version, xml, json, _total in rows:
            if version != RENDER_VERSION or xml is None:
                return None
            documents.append(Rendered(xml, json))
        return documents, total

    # ------------------------------------------------------------------ statements

    def _page_statements(self, query: OrderQuery) -> tuple[_Prepared, _Prepared]:
        shape = (query.status is not None, query.placed_from is not None, _bounded(query.placed_to))
        prepared = self._pages.get(shape)
        if prepared is None:
            conditions: list[Any] = [func.lower(orders.c.customer_email) == func.lower(bindparam("email"))]
            if shape[0]:
                conditions.append(orders.c.status == bindparam("status", type_=orders.c.status.type))
            if shape[1]:
                conditions.append(orders.c.created_at >= bindparam("placed_from", type_=orders.c.created_at.type))
            if shape[2]:
                conditions.append(orders.c.created_at < bindparam("placed_before", type_=orders.c.created_at.type))
            page = (
                select(*_DOCUMENT_COLUMNS, func.count().over().label("total")).select_from(_JOINED)
                .where(*conditions)
                .order_by(orders.c.created_at.desc(), orders.c.id.desc())
                .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
            )
            count = select(func.count()).select_from(orders).where(*conditions)
            prepared = self._pages[shape] = (_Prepared(page, self.engine), _Prepared(count, self.engine))
        return prepared

    # ------------------------------------------------------------------ running

    def _run(self, prepared: _Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        parameters = prepared.parameters(values)
        dialect = self.engine.dialect
        connection = self.engine.raw_connection()
        driver = connection.dbapi_connection
        switched = False
        cursor = None
        try:
            if self._postgresql and driver is not None:
                driver.autocommit = True  # one statement: no BEGIN, no ROLLBACK round trips
                switched = True
            cursor = connection.cursor()
            cursor.execute(prepared.sql, parameters)
            rows = [tuple(row) for row in cursor.fetchall()]
            cursor.close()
            return rows
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, driver, cursor):
                connection.invalidate(error)
            raise DBAPIError.instance(prepared.sql, parameters, error, dialect.loaded_dbapi.Error) from error
        finally:
            if switched and driver is not None and connection.is_valid:
                try:
                    driver.autocommit = False  # the pool hands out transactional connections
                except dialect.loaded_dbapi.Error as error:
                    connection.invalidate(error)
            connection.close()


def _bounded(placed_to: date | None) -> bool:
    return placed_to is not None and placed_to < date.max  # up to date.max: no upper bound


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _query_values(query: OrderQuery) -> dict[str, Any]:
    values: dict[str, Any] = {"email": query.email}
    if query.status is not None:
        values["status"] = query.status
    if query.placed_from is not None:
        values["placed_from"] = _start_of(query.placed_from)
    if _bounded(query.placed_to):
        assert query.placed_to is not None
        values["placed_before"] = _start_of(query.placed_to + timedelta(days=1))
    return values
