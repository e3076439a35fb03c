"""Shared fixtures: databases (a SQLite file always, PostgreSQL when configured) and real
gunicorn servers on 127.0.0.1 for contract tests, one per database kind shared by the modules
(each module gets its server over an empty database)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine, normalize_url
from soap_orders.adapters.orm import metadata
from soap_orders.bootstrap import Dependencies, build_dependencies
from tests import examples as _examples
from tests.server import Server, settings_for_tests

PG_ENV = "SOAP_ORDERS_TEST_DATABASE_URL"
PG_SCHEMA = "soap_orders_test"
PG_SKIP = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Every PostgreSQL skip is reported from one place, so the summary shows one line for all of
    them instead of one per test."""
    outcome = yield
    report = outcome.get_result()
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3 and str(longrepr[2]).endswith(PG_SKIP):
        report.longrepr = (__file__, _PG_SKIP_LINE, longrepr[2])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutation testing, the tests chosen for a mutant run fastest first (by the durations
    mutmut measured when it mapped which tests call which function), so a killed mutant is usually
    killed by a quick test. The same tests run either way; only their order changes. (Importing
    ``tests.examples`` above loads the mutation-testing Hypothesis profile before any test module.)"""
    if not _examples.UNDER_MUTATION:
        return
    try:  # mutmut runs the tests in its mutants/ directory and keeps its measurements there
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


def _postgres_url() -> str | None:
    return os.environ.get(PG_ENV, "").strip() or None


def _fresh_postgres(base_url: str, schema: str) -> str:
    """Recreate ``schema`` and return a URL whose connections use it."""
    url = normalize_url(base_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _migrated(url: str) -> str:
    """Bring the database at ``url`` to the newest schema. A SQLite file that does not exist yet is
    a copy of one migrated once per test run (Alembic costs far more than copying a file)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        target = Path(parsed.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), target)
        return url
    _upgrade(url)
    return url


def _upgrade(url: str) -> None:
    engine = create_database_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


_TEMPLATES: list[Path] = []


def _sqlite_template() -> Path:
    """A SQLite file migrated to the newest schema, made on first use and removed when the run ends."""
    if not _TEMPLATES:
        directory = Path(tempfile.mkdtemp(prefix="soap-orders-template-"))
        _upgrade(f"sqlite:///{directory / 'template.sqlite3'}")
        _TEMPLATES.append(directory / "template.sqlite3")
    return _TEMPLATES[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if Server.starts:
        terminalreporter.write_line(f"gunicorn servers started: {Server.starts}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _TEMPLATES:
        shutil.rmtree(_TEMPLATES.pop().parent, ignore_errors=True)


@cache
def _head() -> str | None:
    return migrate.head_revision()


def _emptied_postgres(base_url: str, schema: str) -> str:
    """A URL whose connections use ``schema``, holding the newest schema and no rows. A schema
    already migrated to the newest revision, with exactly the tables of the newest schema, is
    emptied in place (TRUNCATE, sequences restarted); anything else is dropped and migrated anew."""
    url = make_url(normalize_url(base_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    expected = set(metadata.tables) | {"alembic_version"}
    admin = create_engine(normalize_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            tables = set(connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                                            {"schema": schema}))
            if tables == expected:
                versions = list(connection.scalars(text(f'SELECT version_num FROM "{schema}".alembic_version')))
                if versions == [_head()]:
                    names = ", ".join(f'"{schema}"."{table}"' for table in sorted(tables - {"alembic_version"}))
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                    return url.render_as_string(hide_password=False)
    finally:
        admin.dispose()
    return _migrated(_fresh_postgres(base_url, schema))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then PostgreSQL when PG_ENV is set."""
    return _database(request.param, tmp_path, request.node.name)


def _database(kind: str, directory: Path, name: str, *, schema: str = PG_SCHEMA) -> str:
    if kind == "sqlite":
        return _migrated(f"sqlite:///{directory / 'orders.sqlite3'}")
    base = _postgres_url()
    if base is None:
        pytest.skip(PG_SKIP)
    return _emptied_postgres(base, schema)


@pytest.fixture
def deps(database_url: str) -> Iterator[Dependencies]:
    dependencies = build_dependencies(settings_for_tests(database_url))
    yield dependencies
    dependencies.engine.dispose()


def _empty(url: str) -> None:
    """Delete every row of a migrated database (ids start again from 1), leaving the schema; on
    PostgreSQL a lock held elsewhere fails it within seconds rather than hanging the run."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())
                if connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")):
                    connection.execute(text("DELETE FROM sqlite_sequence"))
    finally:
        engine.dispose()


class SharedServers:
    """Servers shared by the test modules: one per database kind and configuration, started when a
    module first asks for it and stopped when the run ends. Each module that takes one gets it
    over an empty database with a new client of its own (``Server.credentials``), as if the
    server had been started for it: only the process (and its log) is shared."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[tuple[str, str], Server] = {}

    def take(self, kind: str, name: str = "shared", extra_env: dict[str, str] | None = None) -> Server:
        key = (kind, name)
        running = self.running.get(key)
        if running is not None and running.process.poll() is None:
            _empty(running.database_url)
            running.renew_client()
            return running
        if running is not None:  # it died: start another, over a fresh database
            running.stop()
        directory = self.tmp_path_factory.mktemp(f"server-{name}-{kind}")
        url = _database(kind, directory, name, schema=f"{PG_SCHEMA}_{name}".replace("-", "_"))
        running = self.running[key] = Server(url, directory / "gunicorn.log", extra_env=extra_env)
        return running

    def stop(self) -> None:
        while self.running:
            self.running.popitem()[1].stop()


@pytest.fixture(scope="session")
def shared_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServers]:
    servers = SharedServers(tmp_path_factory)
    yield servers
    servers.stop()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, shared_servers: SharedServers) -> Server:
    """A server per database kind, over an empty database: shared with the other modules that
    take this fixture (``SharedServers``); a module that needs other settings starts its own."""
    return shared_servers.take(request.param)


@pytest.fixture(scope="module")
def server_deps(server: Server) -> Iterator[Dependencies]:
    """Direct access to the server's database, to arrange data and check what was stored."""
    dependencies = build_dependencies(settings_for_tests(server.database_url))
    yield dependencies
    dependencies.engine.dispose()


_PG_SKIP_LINE = next(number for number, line in enumerate(Path(__file__).read_text().splitlines(), start=1)
                     if line.strip() == "pytest.skip(PG_SKIP)")
