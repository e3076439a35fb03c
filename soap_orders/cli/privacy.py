"""``soap-orders customers forget|export EMAIL``: privacy requests that arrive by other channels
(email, post, the shop's own form), through the same use cases as ForgetCustomer and
ExportCustomerData. The email is never printed back."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any

import click

from .wiring import dependencies, domain_errors

if TYPE_CHECKING:
    from ..operations import Operation


def _email(value: str) -> str:
    """EMAIL as given, or read from standard input when it is ``-`` (so it stays out of the shell's
    history and the process list)."""
    return sys.stdin.readline().strip() if value == "-" else value


def _run(operation: Operation, record: dict[str, Any]) -> Any:
    from ..operations import Call
    from ..service.privacy import CLI_CALLER

    with dependencies() as deps:
        return domain_errors(lambda: operation.invoke(Call(deps, CLI_CALLER), record))


@click.group()
def customers() -> None:
    """Customers' privacy requests: forget a customer, export what is held about one."""


@customers.command("forget")
@click.argument("email")
@click.option("--order", "order_number", help="Forget only this order of the customer's.")
@click.option("--subscription", "subscription_id", help="Forget only this subscription of the customer's.")
@click.option("--request-id", help="The request's id (default: a new one); the same id replays the first result.")
def forget(email: str, order_number: str | None, subscription_id: str | None, request_id: str | None) -> None:
    """Forget the customer of EMAIL (- reads it from standard input): their personal data is
    replaced by a pseudonym on every order and subscription, and in every copy the service keeps.

    Refused, changing nothing and exiting with status 1, while one of their orders has an open
    return or an unsettled refund, or one of their subscriptions is still running."""
    record: dict[str, Any] = {"Email": _email(email), "RequestId": request_id or f"cli-{uuid.uuid4().hex}"}
    if order_number:
        record["OrderNumber"] = order_number
    if subscription_id:
        record["SubscriptionId"] = subscription_id
    from ..operations.privacy import FORGET_CUSTOMER

    result = _run(FORGET_CUSTOMER, record)
    click.echo(f"{result.outcome.value}: {result.message}")
    counts = result.forgotten
    if result.pseudonym:
        click.echo(f"Pseudonym: {result.pseudonym}")
        click.echo(f"Forgotten: {counts.orders} order(s), {counts.subscriptions} subscription(s), "
                   f"{counts.change_feed_events} change-feed event(s), {counts.audit_records} audit record(s), "
                   f"{counts.notifications} notification(s), {counts.stored_answers} stored answer(s).")
    for unsettled in result.unsettled:
        click.echo(f"{unsettled.reason_code.value}: {unsettled.message}", err=True)
    click.echo(f"Request id: {record['RequestId']}")
    if result.unsettled:
        sys.exit(1)


@customers.command("export")
@click.argument("email")
def export(email: str) -> None:
    """Print everything held about EMAIL (- reads it from standard input) as one JSON document:
    the ExportCustomerData answer (orders, subscriptions, change-feed events)."""
    from ..documents import records
    from ..operations.privacy import EXPORT_CUSTOMER_DATA

    data = _run(EXPORT_CUSTOMER_DATA, {"Email": _email(email)})
    click.echo(records.answer_json(records.dump(EXPORT_CUSTOMER_DATA.answer_document, data, as_text=True)))
