"""``soap-orders relay`` and ``soap-orders outbox ...``: deliver and watch proactive notifications."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from ..config import ConfigError
from .wiring import dependencies, domain_errors

EVENT_TYPES = ("shipment-delayed", "item-out-of-stock", "delivered", "return-updated")


def _time(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def stop_handler(stop: threading.Event) -> Callable[[int, Any], None]:
    """A signal handler that sets ``stop`` and says so on stderr, from a thread of its own.

    A Python signal handler runs in the main thread between two bytecodes, possibly inside
    ``stop.wait()`` (the relay's idle wait) while that holds the event's lock, which is not
    reentrant: ``stop.set()`` in the handler itself would then wait for its own thread forever and
    the relay would never stop. The thread waits for the lock instead, which ``wait()`` gives up
    as soon as the handler returns."""

    def stop_now() -> None:
        stop.set()
        click.echo("Stopping after the request in hand.", err=True)

    def handler(_signum: int, _frame: Any) -> None:
        threading.Thread(target=stop_now, name="relay-stop").start()

    return handler


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron or a test).")
def relay(once: bool) -> None:
    """Post queued notifications to the consumer's Flow Execution API (SOAP_ORDERS_DG_*).

    The flow ids are the relay's: it sends the event types it has a flow id for, skips those
    SOAP_ORDERS_DG_SKIP names, and keeps the others queued (see `outbox status`). Runs until
    SIGTERM or Ctrl-C, which it obeys after the request in hand."""
    from ..bootstrap import build_relay, configure_logging

    with dependencies() as deps:
        configure_logging(deps.settings)
        stop = threading.Event()
        try:
            worker = build_relay(deps, stop)
        except ConfigError as error:
            raise click.UsageError(str(error)) from None

        previous = {sig: signal.signal(sig, stop_handler(stop)) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not once:
                click.echo(f"Relay delivering to {deps.settings.dg.endpoint} (SIGTERM to stop).", err=True)
            routing = worker.routing
            kept = sorted({t.replace("-", "_") for t in EVENT_TYPES} - set(routing.flows) - routing.skip)
            click.echo("Sends " + (", ".join(sorted(routing.flows)) or "nothing")
                       + ("; skips " + ", ".join(sorted(routing.skip)) if routing.skip else "")
                       + ("; keeps queued (no flow id) " + ", ".join(kept) if kept else "") + ".", err=True)
            report = worker.drain() if once else worker.run_forever()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            worker.client.close()
    click.echo(f"{report.sent} sent, {report.retried} to retry, {report.dead} dead, {report.pruned} pruned, "
               f"{report.skipped} skipped.")


@click.group()
def outbox() -> None:
    """The outbox of proactive notifications: status, dead events, retries, skips, a test event."""


@outbox.command("status")
def outbox_status() -> None:
    """Events per state, the pending ones per type (and which are held: no running relay has
    their flow id), the running relays, the last delivery, and warnings."""
    from ..bootstrap import precise_now
    from ..service.notifications import OUTBOX_STATES, delivery_warnings, duration
    from ..service.notifications import outbox_status as status

    with dependencies() as deps:
        now = precise_now()
        stats = status(deps.uow(), now)
        warn_after = timedelta(seconds=deps.settings.outbox_warn_after)
    for state in OUTBOX_STATES:
        click.echo(f"{state.lower():8}{stats.counts.get(state, 0)}")
    if stats.oldest_pending is None:
        click.echo("oldest pending: none")
    else:
        age = max(int((now - stats.oldest_pending).total_seconds()), 0)
        click.echo(f"oldest pending: {age} s (queued {_time(stats.oldest_pending)})")
    held = {p.event_type for p in stats.held()}
    for p in stats.pending:
        state = "held: no running relay has its flow id" if p.event_type in held else "to send"
        click.echo(f"  {p.event_type:18}{p.count} ({state}; oldest queued {_time(p.oldest)})")
    if not stats.relays:
        click.echo("relays running: none")
    for r in stats.relays:
        sends = ", ".join(r.flow_types) or "nothing"
        skips = f"; skips {', '.join(r.skip_types)}" if r.skip_types else ""
        click.echo(f"relay running: {r.host} pid {r.pid}, sends {sends}{skips}; last seen {_time(r.seen_at)}")
    if stats.last_delivery is None:
        click.echo("last delivery: never")
    else:
        click.echo(f"last delivery: {duration(now - stats.last_delivery)} ago ({_time(stats.last_delivery)})")
    for warning in delivery_warnings(stats, now, warn_after):
        click.echo(f"warning: {warning}")


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "sent", "dead", "skipped"]),
              help="Only events in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def outbox_list(state: str | None, limit: int) -> None:
    """One line per event, oldest first: id, state, type, order, external id, attempts, last answer."""
    from ..service.notifications import list_outbox

    with dependencies() as deps:
        entries = domain_errors(lambda: list_outbox(deps.uow(), state.upper() if state else None, limit))
    if not entries:
        click.echo("No events.")
    for e in entries:
        answer = f"{e.last_status or '-'} {e.last_error or ''}".strip()
        click.echo("\t".join((
            str(e.id), e.state, e.event_type, e.order_number, e.external_id, f"attempts={e.attempts}",
            f"queued={_time(e.created_at)}", f"last={_time(e.last_attempt_at)}", answer,
        )))


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(1))
@click.option("--all-dead", is_flag=True, help="Queue every DEAD event again.")
def outbox_retry(ids: tuple[int, ...], all_dead: bool) -> None:
    """Queue DEAD events again (by id, or --all-dead), due now with their attempts reset."""
    from ..service.notifications import retry_dead

    if bool(ids) == all_dead:
        raise click.UsageError("Give event ids or --all-dead (not both).")
    with dependencies() as deps:
        count = retry_dead(deps.uow(), None if all_dead else list(ids), deps.clock())
    click.echo(f"{count} event(s) queued again.")
    if ids and count < len(ids):
        click.echo("Only DEAD events can be retried; the others were left as they are.", err=True)


@outbox.command("skip")
@click.option("--type", "kind", type=click.Choice(EVENT_TYPES), required=True)
def outbox_skip(kind: str) -> None:
    """Make every pending event of TYPE SKIPPED: it is never sent (e.g. a backlog held while no
    relay had the flow id, now too old to tell customers). Prints how many. Events a relay is
    sending at this moment are left to it. To skip a type for good, set SOAP_ORDERS_DG_SKIP for
    the relay."""
    from ..bootstrap import precise_now
    from ..domain.notifications import FlowEventType
    from ..service.notifications import skip_pending

    with dependencies() as deps:
        count = skip_pending(deps.uow(), FlowEventType(kind.replace("-", "_")), precise_now())
    click.echo(f"{count} {kind.replace('-', '_')} event(s) skipped.")


@outbox.command("send-test")
@click.option("--type", "kind", type=click.Choice(EVENT_TYPES), required=True)
@click.option("--order", "order_number", required=True, help="A stored order to build the event from.")
def outbox_send_test(kind: str, order_number: str) -> None:
    """Post one real event of TYPE about ORDER to its configured flow now (not through the outbox),
    to check credentials and the flow with the consumer. The flow acts on it as on any event
    (its inputs carry "test": true). Exits with status 1 unless the answer is 2xx."""
    from ..bootstrap import build_flow_client, flow_routes, precise_now
    from ..domain.notifications import FlowEventType
    from ..service.notifications import test_event_body

    event_type = FlowEventType(kind.replace("-", "_"))
    with dependencies() as deps:
        body = domain_errors(
            lambda: test_event_body(deps.uow(), order_number, event_type, flow_routes(deps.settings.dg), precise_now())
        )
        try:
            client = build_flow_client(deps.settings.dg)
        except ConfigError as error:
            raise click.UsageError(str(error)) from None
        try:
            delivery = client.post(body)
        finally:
            client.close()
    click.echo(f"external_id {body['external_id']} to flow {body['action_id']}")
    if delivery.status is None:
        click.echo(f"No answer: {delivery.detail}.")
        sys.exit(1)
    click.echo(f"HTTP {delivery.status}{': ' + delivery.detail if delivery.detail else ''}")
    if not 200 <= delivery.status < 300:
        sys.exit(1)
