"""The ``soap-orders`` command: serve, migrate, import, generate demo data, print the WSDL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


@click.group()
@click.version_option(__version__, prog_name="soap-orders")
def main() -> None:
    """SOAP/XML order service. Configuration comes from SOAP_ORDERS_* environment variables."""


@main.command()
@click.option("--bind", help="HOST:PORT to listen on (default: SOAP_ORDERS_BIND or 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: SOAP_ORDERS_WORKERS or 2).")
def serve(bind: str | None, workers: int | None) -> None:
    """Serve the SOAP endpoint with gunicorn (contrib/gunicorn.conf.py when present)."""
    settings = _settings()
    bind = bind or settings.bind
    args = [
        sys.executable, "-m", "gunicorn", "soap_orders.wsgi:application",
        "--bind", bind, "--workers", str(workers or settings.workers),
    ]
    conf = Path(__file__).resolve().parent.parent / "contrib" / "gunicorn.conf.py"
    if conf.is_file():
        args += ["--config", str(conf)]
    click.echo(f"Serving on http://{bind}/soap - WSDL at {settings.public_url}?wsdl", err=True)
    os.execv(sys.executable, args)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from .adapters import migrate
    from .adapters.database import create_database_engine

    engine = create_database_engine(_settings().database_url)
    migrate.upgrade(engine, revision)
    click.echo(f"Database at revision {migrate.current_revision(engine)}.")
    engine.dispose()


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one available."""
    from .adapters import migrate
    from .adapters.database import create_database_engine

    engine = create_database_engine(_settings().database_url)
    click.echo(f"current: {migrate.current_revision(engine) or 'none'}\nhead:    {migrate.head_revision()}")
    engine.dispose()


@main.command()
@click.option("--public-url", help="Address to publish in soap:address (default: SOAP_ORDERS_PUBLIC_URL).")
def wsdl(public_url: str | None) -> None:
    """Print the WSDL document."""
    from .bootstrap import build_wsdl

    click.echo(build_wsdl(public_url or _settings().public_url).decode(), nl=False)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "xml"]), default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=200, show_default=True)
def import_(file: Path, fmt: str, batch_size: int) -> None:
    """Upsert orders from a JSON Lines file or an XML document of Order elements.

    Bad records are reported with their line number and reason; good ones are kept. Exits with
    status 1 when any record failed."""
    from .bootstrap import build_dependencies
    from .importing import import_file

    deps = build_dependencies(_settings())
    report = import_file(deps, file, fmt=fmt, batch_size=batch_size, progress=sys.stderr.isatty())
    for problem in report.errors:
        click.echo(f"{file.name}:{problem.line}: {problem.message}", err=True)
    click.echo(f"{report.created} created, {report.updated} updated, {len(report.errors)} failed.")
    deps.engine.dispose()
    if report.errors:
        sys.exit(1)


@main.command("demo-data")
@click.option("--orders", "count", type=click.IntRange(1, 1_000_000), default=200, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds orders.")
@click.option("--jsonl", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON Lines here instead of the database.")
def demo_data(count: int, seed: int, if_empty: bool, jsonl: Path | None) -> None:
    """Generate realistic demo orders (same seed, same data)."""
    from .demo import generate_records, write_demo_data

    if jsonl is not None:
        import json

        with jsonl.open("w", encoding="utf-8") as out:
            for record in generate_records(count, seed):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        click.echo(f"Wrote {count} orders to {jsonl}.")
        return
    from .bootstrap import build_dependencies

    deps = build_dependencies(_settings())
    summary = write_demo_data(deps, count, seed, if_empty=if_empty)
    click.echo(summary)
    deps.engine.dispose()
