"""The PostgreSQL roles and grants of docs/deploy.md ("PostgreSQL: roles and database, least
privilege"), run with ``psql`` from the guide itself: migrations as the owning role, then the
service as its own role, which reads and writes rows (an order, a refund, the change feed,
pruning) and can change nothing in the schema.

Roles are cluster-wide: they and the database get names of their own
(``<test database>_roles_<pid>_owner`` / ``_app``), dropped afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from soap_orders.bootstrap import build_dependencies
from soap_orders.domain.orders import Reason
from soap_orders.service import orders as use_cases
from soap_orders.service.idempotency import Caller
from tests.conftest import _postgres_url
from tests.records import order_record, store, unique
from tests.server import ROOT, TEST_SECRET_KEY, settings_for_tests

pytestmark = pytest.mark.postgres

GUIDE = ROOT / "docs" / "deploy.md"
SOAP_ORDERS = str(Path(sys.executable).with_name("soap-orders"))


def guide_sql() -> str:
    """The SQL block of the guide's PostgreSQL section."""
    text = GUIDE.read_text()
    section = text[text.index("## 3. PostgreSQL"):text.index("## 4.")]
    (block,) = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    return block


@dataclass(frozen=True)
class Deployment:
    owner_url: str
    app_url: str


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    base = _postgres_url()
    if base is None:
        pytest.skip("the roles are PostgreSQL's: set SOAP_ORDERS_TEST_DATABASE_URL")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (Debian: postgresql-client)")
    admin = make_url(base).set(drivername="postgresql", query={})
    prefix = f"{admin.database}_roles_{os.getpid()}"
    names = {"owner": f"{prefix}_owner", "app": f"{prefix}_app", "db": f"{prefix}_db"}
    # The guide's names, each replaced whole (soap_orders_owner before soap_orders).
    sql = re.sub(r"\bsoap_orders_owner\b", names["owner"], guide_sql())
    sql = re.sub(r"\bsoap_orders_app\b", names["app"], sql)
    sql = re.sub(r"\bsoap_orders\b", names["db"], sql)
    admin_url = admin.render_as_string(hide_password=False)

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
            for role in (names["app"], names["owner"]):
                connection.execute(f'DROP ROLE IF EXISTS "{role}"')

    drop()
    try:
        ran = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url], input=sql,
                             capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr
        url = admin.set(database=names["db"])
        yield Deployment(url.set(username=names["owner"]).render_as_string(hide_password=False),
                         url.set(username=names["app"]).render_as_string(hide_password=False))
    finally:
        drop()


def test_the_guides_roles_migrate_as_owner_and_serve_as_the_app(deployment):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}
    # The service's role cannot migrate: it may not create tables.
    refused = subprocess.run([SOAP_ORDERS, "db", "upgrade"], capture_output=True, text=True, timeout=120,
                             env={**env, "SOAP_ORDERS_DATABASE_URL": deployment.app_url})
    assert refused.returncode != 0 and "permission denied for schema public" in refused.stderr
    migrated = subprocess.run([SOAP_ORDERS, "db", "upgrade"], capture_output=True, text=True, timeout=120,
                              env={**env, "SOAP_ORDERS_DATABASE_URL": deployment.owner_url})
    assert migrated.returncode == 0 and "Database at revision" in migrated.stdout, migrated.stderr

    deps = build_dependencies(settings_for_tests(deployment.app_url))
    try:
        (number,) = store(deps, order_record(unique("RL")))
        refund = use_cases.IssueRefund(number, unique("rl"), Reason.DAMAGED, amount=Decimal("3.00"))
        assert use_cases.issue_refund(deps.uow(), refund, deps.clock, Caller("dg")).outcome.value == "REFUNDED"
        assert deps.documents.order_document(number) is not None
        with deps.uow() as uow:
            assert [e.type for e in uow.events.after(0, 10)][-1] == "RefundIssued"
    finally:
        deps.engine.dispose()
    pruned = subprocess.run([SOAP_ORDERS, "prune"], capture_output=True, text=True, timeout=120,
                            env={**env, "SOAP_ORDERS_DATABASE_URL": deployment.app_url})
    assert pruned.returncode == 0 and "audit records: deleted 0" in pruned.stdout, pruned.stderr

    with psycopg.connect(make_url(deployment.app_url).render_as_string(hide_password=False),
                         autocommit=True) as connection:
        for statement in ("CREATE TABLE intruder (x int)", "DROP TABLE refunds", "ALTER TABLE orders ADD COLUMN x int",
                          "TRUNCATE order_events", "CREATE INDEX intruder ON orders (status)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)
        assert connection.execute("SELECT count(*) FROM refunds").fetchone() == (1,)
