"""The privacy rules with plain objects: what forgetting replaces and keeps, what must be settled
first, the tombstone an ERP document meets, and the scrubbing of event data."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.events import CustomerForgotten
from soap_orders.domain.merge import UpsertOutcome, UpsertReasonCode, merge_into
from soap_orders.domain.orders import (
    Address,
    Customer,
    LineStatus,
    OrderStatus,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnStatus,
    ShipmentStatus,
)
from soap_orders.domain.privacy import (
    PSEUDONYM_DOMAIN,
    ForgetReasonCode,
    forget_event_data,
    forget_order,
    forget_subscription,
    is_pseudonym,
    keep_subscription_forgotten,
    pseudonym,
    unsettled_order,
    unsettled_subscription,
)
from soap_orders.domain.subscription_events import (
    CustomerForgotten as SubscriptionCustomerForgotten,
)
from soap_orders.domain.subscriptions import CancelReason, SubscriptionStatus
from tests.unit.factories import NOW, make_order, make_refund, mark_shipped, plain
from tests.unit.subscription_factories import make_subscription

ALIAS = pseudonym("0123456789abcdef")
HOME = Address("Ada Lovelace", "12 St James's Square", "Flat 2", "London", None, "SW1Y 4JH", "GB", "+44 20 7946 0000")


def personal_order(**overrides):
    """A shipped order of Ada's with a note on its refund and a return with a label and free text."""
    order = mark_shipped(make_order(customer=Customer("Ada@Example.com", "Ada", "Lovelace", "+44 7700 900123"),
                                    shipping_address=dataclasses.replace(HOME), **overrides))
    refund = make_refund("10.00")
    refund.note = "Ada says the mug arrived chipped; call her on +44 7700 900123"
    order.refunds.append(refund)
    order.returns.append(Return("RT-1", ReturnStatus.COMPLETED, NOW, "Ada's sister bought the same one",
                                "RR123", "royalmail", "https://labels.example.com/ada-lovelace.pdf",
                                items=[ReturnItem("SKU-A", 1, 1)]))
    order.returns.append(Return("RT-2", ReturnStatus.REJECTED, NOW, "SIZE", items=[ReturnItem("SKU-B", 1, 2)]))
    return order


def test_a_pseudonym_is_an_address_of_the_reserved_domain_made_of_its_token():
    assert ALIAS == f"forgotten-0123456789abcdef@{PSEUDONYM_DOMAIN}" and PSEUDONYM_DOMAIN.endswith(".invalid")
    assert is_pseudonym(ALIAS.upper()) and not is_pseudonym("ada@example.com")
    for bad in ("", "not/alnum", "a b"):
        with pytest.raises(ValueError):
            pseudonym(bad)


def test_forgetting_an_order_replaces_the_personal_data_and_keeps_every_figure():
    order = personal_order()
    before = plain(order)
    forget_order(order, ALIAS, now=NOW, request_id="rq-1")

    assert order.customer == Customer(ALIAS)
    assert order.shipping_address == Address(country_code="GB")
    assert [refund.note for refund in order.refunds] == [None]
    assert [(r.label_url, r.reason) for r in order.returns] == [(None, None), (None, "SIZE")]  # a vocabulary reason stays
    assert order.forgotten_at == NOW
    after = plain(order)
    personal = {"customer", "shipping_address", "forgotten_at", "refunds", "returns"}
    assert {k: v for k, v in after.items() if k not in personal} == {k: v for k, v in before.items() if k not in personal}
    for kept, was in zip(after["refunds"], before["refunds"], strict=True):
        assert {**kept, "note": None} == {**was, "note": None}
    for kept, was in zip(after["returns"], before["returns"], strict=True):
        assert {**kept, "label_url": None, "reason": None} == {**was, "label_url": None, "reason": None}
    assert (order.total, order.refunded_amount, order.refundable_amount) == (Decimal("40.00"), Decimal("10.00"),
                                                                             Decimal("30.00"))
    order.check()  # still a valid order


def test_forgetting_records_an_event_naming_the_pseudonym_and_never_the_data():
    order = personal_order()
    forget_order(order, ALIAS, now=NOW, request_id="rq-1")
    (event,) = order.events
    assert event == CustomerForgotten(order.order_number, NOW, "rq-1", ALIAS)
    assert event.payload() == {"request_id": "rq-1", "pseudonym": ALIAS}


def test_an_order_without_an_address_keeps_none():
    order = make_order(customer=Customer("ada@example.com", "Ada"))
    forget_order(order, ALIAS, now=NOW, request_id="rq-1")
    assert order.shipping_address is None and order.customer == Customer(ALIAS)


def test_open_returns_and_pending_refunds_must_be_settled_first():
    order = personal_order()
    assert unsettled_order(order) == []  # a completed and a rejected return, a completed refund
    order.returns.append(Return("RT-3", ReturnStatus.IN_TRANSIT, NOW, "SIZE", items=[ReturnItem("SKU-A", 1, 1)]))
    order.refunds.append(make_refund("5.00", RefundStatus.PENDING, "RF-PENDING"))
    order.refunds.append(make_refund("1.00", RefundStatus.FAILED, "RF-FAILED"))
    found = unsettled_order(order)
    assert [(u.reason_code, u.order_number, u.subscription_id) for u in found] == [
        (ForgetReasonCode.OPEN_RETURN, order.order_number, None),
        (ForgetReasonCode.UNSETTLED_REFUND, order.order_number, None),
    ]
    assert "RT-3" in found[0].message and "RF-PENDING" in found[1].message


@pytest.mark.parametrize("status", list(ReturnStatus))
def test_a_return_is_open_while_the_warehouse_can_still_move_it(status):
    order = make_order()
    order.returns.append(Return("RT-1", status, NOW, items=[ReturnItem("SKU-A", 1, 1)]))
    open_statuses = {ReturnStatus.REQUESTED, ReturnStatus.LABEL_CREATED, ReturnStatus.IN_TRANSIT,
                     ReturnStatus.RECEIVED, ReturnStatus.INSPECTED}
    assert bool(unsettled_order(order)) is (status in open_statuses)


@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_a_running_subscription_must_be_cancelled_first(status):
    subscription = make_subscription()
    subscription.status = status  # only the status counts here
    found = unsettled_subscription(subscription)
    if status in (SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED):
        assert found == []
    else:
        assert [(u.reason_code, u.subscription_id) for u in found] == [(ForgetReasonCode.ACTIVE_SUBSCRIPTION, "SUB-1")]


def test_forgetting_a_subscription_replaces_customer_address_and_notes():
    subscription = make_subscription(status=SubscriptionStatus.CANCELLED, cancel_reason=CancelReason.MOVING,
                                     cancel_note="Moving in with Bob at 3 Elm Street", cancelled_at=NOW,
                                     next_order_date=None)
    subscription.refunds.append(dataclasses.replace(
        _subscription_refund(), note="Ann asked for it on the phone"))
    price, charges = subscription.price, [(c.charge_id, c.amount) for c in subscription.charges]
    forget_subscription(subscription, ALIAS, now=NOW, request_id="rq-2")
    assert subscription.customer == Customer(ALIAS)
    assert subscription.shipping_address == Address(country_code="FR")
    assert subscription.cancel_note is None and [r.note for r in subscription.refunds] == [None]
    assert subscription.cancel_reason is CancelReason.MOVING and subscription.price == price
    assert [(c.charge_id, c.amount) for c in subscription.charges] == charges
    assert subscription.forgotten_at == NOW
    assert subscription.events == [SubscriptionCustomerForgotten("SUB-1", NOW, "rq-2", ALIAS)]


def _subscription_refund():
    from soap_orders.domain.orders import Reason
    from soap_orders.domain.subscriptions import SubscriptionRefund

    return SubscriptionRefund("RF-S-1", "CH-1", Decimal("5.00"), Reason.DAMAGED, NOW)


# ---------------------------------------------------------------------- the tombstone


def forgotten_and_old_document():
    """A stored order whose customer was forgotten, and the ERP's document of it from before."""
    document = personal_order()
    stored = copy.deepcopy(document)
    forget_order(stored, ALIAS, now=NOW, request_id="rq-1")
    stored.events.clear()
    return stored, document


def test_the_old_document_of_a_forgotten_order_brings_nothing_back():
    stored, document = forgotten_and_old_document()
    before = plain(stored)
    result = merge_into(stored, document, now=NOW + timedelta(days=1))
    assert (result.outcome, result.reason_code) == (UpsertOutcome.UNCHANGED, UpsertReasonCode.PERSONAL_DATA_FORGOTTEN)
    assert result.message == "The order already held this data; its customer's personal data stays forgotten."
    assert plain(stored) == before and stored.events == []


def test_a_changed_document_of_a_forgotten_order_updates_the_rest_and_says_so():
    stored, document = forgotten_and_old_document()
    document.status = OrderStatus.DELIVERED  # its parcel was delivered (a DELIVERED order needs one)
    document.shipments[0].status = ShipmentStatus.DELIVERED
    for line in document.lines:
        line.status = LineStatus.DELIVERED
    document.customer = Customer("someone.else@example.com", "Someone", "Else", "+1 555 0100")
    result = merge_into(stored, document, now=NOW + timedelta(days=1))
    assert (result.outcome, result.reason_code) == (UpsertOutcome.UPDATED, UpsertReasonCode.PERSONAL_DATA_FORGOTTEN)
    assert stored.status is OrderStatus.DELIVERED and set(result.changed) == {"Status", "Lines", "Shipments"}
    assert stored.customer == Customer(ALIAS) and stored.shipping_address == Address(country_code="GB")
    assert [r.note for r in stored.refunds] == [None]
    assert [(r.label_url, r.reason) for r in stored.returns] == [(None, None), (None, "SIZE")]


def test_a_document_that_carries_no_personal_data_has_no_reason_code():
    stored, document = forgotten_and_old_document()
    already = copy.deepcopy(stored)  # the ERP forgot the customer too, from the change feed
    result = merge_into(stored, already, now=NOW + timedelta(days=1))
    assert (result.outcome, result.reason_code) == (UpsertOutcome.UNCHANGED, UpsertReasonCode.NONE)


def test_a_refused_document_of_a_forgotten_order_keeps_its_own_reason():
    stored, document = forgotten_and_old_document()
    document.total = Decimal("1.00")  # below what was refunded, and does not add up
    result = merge_into(stored, document, now=NOW + timedelta(days=1))
    assert result.outcome is UpsertOutcome.REJECTED and result.reason_code is UpsertReasonCode.INVALID_DOCUMENT


def test_an_order_not_forgotten_takes_the_documents_customer():
    stored = personal_order()
    document = copy.deepcopy(stored)
    document.customer = Customer("ada.new@example.com", "Ada", "Lovelace")
    result = merge_into(stored, document, now=NOW)
    assert (result.outcome, result.reason_code) == (UpsertOutcome.UPDATED, UpsertReasonCode.NONE)
    assert stored.customer.email == "ada.new@example.com"


def test_a_forgotten_subscription_keeps_its_pseudonym_against_a_document():
    stored = make_subscription()
    forget_subscription(stored, ALIAS, now=NOW, request_id="rq")
    document = make_subscription(cancel_note="call Ann")
    assert keep_subscription_forgotten(stored, document)
    assert document.customer == Customer(ALIAS) and document.shipping_address == Address(country_code="FR")
    assert document.cancel_note is None
    assert not keep_subscription_forgotten(stored, document)  # nothing personal left to set aside
    assert not keep_subscription_forgotten(make_subscription(), make_subscription())  # not forgotten


# ---------------------------------------------------------------------- event data


def test_event_data_loses_notes_and_labels_and_keeps_addresses_to_their_country():
    address = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": None, "city": "London",
               "region": None, "postal_code": "SW1Y 4JH", "country_code": "GB", "phone": "+44 20 7946 0000"}
    details = {"Events": [
        {"Type": "ShippingAddressChanged", "request_id": "rq", "old_address": address, "new_address": address},
        {"Type": "RefundIssued", "note": "Ada was upset", "amount": "10.00", "refund_id": "RF-1", "lines": [[1, 1]]},
        {"Type": "ReturnCreated", "label_url": "https://labels.example.com/ada.pdf", "return_tracking_number": "RR1"},
    ]}
    original = copy.deepcopy(details)
    forgotten = forget_event_data(details)
    assert details == original  # the argument is left as it was
    kept_address = {key: None for key in address} | {"country_code": "GB"}
    assert forgotten == {"Events": [
        {"Type": "ShippingAddressChanged", "request_id": "rq", "old_address": kept_address, "new_address": kept_address},
        {"Type": "RefundIssued", "note": None, "amount": "10.00", "refund_id": "RF-1", "lines": [[1, 1]]},
        {"Type": "ReturnCreated", "label_url": None, "return_tracking_number": "RR1"},
    ]}
    assert forget_event_data({"old_address": None, "cancel_note": "x"}) == {"old_address": None, "cancel_note": None}
    assert forget_event_data(forgotten) == forgotten
