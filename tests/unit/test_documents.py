"""The forms derived from one description agree: for arbitrary orders, the SOAP document spyne
writes (valid against the published schema) carries exactly the values of the JSON form, and the
JSON form loads back into the same order."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from soap_orders.documents import records
from soap_orders.documents import xml as writer
from soap_orders.documents.orders import ORDER
from soap_orders.domain import money
from soap_orders.domain.orders import (
    Address,
    Channel,
    Customer,
    FinancialStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderType,
    Reason,
    Refund,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from soap_orders.ingest.xml import element_to_record, order_schema
from soap_orders.soap import types as wire
from soap_orders.soap.application import OrdersSoap11
from soap_orders.soap.writer import answer_envelope
from tests.examples import examples
from tests.xmltools import assert_nodes_equal

PROTOCOL = OrdersSoap11()
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=12)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=timezone.utc))
local_part = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="@"), min_size=1, max_size=12)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def orders(draw: st.DrawFn) -> Order:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
    places = money.decimal_places(currency)

    def amount(low: int = 0, high: int = 10_000) -> Decimal:
        return Decimal(draw(st.integers(low, high * 10**places))).scaleb(-places)

    lines = []
    for number in range(1, draw(st.integers(0, 4)) + 1):
        quantity = draw(st.integers(1, 5))
        lines.append(OrderLine(
            number, draw(text), draw(text), quantity, amount(), image_url=draw(st.none() | text),
            status=draw(st.sampled_from(LineStatus)), quantity_shipped=draw(st.integers(0, quantity)),
        ))
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    shipping, tax = amount(0, 20), amount(0, 50)
    total = subtotal + shipping + tax
    order = Order(
        order_number=draw(text), customer=Customer(f"{draw(local_part)}@example.com", draw(st.none() | text)),
        currency=currency, created_at=draw(moments), subtotal=subtotal, total=total,
        shipping_total=shipping, tax_total=tax,
        order_type=draw(st.sampled_from(OrderType)), channel=draw(st.sampled_from(Channel)),
        status=draw(st.sampled_from(OrderStatus)), financial_status=FinancialStatus.PAID,
        shipping_address=draw(st.none() | st.builds(Address, name=text, country_code=st.sampled_from(["GB", "JP"]))),
        expected_delivery_date=draw(st.none() | days), lines=lines,
    )
    if draw(st.booleans()) and lines:
        order.shipments.append(Shipment(
            draw(text), draw(st.sampled_from(ShipmentStatus)), tracking_number=draw(st.none() | text),
            shipped_at=draw(st.none() | moments), items=[ShipmentItem(lines[0].sku, 1)],
        ))
        order.returns.append(Return(draw(text), draw(st.sampled_from(ReturnStatus)), draw(moments),
                                    items=[ReturnItem(lines[0].sku, 1)]))
    if total > 0 and draw(st.booleans()):
        order.refunds.append(Refund(draw(text), total, draw(st.sampled_from(Reason)), RefundStatus.PENDING,
                                    order.created_at + timedelta(days=1)))
    order.check()
    return order


def soap_element(order: Order) -> etree._Element:
    """The Order element as the service's SOAP protocol writes it in an answer."""
    parent = etree.Element("parent")
    PROTOCOL.to_parent(None, wire.model(ORDER), wire.to_wire(ORDER, order), parent, wire.TNS, "Order")
    return parent[0]


def leaves_as_text(record: Any) -> Any:
    """The JSON form with every leaf as XML writes it (whole numbers and booleans as text)."""
    if isinstance(record, dict):
        return {key: leaves_as_text(value) for key, value in record.items()}
    if isinstance(record, list):
        return [leaves_as_text(value) for value in record]
    if isinstance(record, bool):
        return "true" if record else "false"
    return str(record)


@settings(max_examples=examples(150), deadline=None)
@given(orders())
def test_the_soap_document_carries_the_json_forms_values_and_fits_the_schema(order):
    element = soap_element(order)
    order_schema().assertValid(element)
    assert element_to_record(element) == leaves_as_text(records.dump(ORDER, order))


@settings(max_examples=examples(150), deadline=None)
@given(orders())
def test_the_json_form_loads_back_into_the_same_order(order):
    record = records.dump(ORDER, order)
    assert records.dump(ORDER, records.order_from_record(record)) == record


def test_money_is_written_with_the_currencys_places_and_never_as_a_float():
    order = Order("A-1", Customer("a@example.com"), "JPY", datetime(2026, 1, 1, tzinfo=timezone.utc),
                  Decimal("1E+3"), Decimal("1000"), lines=[OrderLine(1, "S", "N", 1, Decimal("1000.0"))])
    record = records.dump(ORDER, order)
    assert (record["Subtotal"], record["Lines"][0]["UnitPrice"], record["RefundableAmount"]) == ("1000", "1000", "0")


def test_an_address_with_nothing_in_it_is_left_out():
    order = Order("A-2", Customer("a@example.com"), "EUR", datetime(2026, 1, 1, tzinfo=timezone.utc),
                  Decimal(0), Decimal(0), shipping_address=Address())
    assert "ShippingAddress" not in records.dump(ORDER, order)
    assert wire.to_wire(ORDER, order).ShippingAddress is None


@settings(max_examples=examples(150), deadline=None)
@given(orders())
def test_the_generated_writer_writes_what_spyne_writes(order):
    out: list[str] = []
    writer.document_writer(ORDER)(order, None, out)
    written = etree.fromstring(f'<w xmlns:tns="{wire.TNS}">{"".join(out)}</w>'.encode())[0]
    order_schema().assertValid(written)
    assert_nodes_equal(written, soap_element(order))


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(orders(), max_size=3), st.integers(0, 500))
def test_a_whole_answer_envelope_is_what_spyne_writes_for_it(found, total):
    from soap_orders.operations import BY_NAME
    from soap_orders.service.orders import OrderPage

    operation = BY_NAME["FindOrdersByEmail"]
    page = OrderPage(found, max(total, len(found)), 1, 20)
    envelope = etree.fromstring(answer_envelope(operation.answer_document, page))
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    parent = etree.Element("parent")
    PROTOCOL.to_parent(None, wire.model(operation.answer_document), wire.to_wire(operation.answer_document, page),
                       parent, wire.TNS, "FindOrdersByEmailResponse")
    assert_nodes_equal(body[0], parent[0])


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(orders(), max_size=3), st.integers(0, 500))
def test_a_json_answer_with_kept_written_documents_is_the_json_of_the_orders(found, total):
    """The JSON twin copies kept-written documents into its answers as text: byte for byte what
    writing the orders themselves gives."""
    from soap_orders.documents.rendered import render_order
    from soap_orders.operations import BY_NAME
    from soap_orders.service.orders import OrderPage

    for name, answer, kept in (
        ("FindOrdersByEmail", OrderPage(found, max(total, len(found)), 2, 20),
         OrderPage([render_order(o) for o in found], max(total, len(found)), 2, 20)),
        *(("GetOrder", SimpleNamespace(order=o), SimpleNamespace(order=render_order(o))) for o in found[:1]),
    ):
        document = BY_NAME[name].answer_document
        expected = json.dumps(records.dump(document, answer), ensure_ascii=False, separators=(",", ":"))
        assert records.answer_json(records.dump(document, kept, as_text=True)) == expected
        assert records.answer_json(records.dump(document, answer, as_text=True)) == expected
