"""An action's result is kept under its RequestId through a declared document
(``STORED_ACTION_RESULT`` of ``service.orders`` and ``service.subscriptions``) and read back whole to
be replayed; rows kept in the form written before the declaration read back the same."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from soap_orders.documents import records
from soap_orders.documents import subscriptions as forms
from soap_orders.documents.rendered import render_order
from soap_orders.domain.orders import LineResult, Outcome, Reason, ReasonCode
from soap_orders.domain.subscriptions import Charge, ChargeStatus, SubscriptionRefund
from soap_orders.domain.subscriptions import SubscriptionOutcome as SO
from soap_orders.domain.subscriptions import SubscriptionReasonCode as SR
from soap_orders.service import orders as use_cases
from soap_orders.service import subscriptions as subscription_cases
from soap_orders.service.orders import ActionResult
from soap_orders.service.subscriptions import SubscriptionActionResult
from tests.unit.factories import make_order, make_refund, plain
from tests.unit.subscription_factories import make_subscription


def kept(record: dict) -> dict:
    """What the idempotency store gives back: the record after a trip through JSON."""
    return json.loads(json.dumps(record))


def results() -> list[ActionResult]:
    order = make_order()
    return [
        ActionResult(Outcome.CANCELLED, ReasonCode.NONE, "The order was cancelled.", order, make_refund("35.50")),
        ActionResult(Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED, "It has shipped.", make_order()),
        ActionResult(
            Outcome.LINES_CANCELLED, ReasonCode.NONE, "1 line cancelled.", make_order(),
            lines=(LineResult(1, 1, None, ReasonCode.NONE, "Cancelled."),
                   LineResult(3, None, "SKU-ZZ", ReasonCode.UNKNOWN_LINE, "No such line.")),
            released_amount=Decimal("12.50"),
        ),
        ActionResult(Outcome.REPLACEMENT_ISSUED, ReasonCode.NONE, "Replaced.", make_order(),
                     replacement_order_number="R-1001"),
        ActionResult(Outcome.RETURN_CREATED, ReasonCode.NONE, "Return created.", make_order(), return_id="RT-9"),
    ]


def each(build):  # type: ignore[no-untyped-def]
    """Parametrize by position, building the results when the test runs: domain objects made while
    the tests are collected would lose their state once a database test maps the domain's classes."""
    return pytest.mark.parametrize("index", range(len(build())), ids=[r.outcome.value for r in build()])


@each(results)
def test_a_result_reads_back_as_it_was_kept(index):
    result = results()[index]
    again = use_cases._result_from_record(kept(use_cases._result_to_record(result)))
    assert plain(again) == plain(result)
    assert isinstance(again.lines, tuple)


@each(results)
def test_a_result_answered_from_its_kept_document_is_kept_as_from_the_order(index):
    """Once the action's commit has written the order's document, the result is kept from it (not
    written from the order again): the same record either way."""
    result = results()[index]
    with_document = replace(result, document=render_order(result.order))
    assert with_document.answered_order is with_document.document
    assert kept(use_cases._result_to_record(with_document)) == kept(use_cases._result_to_record(result))
    again = use_cases._result_from_record(kept(use_cases._result_to_record(with_document)))
    assert again.document is None and plain(again) == plain(result)


def written_before(result: ActionResult) -> dict:
    """A result as rows kept before the declaration hold it (1.4.0's hand-written form)."""
    record = {
        "Outcome": result.outcome.value,
        "ReasonCode": result.reason_code.value,
        "Message": result.message,
        "Refund": records.refund_to_record(result.refund, result.order.currency) if result.refund else None,
        "Order": records.order_to_record(result.order),
    }
    if result.lines:
        record["Lines"] = [{"Quantity": r.quantity, "LineNumber": r.line_number, "Sku": r.sku,
                            "ReasonCode": r.reason_code.value, "Message": r.message} for r in result.lines]
    if result.released_amount is not None:
        record["ReleasedAmount"] = f"{result.released_amount:f}"
    if result.replacement_order_number is not None:
        record["ReplacementOrderNumber"] = result.replacement_order_number
    if result.return_id is not None:
        record["ReturnId"] = result.return_id
    return record


@each(results)
def test_a_row_kept_before_reads_back_the_same(index):
    result = results()[index]
    again = use_cases._result_from_record(kept(written_before(result)))
    assert plain(again) == plain(result)


def test_the_kept_form_is_the_one_rows_already_hold():
    """Nothing is renamed: a new row holds the names and values an old one does (the list of line
    results is now always there, absent parts are left out, amounts are written to the currency's
    places)."""

    def normal(record: dict) -> dict:
        record = {k: v for k, v in record.items() if v is not None and v != []}
        if "Lines" in record:
            record["Lines"] = [{k: v for k, v in line.items() if v is not None} for line in record["Lines"]]
        if "ReleasedAmount" in record:
            record["ReleasedAmount"] = Decimal(record["ReleasedAmount"])
        return record

    for result in results():
        assert normal(kept(use_cases._result_to_record(result))) == normal(kept(written_before(result)))


# ---------------------------------------------------------------------- subscription actions


def subscription_results() -> list[SubscriptionActionResult]:
    charged = datetime(2026, 1, 31, 8, tzinfo=timezone.utc)
    return [
        SubscriptionActionResult(SO.PAUSED, SR.NONE, "Paused.", make_subscription()),
        SubscriptionActionResult(
            SO.REFUNDED, SR.NONE, "Refunded.", make_subscription(),
            refund=SubscriptionRefund("RF-1", "CH-1", Decimal("5.00"), Reason.DAMAGED, charged, "Dented"),
        ),
        SubscriptionActionResult(SO.CHARGE_RECORDED, SR.NONE, "Recorded.", make_subscription(),
                                 charge=Charge("CH-2", Decimal("24.00"), charged, ChargeStatus.FAILED)),
    ]


def subscription_written_before(result: SubscriptionActionResult) -> dict:
    """A result as rows kept before the declaration hold it (1.4.0's hand-written form)."""
    currency = result.subscription.currency
    return {
        "Outcome": result.outcome.value,
        "ReasonCode": result.reason_code.value,
        "Message": result.message,
        "Refund": records.dump(forms.REFUND, result.refund, currency) if result.refund else None,
        "Charge": records.dump(forms.CHARGE, result.charge, currency) if result.charge else None,
        "Subscription": forms.subscription_to_record(result.subscription, stored=True),
    }


@each(subscription_results)
def test_a_subscription_result_reads_back_as_it_was_kept(index):
    result = subscription_results()[index]
    again = subscription_cases._result_from_record(kept(subscription_cases._result_to_record(result)))
    assert plain(again) == plain(result)


@each(subscription_results)
def test_a_subscription_row_kept_before_reads_back_the_same(index):
    result = subscription_results()[index]
    old = kept(subscription_written_before(result))
    assert plain(subscription_cases._result_from_record(old)) == plain(result)
    assert kept(subscription_cases._result_to_record(result)) == {k: v for k, v in old.items() if v is not None}
