"""contrib/restore_drill.py against a real PostgreSQL: a dump taken while refunds are written restores
exactly, a whole database as production keeps it restores too, a backup of an older schema or a
damaged one fails the drill, and every scratch database is dropped.

Scratch databases are named ``<test database>_restore_*``; the whole-database case creates and
drops ``<test database>_restore_src_<pid>`` as its live database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import make_url

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine
from soap_orders.bootstrap import build_dependencies
from soap_orders.domain.orders import Reason
from soap_orders.service import orders as use_cases
from soap_orders.service.idempotency import Caller
from tests.conftest import _database, _postgres_url
from tests.records import order_record, store, unique
from tests.server import ROOT, settings_for_tests

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DRILL = ROOT / "contrib" / "restore_drill.py"


@pytest.fixture(scope="module")
def prefix() -> str:
    base = _postgres_url()
    if base is None:
        pytest.skip("the restore drill restores PostgreSQL backups: set SOAP_ORDERS_TEST_DATABASE_URL")
    return f"{make_url(base).database}_restore"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def scratch_databases(prefix: str) -> list[str]:
    with psycopg.connect(libpq(_postgres_url() or ""), autocommit=True) as connection:
        return [row[0] for row in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + "%",))]


def drill(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DRILL), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def with_refunds(url: str, orders: int = 12) -> list[str]:
    deps = build_dependencies(settings_for_tests(url))
    try:
        numbers = store(deps, *(order_record(unique("RD")) for _ in range(orders)))
        for number in numbers[::2]:
            command = use_cases.IssueRefund(number, unique("rd"), Reason.DAMAGED, amount=Decimal("2.50"))
            assert use_cases.issue_refund(deps.uow(), command, deps.clock, Caller("drill")).outcome.value == "REFUNDED"
    finally:
        deps.engine.dispose()
    return numbers


def test_a_dump_taken_while_refunds_are_written_restores_exactly(tmp_path, prefix):
    url = _database("postgresql", tmp_path, "restore_drill")
    numbers = with_refunds(url)
    deps = build_dependencies(settings_for_tests(url))
    stop, written = threading.Event(), []

    def refund_until_stopped() -> None:
        command = use_cases.IssueRefund("", "", Reason.DAMAGED, amount=Decimal("0.10"))
        while not stop.is_set():
            number = numbers[len(written) % len(numbers)]
            use_cases.issue_refund(deps.uow(), replace(command, order_number=number, request_id=unique("live")),
                                   deps.clock, Caller("live"))
            written.append(number)

    writer = threading.Thread(target=refund_until_stopped)
    writer.start()
    try:
        done = drill("--prefix", prefix, url)
    finally:
        stop.set()
        writer.join(30)
        deps.engine.dispose()
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(written) > 0, "refunds were written while the drill ran"
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok    dumped ") and "in one snapshot" in lines[0]
    assert lines[1].startswith(f"ok    restored into the scratch database {prefix}_")
    assert lines[2].startswith("ok    ") and "rows, as in the live database" in lines[2]
    assert lines[3].startswith("ok    ordered and refunded money per currency as in the live database: EUR ")
    assert lines[4] == f"ok    schema at revision {migrate.head_revision()} (this release's newest: {migrate.head_revision()})"
    assert lines[5] == "ok    12 of the 12 newest orders load through the service and render the documents kept for them"
    assert lines[-1] == "Restore drill passed." and "FAIL" not in done.stdout
    assert scratch_databases(prefix) == []


@pytest.fixture
def whole_database(prefix: str) -> Iterator[str]:
    """A database of its own, as production keeps it (tables in its public schema)."""
    name = f"{prefix}_src_{os.getpid()}"
    admin = libpq(_postgres_url() or "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_postgres_url() or "").set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_database_engine(url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_whole_database_and_a_backup_file_restore(tmp_path, prefix, whole_database):
    with_refunds(whole_database, orders=5)
    live = drill("--prefix", f"{prefix}_w", whole_database)
    assert live.returncode == 0, live.stdout + live.stderr
    assert "ok    5 of the 5 newest orders" in live.stdout

    backup = tmp_path / "nightly.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={backup}", f"--dbname={libpq(whole_database)}"],
                   check=True, timeout=120)
    restored = drill("--prefix", f"{prefix}_w", "--dump", str(backup), whole_database)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "as in the live database" not in restored.stdout  # a backup file is not compared with the live one
    assert "ok    schema at revision" in restored.stdout and "ok    5 of the 5 newest orders" in restored.stdout
    assert scratch_databases(f"{prefix}_w") == []


def test_an_older_schema_or_a_damaged_backup_fails_the_drill(tmp_path, prefix):
    url = _database("postgresql", tmp_path, "restore_drill_old")
    engine = create_database_engine(url)
    try:
        migrate.downgrade(engine, "0008_subscriptions")
    finally:
        engine.dispose()
    old = tmp_path / "old.dump"
    schema = str(make_url(url).query["options"]).removeprefix("-csearch_path=")
    subprocess.run(["pg_dump", "--format=custom", f"--file={old}", f"--schema={schema}", f"--dbname={libpq(url)}"],
                   check=True, timeout=120)
    outdated = drill("--prefix", prefix, "--dump", str(old), url)
    assert outdated.returncode == 1, outdated.stdout + outdated.stderr
    assert f"FAIL  schema at revision 0008_subscriptions (this release's newest: {migrate.head_revision()})" \
        in outdated.stdout
    assert outdated.stdout.splitlines()[-1] == "Restore drill FAILED."

    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(old.read_bytes()[: old.stat().st_size // 2])
    broken = drill("--prefix", prefix, "--dump", str(damaged), url)
    assert broken.returncode == 2 and "the drill could not run: pg_restore failed" in broken.stderr
    assert scratch_databases(prefix) == []
