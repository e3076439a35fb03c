"""``soap-orders customers forget|export EMAIL`` on SQLite and PostgreSQL: the same use cases as
the operations, the email never printed back, refusals with exit status 1, audited as ``cli``."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from soap_orders.cli import main
from soap_orders.documents import records
from soap_orders.service import orders
from tests.privacy import (
    copies_in_database,
    person,
    personal_order,
    personal_subscription,
)
from tests.records import store, store_subscriptions, unique


def invoke(db_url: str, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env={"SOAP_ORDERS_DATABASE_URL": db_url}, input=input)


def test_export_then_forget_from_the_command_line(database_url, deps):
    who = person()
    first, second = store(deps, personal_order(who), personal_order(who))

    exported = invoke(database_url, "customers", "export", who.email.upper())
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.stdout)
    assert sorted(o["OrderNumber"] for o in document["Orders"]) == sorted([first, second])
    assert document["Orders"][0]["Customer"]["LastName"] == who.last_name
    assert document["Subscriptions"] == [] and {e["Type"] for e in document["Events"]} == {"OrderUpserted"}

    forgotten = invoke(database_url, "customers", "forget", "-", "--request-id", "cli-forget-1", input=who.email + "\n")
    assert forgotten.exit_code == 0, forgotten.output
    lines = forgotten.stdout.splitlines()
    assert lines[0].startswith("FORGOTTEN: ") and lines[1].startswith("Pseudonym: forgotten-")
    assert lines[2].startswith("Forgotten: 2 order(s), 0 subscription(s)") and lines[-1] == "Request id: cli-forget-1"
    assert all(value not in forgotten.output for value in who.values().values())
    assert copies_in_database(deps.engine, who) == []

    again = invoke(database_url, "customers", "forget", who.email, "--request-id", "cli-forget-1")
    assert again.exit_code == 0 and again.stdout == forgotten.stdout  # replayed
    after = json.loads(invoke(database_url, "customers", "export", who.email).stdout)
    assert (after["Orders"], after["Subscriptions"], after["Events"]) == ([], [], [])

    audit = invoke(database_url, "audit", "--order", first)
    assert "\tForgetCustomer\tFORGOTTEN/NONE\tclient=cli\taddress=-\trequest=cli-forget-1" in audit.stdout


def test_a_refusal_names_what_to_settle_and_exits_1(database_url, deps):
    who = person()
    number, = store(deps, personal_order(who))
    refund = orders.issue_refund(deps.uow(), orders.IssueRefund(number, unique("refund"), orders.Reason.DAMAGED),
                                 deps.clock, orders.Caller("dg"))
    assert refund.outcome.value == "REFUNDED"
    refused = invoke(database_url, "customers", "forget", who.email)
    assert refused.exit_code == 1
    assert refused.stdout.startswith("REJECTED: Nothing was forgotten")
    assert f"UNSETTLED_REFUND: Order {number} has refund {refund.refund.refund_id} not yet settled" in refused.stderr
    assert records.order_to_record(orders.get_order(deps.uow(), number))["Customer"]["Email"] == who.email

    nothing = invoke(database_url, "customers", "forget", "nobody.here@example.com", "--order", number)
    assert nothing.exit_code == 0 and nothing.stdout.startswith("NOTHING_TO_FORGET: ")
    bad = invoke(database_url, "customers", "forget", "not an email")
    assert bad.exit_code == 1 and "Email: must be an email address" in bad.output and "not an email" not in bad.output


def test_a_client_may_be_given_the_privacy_scope(database_url):
    added = invoke(database_url, "clients", "add", "privacy-desk", "--scope", "privacy")
    assert added.exit_code == 0 and "with scopes privacy" in added.stdout


def test_importing_the_old_documents_keeps_the_customer_forgotten_and_says_so(database_url, deps, tmp_path):
    who = person()
    record = personal_order(who)
    store(deps, record)
    subscription = personal_subscription(who, Status="CANCELLED", CancelledAt="2026-01-10T10:00:00Z",
                                         CancelReason="MOVING", NextOrderDate=None)
    store_subscriptions(deps, subscription)
    assert invoke(database_url, "customers", "forget", who.email).exit_code == 0
    feed = tmp_path / "nightly.jsonl"
    feed.write_text(json.dumps(record) + "\n" + json.dumps(subscription) + "\n")

    imported = invoke(database_url, "import", str(feed))
    assert imported.exit_code == 0, imported.output
    # (the import counts every subscription it did not create or refuse as updated)
    assert imported.stdout.strip() == "0 created, 1 updated, 1 unchanged, 0 failed."
    assert imported.stderr.splitlines() == [
        "nightly.jsonl:1: The order already held this data; its customer's personal data stays forgotten."
        " (PERSONAL_DATA_FORGOTTEN)",
        "nightly.jsonl:2: The customer's personal data stays forgotten. (PERSONAL_DATA_FORGOTTEN)",
    ]
    assert copies_in_database(deps.engine, who) == []
