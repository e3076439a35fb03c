"""Shared fixtures: databases (a SQLite file always, PostgreSQL when configured) and a real
gunicorn server on 127.0.0.1 for contract tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine, normalize_url
from soap_orders.bootstrap import Dependencies, build_dependencies
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
    engine = create_database_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then PostgreSQL when PG_ENV is set."""
    return _database(request.param, tmp_path, request.node.name)


def _database(kind: str, directory: Path, name: str) -> str:
    if kind == "sqlite":
        return _migrated(f"sqlite:///{directory / 'orders.sqlite3'}")
    base = _postgres_url()
    if base is None:
        pytest.skip(PG_SKIP)
    return _migrated(_fresh_postgres(base, PG_SCHEMA))


@pytest.fixture
def deps(database_url: str) -> Iterator[Dependencies]:
    dependencies = build_dependencies(settings_for_tests(database_url))
    yield dependencies
    dependencies.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module and database kind, over a freshly migrated database."""
    directory = tmp_path_factory.mktemp(f"server-{request.param}")
    url = _database(request.param, directory, request.module.__name__)
    running = Server(url, directory / "gunicorn.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server_deps(server: Server) -> Iterator[Dependencies]:
    """Direct access to the server's database, to arrange data and check what was stored."""
    dependencies = build_dependencies(settings_for_tests(server.database_url))
    yield dependencies
    dependencies.engine.dispose()


_PG_SKIP_LINE = next(number for number, line in enumerate(Path(__file__).read_text().splitlines(), start=1)
                     if line.strip() == "pytest.skip(PG_SKIP)")
