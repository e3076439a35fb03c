"""The ``soap-orders`` command: serve, migrate, import, generate demo data, print the WSDL."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import __version__
from . import wiring

if TYPE_CHECKING:
    from ..bootstrap import Dependencies


@click.group()
@click.version_option(__version__, prog_name="soap-orders")
def main() -> None:
    """SOAP/XML order service. Configuration comes from SOAP_ORDERS_* environment variables."""


@main.command()
@click.option("--bind", help="HOST:PORT to listen on (default: SOAP_ORDERS_BIND or 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: SOAP_ORDERS_WORKERS or 2).")
def serve(bind: str | None, workers: int | None) -> None:
    """Serve the SOAP endpoint with gunicorn and the package's settings (soap_orders/gunicorn_conf.py)."""
    if bind:
        # The workers read their settings from the environment: a --bind moves the published
        # address too, unless SOAP_ORDERS_PUBLIC_URL is set.
        os.environ["SOAP_ORDERS_BIND"] = bind
    settings = wiring.settings()
    args = [
        sys.executable, "-m", "gunicorn", "soap_orders.wsgi:application",
        "--config", "python:soap_orders.gunicorn_conf",
        "--bind", settings.bind, "--workers", str(workers or settings.workers),
    ]
    click.echo(f"Serving on http://{settings.bind}/soap - WSDL at {settings.public_url}?wsdl\n"
               f"Service page (every operation, examples, health and metrics): {service_page_url(settings.public_url)}",
               err=True)
    os.execv(sys.executable, args)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION; at the newest, write the documents of orders that have none
    or an out-of-date one (after a release that changed the order document)."""
    from ..adapters import migrate
    from ..service.orders import write_missing_documents

    with wiring.dependencies() as deps:
        migrate.upgrade(deps.engine, revision)
        click.echo(f"Database at revision {migrate.current_revision(deps.engine)}.")
        if migrate.current_revision(deps.engine) == migrate.head_revision():
            written = write_missing_documents(deps.uow)
            if written:
                click.echo(f"Wrote the documents of {written} order(s).")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one available."""
    from ..adapters import migrate

    with wiring.dependencies() as deps:
        click.echo(f"current: {migrate.current_revision(deps.engine) or 'none'}\nhead:    {migrate.head_revision()}")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Copy a SQLite database to TARGET (a new file) while the service runs: one consistent state,
    checked before it is named TARGET. To restore, stop the service and put the copy in the
    database's place. PostgreSQL is backed up with pg_dump -Fc (docs/deploy.md)."""
    from ..adapters.backup import BackupError, backup_sqlite

    try:
        orders = backup_sqlite(wiring.settings().database_url, target)
    except (BackupError, sqlite3.Error) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {orders} order(s) to {target} (integrity check ok).")


@main.command()
@click.option("--public-url", help="Address to publish in soap:address (default: SOAP_ORDERS_PUBLIC_URL).")
def wsdl(public_url: str | None) -> None:
    """Print the WSDL document."""
    from ..bootstrap import build_wsdl

    click.echo(build_wsdl(public_url or wiring.settings().public_url).decode(), nl=False)


@main.command()
@click.option("--public-url", help="Address of the SOAP endpoint; the JSON twin is on the same host.")
def openapi(public_url: str | None) -> None:
    """Print the OpenAPI document of the JSON twin."""
    from ..bootstrap import build_openapi

    click.echo(build_openapi(public_url or wiring.settings().public_url).decode(), nl=False)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "xml"]), default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--dry-run", is_flag=True,
              help="Check and merge every record as for real, report what would be created, updated, left "
                   "unchanged and refused, and write nothing.")
@click.option("--progress-every", type=click.FloatRange(0.1, 3600), default=10, show_default=True, metavar="SECONDS",
              help="When stderr is not a terminal, write a one-line progress summary this often.")
def import_(file: Path, fmt: str, batch_size: int, dry_run: bool, progress_every: float) -> None:
    """Upsert orders from a JSON Lines file or an XML document of Order elements; in JSON Lines, a
    record with a SubscriptionId is a subscription.

    Stored orders are merged, never erased: what was done through the service (refunds,
    cancellations, returns, address changes) is kept, and a forgotten customer's personal data
    stays forgotten (such records are reported, and stored). Bad or contradicting records are
    reported with their line number and reason; good ones are kept. Exits with status 1 when any
    record failed. The last lines count the refusals by reason, then what was done.

    Progress (records, rate, ETA) is shown on a terminal, and written as a line every
    --progress-every seconds otherwise. Ctrl-C stops after the records read so far are written,
    with the same report (exit status 130); running the same import again goes on safely: what was
    written is found unchanged."""
    from ..ingest.files import import_file

    with wiring.dependencies() as deps:
        terminal = sys.stderr.isatty()
        report = import_file(deps, file, fmt=fmt, batch_size=batch_size, progress=terminal, dry_run=dry_run,
                             progress_every=None if terminal else progress_every, interruptible=True)
        for problem in sorted(report.errors + report.notices, key=lambda problem: problem.line):
            click.echo(f"{file.name}:{problem.line}: {problem.message}", err=True)
        if report.errors:
            click.echo("Refused by reason: " + ", ".join(f"{reason} {count}" for reason, count in
                                                         report.refused_by_reason()) + ".")
        click.echo(report.summary())
    if report.stopped:
        sys.exit(130)
    if report.errors:
        sys.exit(1)


@main.command("demo-data")
@click.option("--orders", "count", type=click.IntRange(1, 1_000_000), default=200, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds orders.")
@click.option("--replace", is_flag=True,
              help="Overwrite existing orders that have the same order numbers, with everything done to them "
                   "(refunds, cancellations). Without it an order number in use is skipped and its order left untouched.")
@click.option("--first-number", type=click.IntRange(100_001, 998_999_999), default=100_001, show_default=True,
              help="Number the orders from SO-N (to add demo orders beside existing ones).")
@click.option("--jsonl", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON Lines here instead of the database.")
def demo_data(count: int, seed: int, if_empty: bool, replace: bool, first_number: int, jsonl: Path | None) -> None:
    """Generate realistic demo orders (same seed, same data).

    Demo data never changes an order it did not create: order numbers already in use are skipped
    and reported, unless --replace is given."""
    from ..demo import write_demo_data, write_jsonl

    if jsonl is not None:
        write_jsonl(jsonl, count, seed, first_number=first_number)
        click.echo(f"Wrote {count} orders to {jsonl}.")
        return
    with wiring.dependencies() as deps:
        summary = write_demo_data(deps, count, seed, if_empty=if_empty, replace=replace, first_number=first_number)
        click.echo(summary)
        _demo_subscriptions(deps, count, seed)


def _demo_subscriptions(deps: Dependencies, count: int, seed: int) -> None:
    """Subscriptions in every status for the first demo customers, unless already stored."""
    from ..demo import generate_records
    from ..demo.subscriptions import store_demo_subscriptions, suggestion

    stored = store_demo_subscriptions(deps, seed, generate_records(count, seed))
    if stored:
        click.echo("\n".join([f"Wrote {len(stored)} demo subscriptions. Try:", *suggestion(stored)]))


@main.group()
def clients() -> None:
    """API clients: who may call, with which scopes and from where."""


@clients.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["orders:read", "orders:act", "erp", "privacy"]))
@click.option("--allow", multiple=True, metavar="CIDR|PRESET", help="Allowed source (repeatable): a CIDR or dg-us, dg-eu, dg-test.")
@click.option("--digest", is_flag=True, help="Keep the secret recoverable (encrypted) so WS-Security PasswordDigest works.")
def clients_add(name: str, scopes: tuple[str, ...], allow: tuple[str, ...], digest: bool) -> None:
    """Create a client. Its secret is printed once, alone on the last line."""
    from ..domain.clients import Scope
    from ..service.auth import NewClient, add_client

    with wiring.dependencies() as deps:
        command = NewClient(name, tuple(Scope(s) for s in scopes), tuple(allow), digest)
        created = wiring.domain_errors(lambda: add_client(deps.uow(), command, deps.clock, deps.secret_box))
    click.echo(f"Client {created.client.name} created with scopes {' '.join(sorted(scopes))}"
               + (" (PasswordDigest enabled)" if digest else "") + ". Its secret, shown only now:")
    click.echo(created.secret)


@clients.command("list")
def clients_list() -> None:
    """Show every client (never its secret)."""
    from ..service.auth import list_clients

    with wiring.dependencies() as deps:
        rows = list_clients(deps.uow())
    if not rows:
        click.echo("No clients.")
    for client in rows:
        state = "disabled" if client.disabled else "enabled"
        networks = " ".join(client.allowed_networks) or "any address"
        click.echo(f"{client.name}\t{state}\t{' '.join(sorted(s.value for s in client.scopes))}\t"
                   f"{'digest' if client.supports_digest else 'hash-only'}\t{networks}")


def _set_disabled(name: str, disabled: bool) -> None:
    from ..service.auth import set_disabled

    with wiring.dependencies() as deps:
        wiring.domain_errors(lambda: set_disabled(deps.uow(), name, disabled))
    click.echo(f"Client {name} {'disabled' if disabled else 'enabled'}.")


@clients.command("disable")
@click.argument("name")
def clients_disable(name: str) -> None:
    """Refuse the client's credentials and revoke its tokens."""
    _set_disabled(name, True)


@clients.command("enable")
@click.argument("name")
def clients_enable(name: str) -> None:
    """Accept a disabled client's credentials again."""
    _set_disabled(name, False)


@clients.command("rotate")
@click.argument("name")
def clients_rotate(name: str) -> None:
    """Give the client a new secret (printed alone on the last line); the old one and the
    client's tokens stop working at once."""
    from ..service.auth import rotate_secret

    with wiring.dependencies() as deps:
        rotated = wiring.domain_errors(lambda: rotate_secret(deps.uow(), name, deps.clock, deps.secret_box))
    click.echo(f"New secret for {name}, shown only now:")
    click.echo(rotated.secret)


@clients.command("unlock")
@click.argument("name")
@click.option("--address", "addresses", multiple=True, metavar="ADDRESS",
              help="Also forget the failures counted against this address as a whole (repeatable).")
def clients_unlock(name: str, addresses: tuple[str, ...]) -> None:
    """Forget the client's failed authentications, so throttling no longer refuses it."""
    from ..service.auth import unlock_client

    with wiring.dependencies() as deps:
        forgotten = wiring.domain_errors(lambda: unlock_client(deps.uow(), name, addresses))
    click.echo(f"Client {name} unlocked ({forgotten} recorded failure{'' if forgotten == 1 else 's'} forgotten).")


@main.command()
@click.option("--order", "order_number", required=True, help="Order number whose history to print.")
def audit(order_number: str) -> None:
    """Print who changed an order, when, from where, and with what outcome."""
    from ..service.auth import order_history

    with wiring.dependencies() as deps:
        records = order_history(deps.uow(), order_number)
        if not records:
            with deps.uow() as uow:
                known = uow.orders.get(order_number) is not None
            if not known:
                raise click.ClickException(f"No order {order_number} is stored.")
    if not records:
        click.echo(f"No audit records for order {order_number}.")
    for record in records:
        click.echo("\t".join((
            record.occurred_at.isoformat().replace("+00:00", "Z"), record.operation, record.outcome,
            f"client={record.client}", f"address={record.address or '-'}", f"request={record.request_id or '-'}",
        )))


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def prune(dry_run: bool) -> None:
    """Delete audit records, order events, idempotency records and delivered notifications older
    than their retention (SOAP_ORDERS_RETAIN_AUDIT_DAYS, _EVENTS_DAYS, _IDEMPOTENCY_DAYS and
    SOAP_ORDERS_DG_RETENTION_DAYS; by default 730, 730, 90 and 7 days), a batch per transaction.
    Orders, refunds, returns and shipments are never deleted. Run it daily (contrib/soap-orders-prune.timer)."""
    from ..domain.retention import DISPUTE_WINDOW_DAYS, RetentionPolicy
    from ..service.retention import prune as prune_records

    with wiring.dependencies() as deps:
        settings = deps.settings
        policy = RetentionPolicy(audit_days=settings.retain_audit_days, events_days=settings.retain_events_days,
                                 idempotency_days=settings.retain_idempotency_days,
                                 delivered_notifications_days=settings.dg.retention_days)
        for kind in policy.shorter_than_disputes():
            click.echo(f"Warning: {kind.value} are kept {policy.days(kind)} days, less than the "
                       f"{DISPUTE_WINDOW_DAYS} days within which a card payment may be disputed.", err=True)
        results = prune_records(deps.uow, deps.clock, policy, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for result in results:
        before = result.before.isoformat().replace("+00:00", "Z")
        click.echo(f"{result.kind.value}: {verb} {result.count} (older than {policy.days(result.kind)} days, "
                   f"before {before})")


@main.command("demo-client")
@click.option("--name", default="demo", show_default=True)
def demo_client(name: str) -> None:
    """Create the demo client (or give it a new secret) and print how to call with it."""
    from ..domain.clients import Scope
    from ..domain.errors import ValidationError
    from ..service.auth import NewClient, add_client, rotate_secret

    with wiring.dependencies() as deps:
        settings = deps.settings
        digest = deps.secret_box is not None
        try:
            issued = add_client(deps.uow(), NewClient(name, (Scope.READ, Scope.ACT), (), digest), deps.clock, deps.secret_box)
        except ValidationError:
            issued = wiring.domain_errors(lambda: rotate_secret(deps.uow(), name, deps.clock, deps.secret_box))
    url, secret = settings.public_url, issued.secret
    token_url = url.rsplit("/", 1)[0] + "/oauth/token"
    click.echo(f"""
API client {name!r} (scopes orders:read orders:act) has a new secret: {secret}

With the server running, the service page at {service_page_url(url)} lists every operation with
example envelopes; paste these lines into {_python_hint()} (it has zeep and requests):

{snippet(url, token_url, name, secret, digest)}""")


def service_page_url(public_url: str) -> str:
    """The service page's address: the root of the host the SOAP endpoint is published on."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}/"


def _python_hint() -> str:
    """The interpreter running this command, relative to the working directory when inside it."""
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def snippet(url: str, token_url: str, name: str, secret: str, digest: bool, email: str = "<an email listed above>") -> str:
    """Python lines, without indentation, that call the service each way a client can authenticate."""
    digest_note = " or PasswordDigest (use_digest=True)" if digest else ""
    digest_arg = ", use_digest=True" if digest else ""
    return f"""import requests, zeep
from zeep.wsse.username import UsernameToken
wsdl = "{url}?wsdl"

# HTTP Basic
session = requests.Session(); session.auth = ("{name}", "{secret}")
client = zeep.Client(wsdl, transport=zeep.Transport(session=session))

# WS-Security UsernameToken, PasswordText{digest_note}
client = zeep.Client(wsdl, wsse=UsernameToken("{name}", "{secret}"{digest_arg}))

# OAuth2 client credentials, then a bearer token
token = requests.post("{token_url}", data={{"grant_type": "client_credentials"}},
                      auth=("{name}", "{secret}")).json()["access_token"]
session = requests.Session(); session.headers["Authorization"] = "Bearer " + token
client = zeep.Client(wsdl, transport=zeep.Transport(session=session))

page = client.service.FindOrdersByEmail(Email="{email}")
print(page.TotalCount, [order.OrderNumber for order in page.Orders.Order])
"""


@main.command()
@click.argument("url")
@click.option("--client", "client_name", required=True, help="API client name.")
@click.option("--secret", envvar="SOAP_ORDERS_CHECK_SECRET", show_envvar=True,
              help="The client's secret; better given in SOAP_ORDERS_CHECK_SECRET, which stays out of the process list.")
@click.option("--way-in", type=click.Choice(["basic", "wsse-text", "wsse-digest", "bearer"]), default="basic", show_default=True)
@click.option("--email", help="A customer email to search for (default: a made-up one).")
@click.option("--order", "order_number", help="An order number to read.")
def check(url: str, client_name: str, secret: str | None, way_in: str, email: str | None, order_number: str | None) -> None:
    """Contract-test a live deployment at URL (its SOAP endpoint, e.g. https://host/soap; the base
    address https://host stands for https://host/soap) through its WSDL. Read-only: nothing is
    cancelled or refunded. The client's secret comes from SOAP_ORDERS_CHECK_SECRET. Exits with
    status 1 when anything is off."""
    from ..check import check_deployment

    if not secret:
        raise click.UsageError("Set SOAP_ORDERS_CHECK_SECRET to the client's secret (or pass --secret).")

    report = check_deployment(url, client_name, secret, way_in=way_in, email=email, order_number=order_number)
    for ok, line in report.lines:
        click.echo(f"{'ok  ' if ok else 'FAIL'}  {line}")
    if not report.ok:
        sys.exit(1)


# Proactive notifications: the relay and the outbox commands live in their own module.
from .outbox import outbox, relay  # noqa: E402

main.add_command(relay)
main.add_command(outbox)

# Customers' privacy requests: their own module too.
from .privacy import customers  # noqa: E402

main.add_command(customers)
