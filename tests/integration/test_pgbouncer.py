"""The service behind PgBouncer in transaction pooling mode: each transaction may run on a
different server connection, and server connections are shared by many clients, so nothing may
live in a server session between transactions.

Two engines take turns on two pooled connections of their own through one PgBouncer with a
single server connection, each repeating its own statement: psycopg prepares a statement on the
server after a few executions, under the same name on both connections, so the second engine's
``PREPARE`` meets the first's in the shared server session. SOAP_ORDERS_DATABASE_POOL_MODE=
transaction turns that off; then the same work, and the service's own writes and reads, go
through. (The two-instance concurrency test runs through PgBouncer too.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from soap_orders.adapters.database import create_database_engine
from soap_orders.bootstrap import build_dependencies
from soap_orders.config import ConfigError, Settings
from soap_orders.domain.orders import Reason
from soap_orders.service import orders as use_cases
from soap_orders.service.orders import Caller
from tests.conftest import _database, _postgres_url
from tests.pgbouncer import MISSING, PgBouncer
from tests.records import order_record, store, unique
from tests.server import settings_for_tests

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def bouncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, PgBouncer]]:
    """A migrated test database and one PgBouncer in front of it with a single server connection."""
    if _postgres_url() is None:
        pytest.skip("PgBouncer runs in front of PostgreSQL: set SOAP_ORDERS_TEST_DATABASE_URL")
    if MISSING:
        pytest.skip(MISSING)
    url = _database("postgresql", tmp_path_factory.mktemp("pgbouncer"), "pgbouncer")
    running = PgBouncer(url, server_connections=1)
    yield url, running
    running.stop()


def take_turns(pool_mode: str, url: str, rounds: int = 8) -> None:
    """Two engines, each with its own statement, alternate one transaction at a time."""
    engines = [create_database_engine(url, pool_mode=pool_mode, pool_size=1, max_overflow=0) for _ in range(2)]
    statements = [text("SELECT CAST(:n AS integer) + 1"), text("SELECT CAST(:n AS text) || 'x'")]
    try:
        for n in range(rounds):
            for engine, statement in zip(engines, statements, strict=True):
                with engine.begin() as connection:
                    connection.execute(statement, {"n": n}).scalar_one()
    finally:
        for engine in engines:
            engine.dispose()


def test_server_side_prepared_statements_clash_through_a_transaction_pooler(bouncer):
    _, running = bouncer
    with pytest.raises(DBAPIError) as raised:
        take_turns("session", running.url)
    assert "prepared statement" in str(raised.value)


def test_the_transaction_pool_mode_keeps_nothing_in_the_server_session(bouncer):
    _, running = bouncer
    take_turns("transaction", running.url)


def test_the_service_writes_and_reads_through_the_pooler(bouncer):
    direct, running = bouncer
    settings = settings_for_tests(running.url, database_pool_mode="transaction")
    deps = build_dependencies(settings)
    try:
        direct_deps = build_dependencies(settings_for_tests(direct))
        try:
            (number,) = store(direct_deps, order_record(unique("PB")))
        finally:
            direct_deps.engine.dispose()
        caller = Caller("pgbouncer-test")
        refund = use_cases.IssueRefund(number, "", Reason.DAMAGED, amount=Decimal("4.00"))
        answers = [use_cases.issue_refund(deps.uow(), replace(refund, request_id=unique("pb")), deps.clock, caller)
                   for _ in range(8)]
        assert [a.outcome.value for a in answers] == ["REFUNDED"] * 7 + ["REJECTED"]
        for _ in range(8):  # the kept-written document, read outside a transaction
            assert deps.documents.order_document(number) is not None
        with deps.uow() as uow:
            assert len(uow.orders.get(number).refunds) == 7
    finally:
        deps.engine.dispose()


def test_the_setting_is_read_and_checked():
    assert Settings.from_env({"SOAP_ORDERS_DATABASE_URL": "postgresql://u@h/db",
                              "SOAP_ORDERS_DATABASE_POOL_MODE": "Transaction"}).database_pool_mode == "transaction"
    assert Settings.from_env({}).database_pool_mode == "session"
    with pytest.raises(ConfigError, match="SOAP_ORDERS_DATABASE_POOL_MODE must be session or transaction"):
        Settings.from_env({"SOAP_ORDERS_DATABASE_POOL_MODE": "statement"})
    with pytest.raises(ConfigError, match="is for a postgresql:// URL"):
        Settings.from_env({"SOAP_ORDERS_DATABASE_POOL_MODE": "transaction"})
