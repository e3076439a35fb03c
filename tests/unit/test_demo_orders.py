"""Demo orders are built through the domain: they pass its checks and its figures are the domain's."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest

from soap_orders.demo import ANCHOR, build_orders, generate_records
from soap_orders.documents.records import order_from_record, order_to_record
from soap_orders.domain import money
from soap_orders.domain.orders import (
    FinancialStatus,
    Order,
    OrderStatus,
    OrderType,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    ReturnStatus,
    ShipmentStatus,
)

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def orders(request: pytest.FixtureRequest) -> list[Order]:
    return list(build_orders(200, request.param))


def _copy(order: Order) -> Order:
    """An independent copy, so a test may act on it without changing the shared fixture."""
    return order_from_record(order_to_record(order))


@pytest.mark.parametrize("count", [1, 3, 45, 500])
@pytest.mark.parametrize("seed", [0, 1, 42, 2026])
def test_every_generated_order_passes_the_domains_check(count: int, seed: int) -> None:
    generated = list(build_orders(count, seed))
    assert len(generated) == count
    for order in generated:
        before = order_to_record(order)
        order.check()
        assert order_to_record(order) == before  # nothing needed normalising


def test_records_are_the_built_orders() -> None:
    assert list(generate_records(40, 5)) == [order_to_record(o) for o in build_orders(40, 5)]


def test_refunds_never_exceed_what_was_paid(orders: list[Order]) -> None:
    refunded_orders = [o for o in orders if o.refunds]
    assert refunded_orders
    for order in orders:
        assert order.refunded_amount <= order.captured_amount, order.order_number
        assert order.refundable_amount == order.captured_amount - order.refunded_amount
        for line in order.lines:
            assert 0 <= line.quantity_refunded <= line.quantity
        if order.refunds:
            assert order.financial_status is (
                FinancialStatus.REFUNDED if order.refundable_amount == 0 else FinancialStatus.PARTIALLY_REFUNDED
            )


def test_the_domain_refuses_to_refund_more_than_is_left(orders: list[Order]) -> None:
    """Asking each refunded order for one minor unit more than is refundable is refused."""
    for original in (o for o in orders if o.refunds):
        order = _copy(original)
        one_more = order.refundable_amount + money.quantum(order.currency)
        decision = order.refund(reason=Reason.OTHER, now=ANCHOR, request_id="r", refund_id="RF-T", amount=one_more)
        assert decision.outcome is Outcome.REJECTED
        expected = ReasonCode.NOTHING_REFUNDABLE if order.refundable_amount == 0 else ReasonCode.EXCEEDS_REFUNDABLE
        assert decision.reason_code is expected
        assert len(order.refunds) == len(original.refunds)


def test_line_refunds_are_what_completed_returns_took_back(orders: list[Order]) -> None:
    assert any(r.status is ReturnStatus.REFUNDED for o in orders for r in o.returns)
    for order in orders:
        returned: Counter[str] = Counter()
        for ret in order.returns:
            if ret.status is ReturnStatus.REFUNDED:
                refund = next(f for f in order.refunds if f.refund_id == ret.refund_id)
                assert refund.reason is Reason.RETURN and refund.status.value == "COMPLETED"
                returned.update({item.sku: item.quantity for item in ret.items})
        refunded = Counter({line.sku: line.quantity_refunded for line in order.lines if line.quantity_refunded})
        assert refunded == returned, order.order_number


def test_cancelled_orders_were_cancelled_by_the_domain(orders: list[Order]) -> None:
    cancelled = [o for o in orders if o.status is OrderStatus.CANCELLED]
    assert {o.financial_status for o in cancelled} == {FinancialStatus.VOIDED, FinancialStatus.REFUNDED}
    for original in cancelled:
        assert original.cancelled_at is not None and original.cancel_reason is not None
        assert not original.has_shipped
        if original.financial_status is FinancialStatus.REFUNDED:
            assert original.refunded_amount == original.total and len(original.refunds) == 1
            assert original.refunds[0].reason is original.cancel_reason
        order = _copy(original)
        again = order.cancel(reason=Reason.OTHER, now=ANCHOR, request_id="r", refund_id="RF-T")
        assert again.outcome is Outcome.ALREADY_CANCELLED


def test_open_paid_orders_can_still_be_refunded_or_cancelled_by_the_domain(orders: list[Order]) -> None:
    """The orders make run suggests trying are ones the service's rules accept."""
    delivered = next(o for o in orders if o.status is OrderStatus.DELIVERED and o.financial_status is FinancialStatus.PAID)
    assert _copy(delivered).refund(reason=Reason.DAMAGED, now=ANCHOR, request_id="r",
                                   refund_id="RF-T").outcome is Outcome.REFUNDED
    processing = next(o for o in orders if o.status is OrderStatus.PROCESSING and not o.shipments)
    assert _copy(processing).cancel(reason=Reason.CUSTOMER, now=ANCHOR, request_id="r",
                                    refund_id="RF-T").outcome is Outcome.CANCELLED


def test_demo_orders_carry_no_events(orders: list[Order]) -> None:
    assert all(order.events == [] for order in orders)


def test_refund_timestamps_and_settlement(orders: list[Order]) -> None:
    for order in orders:
        for refund in order.refunds:
            assert order.created_at <= refund.created_at < ANCHOR
            assert refund.status.value in ("PENDING", "COMPLETED")
            if ANCHOR - refund.created_at >= timedelta(days=2):
                assert refund.status.value == "COMPLETED"


def test_every_shipment_status_appears() -> None:
    statuses = {s.status for seed in SEEDS for o in build_orders(200, seed) for s in o.shipments}
    assert statuses == set(ShipmentStatus)


def test_a_parcel_returned_to_the_sender_belongs_to_an_old_shipped_order() -> None:
    found = [(o, s) for o in build_orders(2000, 1) for s in o.shipments
             if s.status is ShipmentStatus.RETURNED_TO_SENDER]
    assert found
    for order, shipment in found:
        assert order.status is OrderStatus.SHIPPED and shipment.shipped_at is not None
        assert ANCHOR - order.created_at > timedelta(days=30)


def test_some_customers_have_subscription_orders_and_some_are_plain(orders: list[Order]) -> None:
    types: dict[str, set[OrderType]] = defaultdict(set)
    for order in orders:
        types[order.customer.email.lower()].add(order.order_type)
    plain = [email for email, kinds in types.items() if OrderType.SUBSCRIPTION not in kinds]
    subscribers = [email for email, kinds in types.items() if OrderType.SUBSCRIPTION in kinds]
    assert subscribers and len(plain) > len(subscribers)


def test_first_number_moves_the_numbers_and_nothing_else() -> None:
    default = list(build_orders(20, 9))
    moved = list(build_orders(20, 9, first_number=500_001))
    assert [o.order_number for o in moved] == [f"SO-{500_001 + i}" for i in range(20)]
    for a, b in zip(default, moved, strict=True):
        assert order_to_record(a) == _renumbered(order_to_record(b), a.order_number[3:], b.order_number[3:])


def _renumbered(record: dict[str, Any], to: str, frm: str) -> Any:
    return json.loads(json.dumps(record).replace(frm, to))


def test_first_number_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="first_number"):
        next(build_orders(10, 1, first_number=999_999_995))


def test_refunds_reproduce_through_the_domain() -> None:
    """Each refund is what Order.refund computes when replayed on the order before its refunds."""
    for original in (o for o in build_orders(300, 4) if o.refunds and o.status is not OrderStatus.CANCELLED):
        order = _copy(original)
        refunds = order.refunds
        order.refunds = []
        order.financial_status = FinancialStatus.PAID
        for line in order.lines:
            line.quantity_refunded = 0
        for index, refund in enumerate(refunds):
            lines = ()
            if refund.note and refund.note.startswith("Refund for return"):
                lines = tuple(
                    RefundLineRequest(line.quantity_refunded, line_number=line.line_number)
                    for line in original.lines if line.quantity_refunded
                )
            amount = None if lines else refund.amount
            decision = order.refund(reason=refund.reason, now=refund.created_at, request_id=f"r{index}",
                                    refund_id=refund.refund_id, amount=amount, lines=lines)
            assert decision.refund is not None and decision.refund.amount == refund.amount
        assert order.financial_status is original.financial_status
        assert [line.quantity_refunded for line in order.lines] == [line.quantity_refunded for line in original.lines]


def test_a_thousand_orders_show_every_parcel_and_return_status() -> None:
    """Every return status but COMPLETED, an ERP's word for a return settled outside the service:
    the demo's returns are refunded by the domain's rule, which leaves them REFUNDED."""
    orders = list(build_orders(1000, 1))
    assert {s.status for o in orders for s in o.shipments} == set(ShipmentStatus)
    assert {r.status for o in orders for r in o.returns} == set(ReturnStatus) - {ReturnStatus.COMPLETED}
