"""Restore drill for soap_orders on PostgreSQL: prove that a backup restores into a database the
service can serve, then throw the copy away.

    /opt/soap-orders/venv/bin/python restore_drill.py postgresql://soap_orders_owner@127.0.0.1/soap_orders
    /opt/soap-orders/venv/bin/python restore_drill.py --dump /var/backups/soap-orders/latest.dump URL

Run it with the service's own Python (the installed package is used for the checks) on a host
with PostgreSQL's client tools (pg_dump, pg_restore of the server's major version). URL is the
live database (read only; a ``?options=-csearch_path=SCHEMA`` URL drills that schema alone).

1. Without ``--dump``, take a dump now, as the nightly backup does (``pg_dump -Fc``), inside a
   snapshot the drill holds open (``pg_export_snapshot``), so it counts the live database in
   exactly the state the dump holds, whatever is written meanwhile. With ``--dump FILE``, restore
   that backup instead (then nothing is compared with the live database).
2. Create a scratch database ``<prefix>_<time>_<pid>`` (the role of ``--admin-url``, by default
   URL's, needs CREATEDB).
3. ``pg_restore --no-owner --no-privileges --exit-on-error`` into it.
4. Check: the schema is at the newest migration of the installed release (what ``soap-orders db
   current`` reports); without ``--dump``, every table holds as many rows as the live database did
   in the dump's snapshot, and the refunded and ordered money per currency is the same; and the
   newest orders load through the service's own repository and render exactly the documents
   kept for them (what GetOrder answers).
5. Drop the scratch database (``--keep`` leaves it, and prints its URL).

Prints one line per check and exits 0 when every check passed, 1 when one failed, 2 when the drill
could not run. tests/integration/test_restore_drill.py runs it against a real PostgreSQL.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL, make_url

#: Orders read back through the service's repository.
SAMPLE = 20
#: Seconds any one of pg_dump and pg_restore may take.
TOOL_TIMEOUT = 3600


class DrillError(Exception):
    """The drill could not run (a tool is missing, a database cannot be reached or created)."""


def libpq(url: URL) -> str:
    """``url`` as a libpq URI (what pg_dump, pg_restore and psycopg take)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def schema_of(url: URL) -> str | None:
    options = str(url.query.get("options", ""))
    return options.removeprefix("-csearch_path=") if options.startswith("-csearch_path=") else None


def run_tool(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise DrillError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise DrillError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def table_counts(connection: psycopg.Connection[Any]) -> dict[str, int]:
    tables = [row[0] for row in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
    return {table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # type: ignore[index]
            for table in tables}


def money(connection: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    """Per currency: what was ordered (sum of totals) and what was refunded."""
    rows = connection.execute(
        "SELECT o.currency, sum(o.total), coalesce(sum(r.refunded), 0) FROM orders o LEFT JOIN "
        "(SELECT order_id, sum(amount) AS refunded FROM refunds GROUP BY order_id) r ON r.order_id = o.id "
        "GROUP BY o.currency ORDER BY o.currency")
    return {currency: (str(total), str(refunded)) for currency, total, refunded in rows}


@contextmanager
def snapshot(url: URL) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """A read-only repeatable-read transaction on the live database and its exported snapshot."""
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        name = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        try:
            yield connection, str(name)
        finally:
            connection.execute("ROLLBACK")


def check_release(scratch: URL, report: Any) -> None:
    """The restored schema is at this release's head, and the newest orders read back as kept."""
    from sqlalchemy import select

    from soap_orders.adapters import migrate
    from soap_orders.adapters.orm import order_documents, orders
    from soap_orders.bootstrap import build_dependencies
    from soap_orders.config import Settings
    from soap_orders.documents.rendered import RENDER_VERSION, render_order

    deps = build_dependencies(Settings(database_url=scratch.render_as_string(hide_password=False)))
    try:
        current, head = migrate.current_revision(deps.engine), migrate.head_revision()
        report(current == head, f"schema at revision {current} (this release's newest: {head})")
        with deps.engine.connect() as connection:
            newest = connection.execute(
                select(orders.c.order_number, order_documents.c.render_version, order_documents.c.xml)
                .select_from(orders.outerjoin(order_documents, order_documents.c.order_id == orders.c.id))
                .order_by(orders.c.id.desc()).limit(SAMPLE)).all()
        same = 0
        with deps.uow() as uow:
            for number, version, kept in newest:
                order = uow.orders.get(number)
                if order is not None and (version != RENDER_VERSION or render_order(order).xml == kept):
                    same += 1
        report(same == len(newest), f"{same} of the {len(newest)} newest orders load through the service "
                                    "and render the documents kept for them")
    finally:
        deps.engine.dispose()


def drill(source: URL, admin: URL, dump: Path | None, prefix: str, keep: bool, out: Any = print) -> bool:
    results: list[bool] = []

    def report(ok: bool, line: str) -> None:
        results.append(ok)
        out(f"{'ok  ' if ok else 'FAIL'}  {line}")

    schema = schema_of(source)
    scratch_name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{__import__('os').getpid()}"
    scratch = source.set(database=scratch_name)
    with tempfile.TemporaryDirectory(prefix="soap-orders-drill-") as work:
        expected: tuple[dict[str, int], dict[str, tuple[str, str]]] | None = None
        if dump is None:
            dump = Path(work) / "drill.dump"
            with snapshot(source) as (connection, name):
                run_tool(["pg_dump", "--format=custom", f"--snapshot={name}", f"--file={dump}",
                          *([f"--schema={schema}"] if schema else []), f"--dbname={libpq(source)}"])
                expected = (table_counts(connection), money(connection))
            report(True, f"dumped {source.database}{'.' + schema if schema else ''} "
                         f"({dump.stat().st_size:,} bytes) in one snapshot")
        elif not dump.is_file():
            raise DrillError(f"no dump at {dump}")
        with psycopg.connect(libpq(admin), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{scratch_name}"')
        try:
            run_tool(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                      f"--dbname={libpq(scratch.set(query={}))}", str(dump)])
            report(True, f"restored into the scratch database {scratch_name}")
            if expected is not None:
                with psycopg.connect(libpq(scratch)) as connection:
                    counts, sums = table_counts(connection), money(connection)
                differing = sorted(t for t in set(counts) | set(expected[0]) if counts.get(t) != expected[0].get(t))
                report(not differing, f"{len(counts)} tables, {sum(counts.values()):,} rows, as in the live database"
                       + (f" (differ: {', '.join(differing)})" if differing else ""))
                report(sums == expected[1], "ordered and refunded money per currency as in the live database: "
                       + ", ".join(f"{c} {t} ordered, {r} refunded" for c, (t, r) in sums.items()))
            check_release(scratch, report)
        finally:
            if keep:
                out(f"kept: {scratch.render_as_string(hide_password=True)}")
            else:
                with psycopg.connect(libpq(admin), autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
                out(f"dropped the scratch database {scratch_name}")
    return all(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the live database (postgresql://user@host:port/db)")
    parser.add_argument("--dump", type=Path, help="restore this pg_dump -Fc file instead of dumping now")
    parser.add_argument("--admin-url", help="a URL whose role may CREATE and DROP DATABASE (default: URL)")
    parser.add_argument("--prefix", default="soap_orders_restore_drill", help="scratch database name prefix")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database for inspection")
    args = parser.parse_args(argv)
    source = make_url(args.url)
    if source.get_backend_name() != "postgresql":
        parser.error("the drill is for PostgreSQL; back SQLite up with soap-orders db backup")
    admin = make_url(args.admin_url) if args.admin_url else source.set(query={})
    try:
        ok = drill(source, admin, args.dump, args.prefix, args.keep)
    except (DrillError, psycopg.Error, subprocess.TimeoutExpired) as error:
        print(f"FAIL  the drill could not run: {error}", file=sys.stderr)
        return 2
    print("Restore drill passed." if ok else "Restore drill FAILED.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
