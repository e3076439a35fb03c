"""Nothing the service sends to PostgreSQL outlives its transaction, so it stays correct behind
PgBouncer in transaction pooling mode (each transaction on whichever server connection is free):
no session-level advisory lock, no ``SET`` that is not ``SET LOCAL``, no ``set_config(..., false)``,
no ``LISTEN``, ``PREPARE``, cursor ``WITH HOLD`` or temporary table, and no statement prepared on
purpose (psycopg's automatic preparation is what SOAP_ORDERS_DATABASE_POOL_MODE=transaction turns
off; tests/integration/test_pgbouncer.py).

Every string constant of the package (SQL is written as strings where it is not SQLAlchemy
expressions, which issue none of these) is read, migrations included.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "soap_orders"

SESSION_STATE = {
    "session-level advisory lock": re.compile(r"\bpg_(try_)?advisory_lock(_shared)?\s*\(", re.IGNORECASE),
    # A setting's name is lower case; "Set SOAP_ORDERS_X to ..." in a message is not SQL.
    "SET outside the transaction": re.compile(
        r"^\s*(?i:SET)\s+(?i:SESSION\s+)?(?!(?i:LOCAL|TRANSACTION|CONSTRAINTS)\b)[a-z_][a-z0-9_.]*\s*(=|(?i:TO)\b)"),
    "session-wide set_config": re.compile(r"\bset_config\s*\([^)]*,\s*false\s*\)", re.IGNORECASE),
    "LISTEN/PREPARE/DISCARD": re.compile(r"^\s*(UN)?LISTEN\s|^\s*PREPARE\s+\w|^\s*DISCARD\s", re.IGNORECASE),
    "cursor WITH HOLD": re.compile(r"\bWITH\s+HOLD\b", re.IGNORECASE),
    "temporary table": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE\b", re.IGNORECASE),
}


def strings_and_calls() -> tuple[list[tuple[str, str]], list[str]]:
    """Every string constant (file, text), and where a call passes ``prepare=True``."""
    strings, prepared = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.append((path.relative_to(PACKAGE.parent).as_posix(), node.value))
            if isinstance(node, ast.Call) and any(k.arg == "prepare" and isinstance(k.value, ast.Constant)
                                                  and k.value.value is True for k in node.keywords):
                prepared.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return strings, prepared


def test_the_scan_reads_the_services_sql():
    strings, _ = strings_and_calls()
    locks = [where for where, text in strings if "pg_advisory_xact_lock" in text]
    assert {"soap_orders/adapters/unit_of_work.py", "soap_orders/adapters/repository.py"} <= set(locks)
    assert any(where.startswith("soap_orders/adapters/migrations/") for where, _ in strings)


def test_no_statement_leaves_state_in_the_server_session():
    strings, prepared = strings_and_calls()
    found = [f"{where}: {kind}: {text.strip()[:80]!r}" for where, text in strings
             for kind, pattern in SESSION_STATE.items() if pattern.search(text)]
    assert found == [] and prepared == []


def test_the_patterns_recognise_what_they_forbid():
    forbidden = ["SELECT pg_advisory_lock(1)", "select pg_try_advisory_lock(:k)", "SET search_path TO x",
                 "set statement_timeout = 5", "SET SESSION work_mem TO '8MB'", "SELECT set_config('a.b', 'c', false)", "LISTEN orders",
                 "PREPARE q AS SELECT 1", "DISCARD ALL", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
                 "CREATE TEMP TABLE t (x int)", "create temporary table t (x int)"]
    allowed = ["SELECT pg_advisory_xact_lock(1)", "SET LOCAL lock_timeout = '5s'", "UPDATE orders SET status = 'X'",
               "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SELECT set_config('a.b', 'c', true)",
               "The relay listens for nothing", "Set SOAP_ORDERS_DG_REGION (eu or us) to send",
               "Set SOAP_ORDERS_CHECK_SECRET to the client's secret", "CREATE TABLE t (x int)"]
    assert all(any(p.search(text) for p in SESSION_STATE.values()) for text in forbidden)
    assert not any(p.search(text) for text in allowed for p in SESSION_STATE.values())
