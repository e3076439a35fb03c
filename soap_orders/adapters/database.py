"""Engines and sessions: one place that knows how to connect to SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..config import POOL_MODES
from . import orm

#: Execution option set on a session's connection before its first statement when the transaction
#: is going to write (SQLite then begins it with BEGIN IMMEDIATE). Other databases ignore it.
WRITE_INTENT = "soap_orders_write_intent"


def begin_writing(session: Any) -> None:
    """Declare, before the first statement, that this session's transaction will write."""
    if not session.in_transaction():
        session.connection(execution_options={WRITE_INTENT: True})


def dialect_insert(dialect: str) -> Any:
    """The INSERT (with its ON CONFLICT) of ``dialect`` (a dialect's name): each is imported where
    it is first used, so a command on SQLite never loads the PostgreSQL dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def copy_rows(driver_connection: Any, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: write ``rows`` (values in ``columns``' order, as psycopg adapts them) into
    ``table`` with one ``COPY ... FROM STDIN`` on ``driver_connection``, in its transaction."""
    with driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that do not name a driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def create_database_engine(url: str, *, connections: int | None = None, pool_mode: str = "session",
                           **kwargs: Any) -> Engine:
    """An engine for ``url``. SQLite files get WAL, foreign keys and writer serialisation.

    ``connections`` is how many threads may use the database at once (the server's threads per
    worker): the pool keeps that many open, so a busy worker never opens and closes connections
    per request, with a few more for work outside the request threads.

    ``pool_mode`` says how connections reach PostgreSQL (SOAP_ORDERS_DATABASE_POOL_MODE):
    ``session`` when each is a server session of its own (directly, or through a pooler in
    session mode); ``transaction`` through a pooler that hands each transaction whichever server
    connection is free (PgBouncer's ``pool_mode = transaction``). Then nothing may outlive a
    transaction on the server, so psycopg's server-side prepared statements are turned off (one
    prepared in one server session is unknown to the next, or clashes with another client's of
    the same name). The service keeps no other session state: its advisory locks are
    transaction-scoped and it issues no ``SET`` (tests/unit/test_session_state.py)."""
    if pool_mode not in POOL_MODES:
        raise ValueError(f"pool_mode must be one of {', '.join(POOL_MODES)}")
    url = normalize_url(url)
    parsed = make_url(url)
    # A statement's values never go into an error's text (so never into a logged traceback): they
    # may be a customer's email, name or address.
    kwargs.setdefault("hide_parameters", True)
    if pool_mode == "transaction":
        if parsed.get_backend_name() != "postgresql":
            raise ValueError("the transaction pool mode is for PostgreSQL (through PgBouncer)")
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    if connections is not None and (parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:")):
        kwargs.setdefault("pool_size", connections)
        kwargs.setdefault("max_overflow", 4)
        # The most recently used connection first: its caches are warm, and idle ones can close.
        kwargs.setdefault("pool_use_lifo", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A transaction that will write takes the write lock when it begins (see WRITE_INTENT):
        # one that read first and then wrote would otherwise fail at once, not wait, when another
        # process wrote in between. Read-only transactions stay deferred and run side by side.
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_INTENT) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def database_answers(engine: Engine) -> bool:
    """Whether the database answers a trivial query (raises the driver's error when it does not)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


def watch_pool(engine: Engine, on_checkout: Callable[[], Any], on_checkin: Callable[[], Any]) -> None:
    """Call ``on_checkout`` and ``on_checkin`` as connections leave and return to ``engine``'s pool."""

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        on_checkout()

    @event.listens_for(engine, "checkin")
    def _checkin(*_: Any) -> None:
        on_checkin()


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    orm.start_mappers()
    # Objects stay readable after commit: a response is built from them once the transaction ends.
    return sessionmaker(bind=engine, expire_on_commit=False)
