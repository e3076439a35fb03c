"""The order actions and the tracking-number find as use cases, over the in-memory stores (what is
decided, evented, audited and replayed is the point here; tests/integration/test_repository_contract.py
holds those stores to the SQL ones, and tests/contract/test_order_actions_*.py run the actions on a
real server over both databases)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from soap_orders.domain.errors import (
    IdempotencyConflict,
    OrderNotFound,
    ValidationError,
)
from soap_orders.domain.orders import (
    Address,
    OrderStatus,
    OrderType,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    ReplacementReason,
    ReturnReason,
    ReturnStatus,
    ReturnUpdate,
)
from soap_orders.service import order_actions as actions
from soap_orders.service.orders import Caller
from tests.in_memory import InMemory
from tests.records import delivered as delivered_record
from tests.records import order_record, shipped, store

CALLER = Caller("dg-test", "10.1.2.3")
ERP = Caller("erp-test")
MARCH_10 = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


def clock() -> datetime:
    return MARCH_10


def line(number: int, quantity: int) -> RefundLineRequest:
    return RefundLineRequest(quantity, line_number=number)


@pytest.fixture
def deps() -> InMemory:
    return InMemory()


def events(deps, number: str) -> list[tuple[str, dict]]:
    """The order's events after it was stored (its OrderUpserted from ``store`` left out)."""
    return [(e.type, e.details) for e in deps.feed() if e.order_number == number and e.type != "OrderUpserted"]


def load(deps, number: str):
    with deps.uow() as uow:
        return uow.orders.get(number)


def audit(deps, number: str):
    with deps.uow() as uow:
        return uow.audit.for_order(number)


NEW_ADDRESS = Address(name="Ann Lee", line1="5 Avenue Foch", city="Lyon", postal_code="69006", country_code="fr")


# ---------------------------------------------------------------------- address


def test_change_shipping_address_stores_it_with_the_old_one_in_event_and_audit(deps):
    [number] = store(deps, order_record())
    command = actions.ChangeShippingAddress(number, "req-addr-1", NEW_ADDRESS)
    result = actions.change_shipping_address(deps.uow(), command, clock, CALLER)
    assert (result.outcome, result.reason_code) == (Outcome.ADDRESS_CHANGED, ReasonCode.NONE)
    order = load(deps, number)
    assert order.shipping_address.city == "Lyon" and order.shipping_address.country_code == "FR"
    assert order.address_changed_at == MARCH_10
    [(kind, payload)] = events(deps, number)
    assert kind == "ShippingAddressChanged" and payload["old_address"]["city"] == "Paris"
    [record] = audit(deps, number)[-1:]
    assert record.operation == "ChangeShippingAddress" and record.outcome == "ADDRESS_CHANGED/NONE"
    assert record.details["Events"][0]["old_address"]["line1"] == "1 Rue de Rivoli"

    again = actions.change_shipping_address(deps.uow(), command, clock, CALLER)
    assert (again.outcome, again.message, again.order.address_changed_at) == (
        result.outcome, result.message, MARCH_10)
    assert len(events(deps, number)) == 1
    with pytest.raises(IdempotencyConflict):
        actions.change_shipping_address(
            deps.uow(), actions.ChangeShippingAddress(number, "req-addr-1", Address(
                name="X", line1="Y", city="Z", postal_code="1", country_code="DE")), clock, CALLER)


def test_change_shipping_address_after_shipping_is_rejected(deps):
    [number] = store(deps, shipped(order_record()))
    result = actions.change_shipping_address(
        deps.uow(), actions.ChangeShippingAddress(number, "req-addr-2", NEW_ADDRESS), clock, CALLER)
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert load(deps, number).shipping_address.city == "Paris"
    assert [e for e, _ in events(deps, number)] == []
    assert audit(deps, number)[-1].outcome == "REJECTED/ALREADY_SHIPPED"


def test_an_invalid_address_is_an_error_and_stores_nothing(deps):
    [number] = store(deps, order_record())
    bad = Address(name="Ann", line1="x", city="Paris", country_code="FR")  # no postal code
    with pytest.raises(ValidationError):
        actions.change_shipping_address(deps.uow(), actions.ChangeShippingAddress(number, "req-addr-3", bad),
                                        clock, CALLER)
    # The RequestId was not used up: a corrected request under it goes through.
    result = actions.change_shipping_address(
        deps.uow(), actions.ChangeShippingAddress(number, "req-addr-3", NEW_ADDRESS), clock, CALLER)
    assert result.outcome is Outcome.ADDRESS_CHANGED


def test_actions_on_an_unknown_order_are_not_found(deps):
    with pytest.raises(OrderNotFound):
        actions.change_shipping_address(
            deps.uow(), actions.ChangeShippingAddress("NOPE-1", "req-nf", NEW_ADDRESS), clock, CALLER)


# ---------------------------------------------------------------------- line cancellation


def test_cancel_order_lines_refunds_and_replays(deps):
    [number] = store(deps, order_record())
    command = actions.CancelOrderLines(number, "req-lines-1", Reason.CUSTOMER, (line(1, 1), line(9, 1)))
    result = actions.cancel_order_lines(deps.uow(), command, clock, CALLER)
    assert result.outcome is Outcome.LINES_CANCELLED and result.refund.amount == Decimal("10.00")
    assert [r.reason_code for r in result.lines] == [ReasonCode.NONE, ReasonCode.UNKNOWN_LINE]
    order = load(deps, number)
    assert order.lines[0].quantity_cancelled == 1 and order.refunded_amount == Decimal("10.00")
    assert [e for e, _ in events(deps, number)] == ["RefundIssued", "OrderLinesCancelled"]

    again = actions.cancel_order_lines(deps.uow(), command, clock, CALLER)
    assert again.lines == result.lines and again.refund.refund_id == result.refund.refund_id
    assert load(deps, number).refunded_amount == Decimal("10.00")
    with pytest.raises(IdempotencyConflict):
        actions.cancel_order_lines(deps.uow(), actions.CancelOrderLines(
            number, "req-lines-1", Reason.CUSTOMER, (line(1, 2),)), clock, CALLER)

    last = actions.cancel_order_lines(deps.uow(), actions.CancelOrderLines(
        number, "req-lines-2", Reason.CUSTOMER, (line(1, 1), line(2, 1))), clock, CALLER)
    assert last.order.status is OrderStatus.CANCELLED and last.refund.amount == Decimal("20.00")
    assert load(deps, number).status is OrderStatus.CANCELLED


def test_cancel_order_lines_of_a_shipped_order_is_refused_per_line(deps):
    [number] = store(deps, shipped(order_record()))
    result = actions.cancel_order_lines(deps.uow(), actions.CancelOrderLines(
        number, "req-lines-3", Reason.CUSTOMER, (line(1, 1), line(2, 1))), clock, CALLER)
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert [r.reason_code for r in result.lines] == [ReasonCode.ALREADY_SHIPPED] * 2
    replay = actions.cancel_order_lines(deps.uow(), actions.CancelOrderLines(
        number, "req-lines-3", Reason.CUSTOMER, (line(1, 1), line(2, 1))), clock, CALLER)
    assert replay.lines == result.lines


# ---------------------------------------------------------------------- replacement


def test_issue_replacement_creates_a_linked_free_order_once(deps):
    [number] = store(deps, shipped(order_record()))
    command = actions.IssueReplacement(number, "req-repl-1", ReplacementReason.DAMAGED, (line(1, 1),))
    result = actions.issue_replacement(deps.uow(), command, clock, ERP)
    assert result.outcome is Outcome.REPLACEMENT_ISSUED and result.replacement_order_number == f"{number}-R1"
    new = load(deps, result.replacement_order_number)
    assert new.order_type is OrderType.REPLACEMENT and new.total == Decimal("0.00")
    assert new.replaces_order_number == number and new.lines[0].sku == "MUG-RED"
    original = load(deps, number)
    assert original.replacement_order_numbers == [f"{number}-R1"] and original.lines[0].quantity_replaced == 1
    assert [e for e, _ in events(deps, new.order_number)] == ["ReplacementOrderCreated"]
    assert audit(deps, new.order_number)[-1].outcome == "CREATED"

    again = actions.issue_replacement(deps.uow(), command, clock, ERP)
    assert again.replacement_order_number == result.replacement_order_number
    assert load(deps, number).replacement_order_numbers == [f"{number}-R1"]

    second = actions.issue_replacement(deps.uow(), actions.IssueReplacement(
        number, "req-repl-2", ReplacementReason.LOST, (line(1, 1),)), clock, ERP)
    assert second.replacement_order_number == f"{number}-R2"
    over = actions.issue_replacement(deps.uow(), actions.IssueReplacement(
        number, "req-repl-3", ReplacementReason.LOST, (line(1, 1),)), clock, ERP)
    assert (over.outcome, over.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_REPLACEABLE)


def test_issue_replacement_of_an_unshipped_order_is_rejected(deps):
    [number] = store(deps, order_record())
    result = actions.issue_replacement(deps.uow(), actions.IssueReplacement(
        number, "req-repl-4", ReplacementReason.DAMAGED, (line(1, 1),)), clock, ERP)
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, ReasonCode.NOT_SHIPPED)
    assert result.replacement_order_number is None


# ---------------------------------------------------------------------- returns


def test_a_return_is_created_moved_and_refunded(deps):
    [number] = store(deps, delivered_record(order_record()))
    created = actions.create_return(deps.uow(), actions.CreateReturn(
        number, "req-ret-1", ReturnReason.SIZE, (line(1, 2),), return_tracking_number="1Z999AA1",
        carrier_code="ups", label_url="https://labels.example.com/1.pdf"), clock, CALLER, return_window_days=30)
    assert created.outcome is Outcome.RETURN_CREATED and created.return_id.startswith("RMA-")
    stored = load(deps, number).returns[0]
    assert (stored.status, stored.reason, stored.items[0].line_number) == (ReturnStatus.LABEL_CREATED, "SIZE", 1)

    def update(request_id: str, status: ReturnUpdate):
        return actions.update_return(deps.uow(), actions.UpdateReturn(number, request_id, created.return_id, status),
                                     clock, ERP)

    assert update("req-upd-1", ReturnUpdate.RECEIVED).outcome is Outcome.RETURN_UPDATED
    refused = update("req-upd-2", ReturnUpdate.RECEIVED)
    assert (refused.outcome, refused.reason_code) == (Outcome.REJECTED, ReasonCode.INVALID_TRANSITION)
    refunded = update("req-upd-3", ReturnUpdate.REFUNDED)
    assert refunded.outcome is Outcome.RETURN_UPDATED and refunded.refund.amount == Decimal("20.00")
    order = load(deps, number)
    assert order.returns[0].status is ReturnStatus.REFUNDED and order.returns[0].refund_id == refunded.refund.refund_id
    assert order.refunded_amount == Decimal("20.00") and order.refunds[0].reason is Reason.RETURN
    assert [e for e, _ in events(deps, number)] == [
        "ReturnCreated", "ReturnUpdated", "RefundIssued", "ReturnUpdated"]
    assert update("req-upd-3", ReturnUpdate.REFUNDED).refund.refund_id == refunded.refund.refund_id
    assert load(deps, number).refunded_amount == Decimal("20.00")

    more = actions.create_return(deps.uow(), actions.CreateReturn(
        number, "req-ret-2", ReturnReason.SIZE, (line(1, 1),)), clock, CALLER)
    assert (more.outcome, more.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_RETURNABLE)
    unknown = actions.update_return(deps.uow(), actions.UpdateReturn(number, "req-upd-4", "RMA-NONE",
                                                                     ReturnUpdate.RECEIVED), clock, ERP)
    assert unknown.reason_code is ReasonCode.UNKNOWN_RETURN


def test_returns_outside_the_window_or_before_delivery_are_rejected(deps):
    delivered, in_transit = store(deps, delivered_record(order_record()), shipped(order_record()))
    late = actions.create_return(deps.uow(), actions.CreateReturn(
        delivered, "req-ret-3", ReturnReason.UNWANTED, (line(2, 1),)), lambda: datetime(2026, 4, 10, tzinfo=timezone.utc),
        CALLER, return_window_days=30)
    assert (late.outcome, late.reason_code) == (Outcome.REJECTED, ReasonCode.OUTSIDE_RETURN_WINDOW)
    early = actions.create_return(deps.uow(), actions.CreateReturn(
        in_transit, "req-ret-4", ReturnReason.UNWANTED, (line(2, 1),)), clock, CALLER)
    assert (early.outcome, early.reason_code) == (Outcome.REJECTED, ReasonCode.NOT_DELIVERED)
    assert load(deps, delivered).returns == [] and load(deps, in_transit).returns == []


# ---------------------------------------------------------------------- find by tracking number


def test_find_orders_by_tracking_number_matches_shipments_and_returns_in_any_case(deps):
    first = delivered_record(order_record(CreatedAt="2026-03-01T10:00:00Z"))
    second = shipped(order_record(CreatedAt="2026-03-02T10:00:00Z", email="bo@example.com"))
    other = shipped(order_record())
    other["Shipments"][0]["TrackingNumber"] = "OTHER-1"
    a, b, _ = store(deps, first, second, other)
    actions.create_return(deps.uow(), actions.CreateReturn(
        a, "req-ret-5", ReturnReason.SIZE, (line(2, 1),), return_tracking_number="RET-777xy"), clock, CALLER)

    page = actions.find_orders_by_tracking_number(deps.uow(), actions.FindOrdersByTrackingNumber("rm123456789gb"))
    assert [o.order_number for o in page.orders] == [b, a] and page.total_count == 2 and not page.has_more
    page = actions.find_orders_by_tracking_number(
        deps.uow(), actions.FindOrdersByTrackingNumber("RM123456789GB", page_size=1, page_number=2))
    assert [o.order_number for o in page.orders] == [a] and page.total_count == 2
    page = actions.find_orders_by_tracking_number(deps.uow(), actions.FindOrdersByTrackingNumber(" ret-777XY "))
    assert [o.order_number for o in page.orders] == [a]
    page = actions.find_orders_by_tracking_number(
        deps.uow(), actions.FindOrdersByTrackingNumber("RM123456789GB", email="BO@example.com"))
    assert [o.order_number for o in page.orders] == [b]
    page = actions.find_orders_by_tracking_number(
        deps.uow(), actions.FindOrdersByTrackingNumber("RM123456789GB", email="nobody@example.com"))
    assert (page.orders, page.total_count) == ([], 0)
    assert actions.find_orders_by_tracking_number(
        deps.uow(), actions.FindOrdersByTrackingNumber("RM123456789")).total_count == 0


@pytest.mark.parametrize("query, field", [
    (actions.FindOrdersByTrackingNumber(" "), "TrackingNumber"),
    (actions.FindOrdersByTrackingNumber("x" * 65), "TrackingNumber"),
    (actions.FindOrdersByTrackingNumber("X", email="not-an-email"), "Email"),
    (actions.FindOrdersByTrackingNumber("X", page_size=101), "PageSize"),
    (actions.FindOrdersByTrackingNumber("X", page_number=0), "PageNumber"),
])
def test_find_orders_by_tracking_number_refuses_bad_queries(deps, query, field):
    with pytest.raises(ValidationError) as caught:
        actions.find_orders_by_tracking_number(deps.uow(), query)
    assert caught.value.field == field
