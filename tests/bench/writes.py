"""The request bodies of the writing calls the benchmark sends, each a real change every time.

``marker`` stands for the fresh id the load puts into each request (``load.Call.request_id_marker``:
wrk's script, the in-process profile and the probes replace every occurrence). Built from it:

- UpsertOrders: a batch of ``UPSERT_BATCH`` demo orders (the ERP's fields only, as an ERP sends
  them) whose order numbers are made from the marker, so that every request creates that many new
  orders; never a replay of unchanged documents. Over SOAP, the first ``soap_batch()`` of them: 100
  demo orders are about 6,000 XML elements, more than the service accepts in one request.
- ChangeShippingAddress: an address whose first line holds the marker, so that every request
  changes the address of an order that has not shipped.
- RecordShipment: a new tracking number (made from the marker) for a shipment in transit (its
  status sent unchanged, its items left out), so that every request updates it.

The calls that can be made only once per order (CancelOrder, CancelOrderLines, RecordShipment of a
new shipment, CreateReturn, IssueReplacement, UpdateReturn) are sent to distinct orders of a data
set's pools (``dataset.pools``), each once.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from xml.sax.saxutils import escape

from soap_orders.demo import generate_records
from soap_orders.xmlsafe import MAX_ELEMENTS
from tests.records import SOAP_WRAPPERS, erp_fields_only

ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:o="urn:soap-orders:orders:v1"><s:Body>{}</s:Body></s:Envelope>')
#: Orders per UpsertOrders request (the most the contract allows).
UPSERT_BATCH = 100
#: The demo generator's seed for the upserted orders.
UPSERT_SEED = 11


def upsert_records(marker: str, count: int = UPSERT_BATCH) -> list[dict[str, Any]]:
    """The first ``count`` of ``UPSERT_BATCH`` demo orders as an ERP sends them, numbered
    ``UP-<marker>-<i>``."""
    records = []
    for index, record in enumerate(itertools.islice(generate_records(UPSERT_BATCH, seed=UPSERT_SEED), count)):
        record = erp_fields_only(record)
        if not record.get("ReplacementOrderNumbers", True):
            del record["ReplacementOrderNumbers"]
        record["OrderNumber"] = f"UP-{marker}-{index:02d}"
        records.append(record)
    return records


def _xml(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<o:{name}>{''.join(_xml(k, v) for k, v in value.items())}</o:{name}>"
    if isinstance(value, list):
        item = SOAP_WRAPPERS[name]
        return f"<o:{name}>{''.join(_xml(item, v) for v in value)}</o:{name}>"
    if isinstance(value, bool):
        return f"<o:{name}>{'true' if value else 'false'}</o:{name}>"
    return f"<o:{name}>{escape(str(value))}</o:{name}>"


def soap_batch(envelope: str = ENVELOPE) -> int:
    """How many of the batch's orders one SOAP request holds: the service refuses a request of more
    than ``xmlsafe.MAX_ELEMENTS`` elements (5,000), fewer than ``UPSERT_BATCH`` demo orders have."""
    def elements(xml: str) -> int:
        return xml.count("<") - xml.count("</")

    total = elements(upsert_soap("x", envelope, 0))
    for count, record in enumerate(upsert_records("x")):
        total += elements(_xml("Order", record))
        if total > MAX_ELEMENTS:
            return count
    return UPSERT_BATCH


def upsert_soap(marker: str, envelope: str, count: int = UPSERT_BATCH) -> str:
    orders = "".join(_xml("Order", record) for record in upsert_records(marker, count))
    return envelope.format(f"<o:UpsertOrders><o:RequestId>bench-{marker}</o:RequestId>"
                           f"<o:Orders>{orders}</o:Orders></o:UpsertOrders>")


def upsert_json(marker: str) -> str:
    return json.dumps({"RequestId": f"bench-{marker}", "Orders": upsert_records(marker)})


def address_soap(number: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:ChangeShippingAddress><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:ShippingAddress><o:Name>Bench Customer</o:Name><o:Line1>{marker} Bench Street</o:Line1>"
        "<o:City>Springfield</o:City><o:Region>IL</o:Region><o:PostalCode>62701</o:PostalCode>"
        "<o:CountryCode>US</o:CountryCode></o:ShippingAddress></o:ChangeShippingAddress>")


def tracking_soap(number: str, shipment_id: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:RecordShipment><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:Shipment><o:ShipmentId>{shipment_id}</o:ShipmentId><o:TrackingNumber>TN{marker}</o:TrackingNumber>"
        "<o:Status>IN_TRANSIT</o:Status></o:Shipment></o:RecordShipment>")


def new_shipment_soap(number: str, sku: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:RecordShipment><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:Shipment><o:ShipmentId>SH-BENCH-{marker}</o:ShipmentId><o:CarrierName>UPS</o:CarrierName>"
        f"<o:CarrierCode>ups</o:CarrierCode><o:TrackingNumber>1Z{marker}</o:TrackingNumber>"
        "<o:Status>IN_TRANSIT</o:Status><o:ShippedAt>2026-01-05T10:00:00Z</o:ShippedAt>"
        f"<o:Items><o:Item><o:Sku>{escape(sku)}</o:Sku><o:Quantity>1</o:Quantity></o:Item></o:Items>"
        "</o:Shipment></o:RecordShipment>")


def cancel_soap(number: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:CancelOrder><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        "<o:Reason>CUSTOMER</o:Reason></o:CancelOrder>")


def cancel_lines_soap(number: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:CancelOrderLines><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        "<o:Reason>CUSTOMER</o:Reason><o:Lines><o:Line><o:LineNumber>1</o:LineNumber>"
        "<o:Quantity>1</o:Quantity></o:Line></o:Lines></o:CancelOrderLines>")


_LINE_ONE = "<o:Lines><o:Line><o:LineNumber>1</o:LineNumber><o:Quantity>1</o:Quantity></o:Line></o:Lines>"


def create_return_soap(number: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:CreateReturn><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:Reason>DEFECTIVE</o:Reason>{_LINE_ONE}</o:CreateReturn>")


def replacement_soap(number: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:IssueReplacement><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:Reason>DAMAGED</o:Reason>{_LINE_ONE}</o:IssueReplacement>")


def update_return_soap(number: str, return_id: str, marker: str, envelope: str) -> str:
    return envelope.format(
        f"<o:UpdateReturn><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>bench-{marker}</o:RequestId>"
        f"<o:ReturnId>{return_id}</o:ReturnId><o:Status>RECEIVED</o:Status></o:UpdateReturn>")
