"""DG's flow over HTTP with zeep against a real server: find by email, pick an order, get it,
cancel it, refund it; every Outcome, every fault code, paging, wrong email, replay and conflict.
The whole suite runs once per way in: HTTP Basic, WS-Security PasswordText and PasswordDigest,
and an OAuth2 bearer token."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import zeep
from sqlalchemy import func, select

from soap_orders.adapters.orm import order_events, refunds
from tests.contract.clients import WAYS_IN, make_client
from tests.records import order_record, shipped, store, unique
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=WAYS_IN)
def way_in(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def client(server: Any, way_in: str) -> zeep.Client:
    return make_client(server, way_in)


def fault_of(call: Any, *args: Any, **kwargs: Any) -> zeep.exceptions.Fault:
    with pytest.raises(zeep.exceptions.Fault) as info:
        call(*args, **kwargs)
    return info.value


def detail(fault: zeep.exceptions.Fault) -> dict[str, str]:
    return fault_detail(fault.detail)


def refund_count(deps: Any, number: str) -> int:
    from soap_orders.adapters.orm import orders

    with deps.engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(refunds.join(orders)).where(orders.c.order_number == number)
        )


# ---------------------------------------------------------------------- find and get


def test_find_by_email_is_trimmed_and_case_insensitive_newest_first(client, server_deps):
    email = f"{unique('find')}@example.com"
    old, new = store(
        server_deps,
        order_record(email=email, CreatedAt="2026-01-01T09:00:00Z"),
        order_record(email=email.upper(), CreatedAt="2026-02-01T09:00:00Z"),
    )
    result = client.service.FindOrdersByEmail(Email=f"  {email.title()} ")
    assert [o.OrderNumber for o in result.Orders.Order] == [new, old]
    assert (result.TotalCount, result.CurrentPage, result.ItemsPerPage, result.HasMore) == (2, 1, 20, False)
    first = result.Orders.Order[0]
    assert first.Status == "PROCESSING"
    assert first.Total == Decimal("30.00") and first.Currency == "EUR"
    assert first.Customer.Email == email.upper()
    assert [line.Sku for line in first.Lines.Line] == ["MUG-RED", "TEA-001"]


def test_find_with_no_match_is_an_empty_list_not_a_fault(client):
    result = client.service.FindOrdersByEmail(Email="nobody-at-all@example.com")
    assert result.Orders is None or not result.Orders.Order
    assert (result.TotalCount, result.HasMore) == (0, False)


def test_find_pages_through_results(client, server_deps):
    email = f"{unique('paging')}@example.com"
    numbers = store(server_deps, *[
        order_record(email=email, CreatedAt=f"2026-01-{day:02d}T09:00:00Z") for day in range(1, 6)
    ])
    newest_first = list(reversed(numbers))
    page1 = client.service.FindOrdersByEmail(Email=email, PageSize=2, PageNumber=1)
    page3 = client.service.FindOrdersByEmail(Email=email, PageSize=2, PageNumber=3)
    beyond = client.service.FindOrdersByEmail(Email=email, PageSize=2, PageNumber=4)
    assert [o.OrderNumber for o in page1.Orders.Order] == newest_first[:2]
    assert (page1.TotalCount, page1.HasMore) == (5, True)
    assert [o.OrderNumber for o in page3.Orders.Order] == newest_first[4:]
    assert page3.HasMore is False
    assert not (beyond.Orders and beyond.Orders.Order) and beyond.TotalCount == 5


def test_find_filters_by_status_and_placed_dates(client, server_deps):
    email = f"{unique('filter')}@example.com"
    january, february, march = store(
        server_deps,
        order_record(email=email, CreatedAt="2026-01-15T23:59:59Z"),
        shipped(order_record(email=email, CreatedAt="2026-02-10T00:00:00Z")),
        order_record(email=email, CreatedAt="2026-03-01T00:00:00Z"),
    )
    by_status = client.service.FindOrdersByEmail(Email=email, Status="SHIPPED")
    assert [o.OrderNumber for o in by_status.Orders.Order] == [february]
    by_dates = client.service.FindOrdersByEmail(Email=email, PlacedFrom="2026-01-15", PlacedTo="2026-02-10")
    assert [o.OrderNumber for o in by_dates.Orders.Order] == [february, january]


@pytest.mark.parametrize("page_size", [0, 101])
def test_page_size_outside_1_to_100_is_a_validation_fault(client, page_size):
    fault = fault_of(client.service.FindOrdersByEmail, Email="a@example.com", PageSize=page_size)
    assert fault.code.endswith("Client.ValidationError")
    assert "PageSize" in fault.message


def test_get_order_returns_the_full_document(client, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    order = client.service.GetOrder(OrderNumber=number)
    assert order.OrderNumber == number and order.Status == "SHIPPED"
    shipment = order.Shipments.Shipment[0]
    assert (shipment.CarrierCode, shipment.TrackingNumber, shipment.Status) == ("royalmail", "RM123456789GB", "IN_TRANSIT")
    assert [(i.Sku, i.Quantity) for i in shipment.Items.Item] == [("MUG-RED", 2), ("TEA-001", 1)]
    assert order.CreatedAt.isoformat() == "2026-03-01T10:00:00+00:00"
    assert order.ShippingAddress.CountryCode == "FR"
    assert order.RefundableAmount == Decimal("30.00")


def test_get_order_with_matching_email_in_any_case(client, server_deps):
    (number,) = store(server_deps, order_record(email="Case.Test@Example.com"))
    assert client.service.GetOrder(OrderNumber=number, Email=" case.test@EXAMPLE.com").OrderNumber == number


def test_get_order_with_wrong_email_is_the_same_fault_as_unknown_number(client, server_deps):
    (number,) = store(server_deps, order_record())
    wrong = fault_of(client.service.GetOrder, OrderNumber=number, Email="someone.else@example.com")
    unknown = fault_of(client.service.GetOrder, OrderNumber="NO-SUCH-ORDER")
    assert wrong.code.endswith("Client.OrderNotFound") and unknown.code.endswith("Client.OrderNotFound")
    assert wrong.message == unknown.message
    assert detail(wrong) == detail(unknown) == {
        "ErrorCode": "ORDER_NOT_FOUND", "Message": wrong.message, "Retryable": "false",
    }


# ---------------------------------------------------------------------- cancel


def test_cancel_a_paid_order_refunds_it(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.CancelOrder(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER", Note="Changed mind")
    assert (result.Outcome, result.ReasonCode) == ("CANCELLED", "NONE")
    assert "30.00 EUR" in result.Message
    order = result.Order
    assert (order.Status, order.FinancialStatus, order.CancelReason) == ("CANCELLED", "REFUNDED", "CUSTOMER")
    assert order.RefundedAmount == Decimal("30.00") and order.RefundableAmount == Decimal("0.00")
    assert [line.Status for line in order.Lines.Line] == ["CANCELLED", "CANCELLED"]
    assert [line.QuantityCancelled for line in order.Lines.Line] == [2, 1]
    with server_deps.engine.connect() as connection:
        events = connection.execute(
            select(order_events.c.event_type).where(order_events.c.order_number == number)
            .order_by(order_events.c.id)
        ).scalars().all()
    assert events == ["OrderUpserted", "OrderCancelled"]  # stored by the ERP, then cancelled


def test_cancel_an_authorised_order_voids_it(client, server_deps):
    (number,) = store(server_deps, order_record(FinancialStatus="AUTHORIZED"))
    result = client.service.CancelOrder(OrderNumber=number, RequestId=unique("rq"), Reason="FRAUD")
    assert result.Outcome == "CANCELLED"
    assert result.Order.FinancialStatus == "VOIDED"
    assert not (result.Order.Refunds and result.Order.Refunds.Refund)


def test_cancel_twice_answers_already_cancelled(client, server_deps):
    (number,) = store(server_deps, order_record())
    client.service.CancelOrder(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER")
    again = client.service.CancelOrder(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER")
    assert (again.Outcome, again.ReasonCode) == ("ALREADY_CANCELLED", "ALREADY_CANCELLED")
    assert refund_count(server_deps, number) == 1


def test_cancel_rejected_after_dispatch(client, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    result = client.service.CancelOrder(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER")
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", "ALREADY_SHIPPED")
    assert result.Order.Status == "SHIPPED" and result.Order.FinancialStatus == "PAID"


def test_cancel_unknown_order_is_order_not_found(client):
    fault = fault_of(client.service.CancelOrder, OrderNumber="NOPE-1", RequestId=unique("rq"), Reason="OTHER")
    assert fault.code.endswith("Client.OrderNotFound")


# ---------------------------------------------------------------------- refund


def test_partial_then_remaining_refund(client, server_deps):
    (number,) = store(server_deps, order_record())
    first = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED", Amount=Decimal("12.5"))
    assert (first.Outcome, first.ReasonCode) == ("REFUNDED", "NONE")
    assert first.Refund.Amount == Decimal("12.50") and first.Refund.Status == "PENDING"
    assert first.RefundableAmount == Decimal("17.50")
    assert first.Order.FinancialStatus == "PARTIALLY_REFUNDED"
    rest = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED")
    assert rest.Refund.Amount == Decimal("17.50")
    assert rest.Order.FinancialStatus == "REFUNDED" and rest.RefundableAmount == Decimal("0.00")
    nothing = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED")
    assert (nothing.Outcome, nothing.ReasonCode) == ("REJECTED", "NOTHING_REFUNDABLE")
    assert nothing.Refund is None


def test_refund_by_line_number_and_by_sku(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.IssueRefund(
        OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED",
        Lines={"Line": [{"LineNumber": 1, "Quantity": 1}, {"Sku": "TEA-001", "Quantity": 1}]},
    )
    assert result.Outcome == "REFUNDED"
    assert result.Refund.Amount == Decimal("15.50")
    assert [line.QuantityRefunded for line in result.Order.Lines.Line] == [1, 1]
    too_many = client.service.IssueRefund(
        OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED", Lines={"Line": [{"LineNumber": 2, "Quantity": 1}]}
    )
    assert (too_many.Outcome, too_many.ReasonCode) == ("REJECTED", "EXCEEDS_LINE_QUANTITY")
    unknown = client.service.IssueRefund(
        OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED", Lines={"Line": [{"Sku": "NOT-IN-ORDER", "Quantity": 1}]}
    )
    assert (unknown.Outcome, unknown.ReasonCode) == ("REJECTED", "UNKNOWN_LINE")


def test_refund_more_than_refundable_is_rejected(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="OTHER", Amount=Decimal("30.01"))
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", "EXCEEDS_REFUNDABLE")
    assert result.RefundableAmount == Decimal("30.00")
    assert refund_count(server_deps, number) == 0


def test_refund_of_an_unpaid_order_is_rejected(client, server_deps):
    (number,) = store(server_deps, order_record(FinancialStatus="AUTHORIZED"))
    result = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="OTHER")
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", "NOT_PAID")


def test_amount_and_lines_together_is_a_validation_fault(client, server_deps):
    (number,) = store(server_deps, order_record())
    fault = fault_of(
        client.service.IssueRefund, OrderNumber=number, RequestId=unique("rq"), Reason="OTHER",
        Amount=Decimal("1.00"), Lines={"Line": [{"LineNumber": 1, "Quantity": 1}]},
    )
    assert fault.code.endswith("Client.ValidationError")
    assert detail(fault)["ErrorCode"] == "VALIDATION_ERROR"
    assert refund_count(server_deps, number) == 0


def test_amount_with_more_decimals_than_the_currency_is_a_validation_fault(client, server_deps):
    (number,) = store(server_deps, order_record(
        Currency="JPY", Subtotal="2550", ShippingTotal="450", Total="3000",
        Lines=[{"LineNumber": 1, "Sku": "A", "Name": "A", "Quantity": 1, "UnitPrice": "2550"}],
    ))
    fault = fault_of(client.service.IssueRefund, OrderNumber=number, RequestId=unique("rq"), Reason="OTHER", Amount=Decimal("10.5"))
    assert fault.code.endswith("Client.ValidationError")
    assert detail(fault)["ErrorCode"] == "INVALID_AMOUNT"
    assert "0 decimal places for JPY" in fault.message
    ok = client.service.IssueRefund(OrderNumber=number, RequestId=unique("rq"), Reason="OTHER", Amount=Decimal("10"))
    assert ok.Refund.Amount == Decimal("10") and ok.RefundableAmount == Decimal("2990")


# ---------------------------------------------------------------------- idempotency


def test_same_request_id_replays_the_first_result(client, server_deps):
    (number,) = store(server_deps, order_record())
    request_id = unique("replay")
    first = client.service.IssueRefund(OrderNumber=number, RequestId=request_id, Reason="DAMAGED", Amount=Decimal("5"))
    again = client.service.IssueRefund(OrderNumber=number, RequestId=request_id, Reason="DAMAGED", Amount=Decimal("5.00"))
    assert again.Refund.RefundId == first.Refund.RefundId
    assert (again.Outcome, again.Message, again.RefundableAmount) == (first.Outcome, first.Message, first.RefundableAmount)
    assert refund_count(server_deps, number) == 1


def test_same_request_id_with_other_parameters_is_a_conflict(client, server_deps):
    (number,) = store(server_deps, order_record())
    request_id = unique("conflict")
    client.service.IssueRefund(OrderNumber=number, RequestId=request_id, Reason="DAMAGED", Amount=Decimal("5"))
    fault = fault_of(client.service.IssueRefund, OrderNumber=number, RequestId=request_id, Reason="DAMAGED", Amount=Decimal("6"))
    assert fault.code.endswith("Client.IdempotencyConflict")
    assert detail(fault) == {"ErrorCode": "IDEMPOTENCY_CONFLICT", "Message": fault.message, "Retryable": "false"}
    other_operation = fault_of(client.service.CancelOrder, OrderNumber=number, RequestId=request_id, Reason="DAMAGED")
    assert other_operation.code.endswith("Client.IdempotencyConflict")
    assert refund_count(server_deps, number) == 1


def test_concurrent_requests_with_one_id_execute_once(server, server_deps, way_in):
    (number,) = store(server_deps, order_record())
    request_id = unique("race")
    results: list[Any] = []
    errors: list[BaseException] = []

    def refund() -> None:
        try:
            own = make_client(server, way_in)
            results.append(own.service.IssueRefund(OrderNumber=number, RequestId=request_id, Reason="OTHER", Amount=Decimal("3")))
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=refund) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(results) == 6
    assert len({r.Refund.RefundId for r in results}) == 1
    assert refund_count(server_deps, number) == 1


def test_concurrent_different_refunds_never_exceed_what_was_paid(server, server_deps, way_in):
    (number,) = store(server_deps, order_record())
    outcomes: list[str] = []

    def refund(i: int) -> None:
        own = make_client(server, way_in)
        outcomes.append(own.service.IssueRefund(OrderNumber=number, RequestId=unique(f"par{i}"), Reason="OTHER", Amount=Decimal("10")).Outcome)

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["REFUNDED"] * 3 + ["REJECTED"] * 2
    assert refund_count(server_deps, number) == 3
