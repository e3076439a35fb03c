"""Shared fixtures: databases (a SQLite file always, PostgreSQL when configured) and a real
gunicorn server on 127.0.0.1 for contract tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine, normalize_url
from soap_orders.bootstrap import Dependencies, build_dependencies
from soap_orders.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "SOAP_ORDERS_TEST_DATABASE_URL"
PG_SCHEMA = "soap_orders_test"


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
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return _migrated(_fresh_postgres(base, PG_SCHEMA))


@pytest.fixture
def deps(database_url: str) -> Iterator[Dependencies]:
    dependencies = build_dependencies(Settings(database_url=database_url))
    yield dependencies
    dependencies.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn process serving the application on 127.0.0.1, stopped when the test ends."""

    def __init__(self, database_url: str, log_path: Path, *, workers: int = 2, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.soap_url = f"{self.base_url}/soap"
        self.wsdl_url = f"{self.soap_url}?wsdl"
        self.database_url = database_url
        env = {
            **os.environ,
            "SOAP_ORDERS_DATABASE_URL": database_url,
            "SOAP_ORDERS_PUBLIC_URL": self.soap_url,
            "SOAP_ORDERS_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "soap_orders.wsgi:application",
             "--config", str(ROOT / "contrib" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def post(self, body: bytes | str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        if isinstance(body, str):
            body = body.encode()
        all_headers = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        return requests.post(self.soap_url, data=body, headers=all_headers, timeout=10, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


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
    dependencies = build_dependencies(Settings(database_url=server.database_url))
    yield dependencies
    dependencies.engine.dispose()
