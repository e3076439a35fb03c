"""Changing the shipping address: what the caller is told, what is stored and what the change feed
records, and the refusals once the order was cancelled or has shipped."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import ShippingAddressChanged
from soap_orders.domain.orders import (
    Address,
    Decision,
    OrderStatus,
    Origin,
    Outcome,
    ReasonCode,
)
from tests.unit.factories import NOW, make_order, mark_shipped, snapshot


def paris(**overrides):
    values = {"name": "Ann Lee", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001",
              "country_code": "FR"}
    values.update(overrides)
    return Address(**values)


def change(order, address, now=NOW):
    return order.change_shipping_address(address, now=now, request_id="REQ-ADDR")


def test_a_change_is_stored_recorded_and_answered_whole():
    order = make_order(shipping_address=paris(city="Lyon", postal_code="69001"))
    old = asdict(order.shipping_address)
    later = NOW + timedelta(hours=1)

    decision = change(order, paris(city=" Paris ", country_code="fr"), now=later)

    assert decision == Decision(
        Outcome.ADDRESS_CHANGED, ReasonCode.NONE, "The shipping address of order ORD-1001 was changed.")
    assert order.shipping_address == paris()
    assert (order.address_origin, order.address_changed_at, order.updated_at) == (Origin.SERVICE, later, later)
    assert order.events == [ShippingAddressChanged("ORD-1001", later, "REQ-ADDR", old, asdict(paris()))]


def test_a_first_address_records_none_as_the_old_one():
    order = make_order()
    change(order, paris())
    assert order.events == [ShippingAddressChanged("ORD-1001", NOW, "REQ-ADDR", None, asdict(paris()))]


def test_a_cancelled_order_keeps_its_address_whole_message():
    order = make_order(status=OrderStatus.CANCELLED, shipping_address=paris(city="Lyon"))
    before = snapshot(order)
    assert change(order, paris()) == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED,
        "Order ORD-1001 cannot have its address changed: it was cancelled.",
    )
    assert snapshot(order) == before


def test_a_shipped_order_keeps_its_address_whole_message():
    order = mark_shipped(make_order(shipping_address=paris(city="Lyon")))
    before = snapshot(order)
    assert change(order, paris()) == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED,
        "Order ORD-1001 cannot have its address changed: it has already shipped.",
    )
    assert snapshot(order) == before


def test_an_invalid_address_is_refused_before_the_order_is_looked_at():
    order = make_order(status=OrderStatus.CANCELLED)
    with pytest.raises(ValidationError) as caught:
        change(order, paris(city=" "))
    assert caught.value.field == "City"
