"""Import, then re-import, the same demo orders and print how long each took (run by hand).

    python -m tests.bench_import [--orders 20000] [--postgres]

Uses a fresh SQLite file, or with ``--postgres`` the database named by
SOAP_ORDERS_TEST_DATABASE_URL (its ``soap_orders_bench`` schema is dropped and recreated).
A re-import of unchanged orders should take no longer than the first import.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine, normalize_url
from soap_orders.bootstrap import build_dependencies
from soap_orders.demo import generate_records
from soap_orders.importing import import_file
from tests.server import settings_for_tests


def database(directory: Path, postgres: bool) -> str:
    if not postgres:
        return f"sqlite:///{directory / 'bench.sqlite3'}"
    url = normalize_url(os.environ["SOAP_ORDERS_TEST_DATABASE_URL"])
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP SCHEMA IF EXISTS "soap_orders_bench" CASCADE'))
        connection.execute(text('CREATE SCHEMA "soap_orders_bench"'))
    admin.dispose()
    return make_url(url).update_query_dict({"options": "-csearch_path=soap_orders_bench"}).render_as_string(
        hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        path = directory / "orders.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for record in generate_records(args.orders, 7):
                out.write(json.dumps(record) + "\n")
        url = database(directory, args.postgres)
        engine = create_database_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        deps = build_dependencies(settings_for_tests(url))
        try:
            for label in ("first import", "re-import"):
                started, cpu = time.perf_counter(), time.process_time()
                report = import_file(deps, path)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                print(f"{label}: {elapsed:.1f} s, {cpu:.1f} s CPU in this process "
                      f"({report.created} created, {report.updated} updated, "
                      f"{getattr(report, 'unchanged', '-')} unchanged, {len(report.errors)} failed)")
        finally:
            deps.engine.dispose()


if __name__ == "__main__":
    main()
