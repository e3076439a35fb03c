"""The order document and its parts, and the shapes of the order operations' requests.

Element names and their order are the contract's; ``attr`` names the domain attribute when it is
not the element name in snake case.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ..domain import limits, upserts
from ..domain import orders as model
from .fields import (
    Amount,
    Boolean,
    Choice,
    Date,
    Document,
    Field,
    Integer,
    ListOf,
    Text,
    Timestamp,
    input_form,
)

# ---------------------------------------------------------------------- simple kinds

ORDER_NUMBER = Text("OrderNumber", limits.ORDER_NUMBER)
REQUEST_ID = Text("RequestId", limits.REQUEST_ID)
EMAIL = Text("Email", limits.EMAIL, pattern=r"\s*[^@\s]+@[^@\s]+\s*", hint="an email address")
CURRENCY = Text("CurrencyCode", limits.CURRENCY, pattern="[A-Z]{3}", hint="an ISO 4217 currency code such as EUR")
COUNTRY = Text("CountryCode", limits.COUNTRY_CODE, pattern="[A-Z]{2}", hint="an ISO 3166-1 alpha-2 code such as GB")
SKU = Text("Sku", limits.SKU)
IDENTIFIER = Text("Identifier", limits.IDENTIFIER)
PHONE = Text("Phone", limits.PHONE)
POSTAL_CODE = Text("PostalCode", limits.POSTAL_CODE)
TEXT100 = Text("Text100", 100)
TEXT200 = Text("Text200", 200)
TEXT255 = Text("Text255", 255)
URL = Text("Url", limits.URL)
NOTE = Text("Note", limits.NOTE)
MESSAGE = Text("Message", limits.MESSAGE)

AMOUNT = Amount("Amount")
POSITIVE_AMOUNT = Amount("PositiveAmount", positive=True)
COUNT = Integer("Count", 0, limits.MAX_COUNT)
QUANTITY = Integer("Quantity", 1, limits.MAX_COUNT)
LINE_NUMBER = Integer("LineNumber", 0, limits.MAX_COUNT)
PAGE_SIZE = Integer("PageSize", 1, limits.MAX_PAGE_SIZE)
PAGE_NUMBER = Integer("PageNumber", 1, limits.MAX_COUNT)
DATE = Date()
#: A date a caller searches by: bounded so that any day after it still exists.
SEARCH_DATE = Date("SearchDate", ge=date(1900, 1, 1), le=date(9999, 12, 30))
TIMESTAMP = Timestamp()
BOOLEAN = Boolean()

ORDER_STATUS = Choice(model.OrderStatus)
FINANCIAL_STATUS = Choice(model.FinancialStatus)
LINE_STATUS = Choice(model.LineStatus)
SHIPMENT_STATUS = Choice(model.ShipmentStatus)
RETURN_STATUS = Choice(model.ReturnStatus)
WAREHOUSE_STATUS = Choice(model.WarehouseStatus)
RETURN_REFUND_STATUS = Choice(model.ReturnRefundStatus)
REFUND_STATUS = Choice(model.RefundStatus)
REASON = Choice(model.Reason)
ORDER_TYPE = Choice(model.OrderType)
CHANNEL = Choice(model.Channel)
OUTCOME = Choice(model.Outcome)
REASON_CODE = Choice(model.ReasonCode)

# ---------------------------------------------------------------------- the order document

CUSTOMER = Document("Customer", (
    Field("Email", EMAIL, required=True),
    Field("FirstName", TEXT100),
    Field("LastName", TEXT100),
    Field("Phone", PHONE),
), model.Customer)

ADDRESS = Document("Address", (
    Field("Name", TEXT200),
    Field("Line1", TEXT200),
    Field("Line2", TEXT200),
    Field("City", TEXT100),
    Field("Region", TEXT100),
    Field("PostalCode", POSTAL_CODE),
    Field("CountryCode", COUNTRY),
    Field("Phone", PHONE),
), model.Address)

LINE = Document("Line", (
    Field("LineNumber", LINE_NUMBER, required=True),
    Field("Sku", SKU, required=True),
    Field("Name", TEXT255, required=True),
    Field("Quantity", QUANTITY, required=True),
    Field("UnitPrice", AMOUNT, required=True),
    Field("LineTotal", AMOUNT, required=True, derived=True),
    Field("ImageUrl", URL),
    Field("Status", LINE_STATUS, required=True, default=model.LineStatus.PENDING),
    Field("QuantityShipped", COUNT, required=True, default=0),
    Field("QuantityCancelled", COUNT, required=True, default=0),
    Field("QuantityRefunded", COUNT, required=True, default=0),
    Field("QuantityReturned", COUNT, required=True, default=0),
    # Fields added after 1.0 are optional in the schema, so documents written before stay valid.
    Field("QuantityReplaced", COUNT, default=0),
    # Reported by the ERP: the item cannot be supplied from stock (the consumer is told).
    Field("OutOfStock", BOOLEAN),
), model.OrderLine)


SHIPMENT_ITEMS = ListOf("Items", "Item", Document("Item", (
    Field("Sku", SKU, required=True),
    Field("Quantity", QUANTITY, required=True),
), model.ShipmentItem))

#: A returned item names its order line when it was created through the service.
RETURN_ITEMS = ListOf("ReturnItems", "Item", Document("ReturnItem", (
    Field("Sku", SKU, required=True),
    Field("Quantity", QUANTITY, required=True),
    Field("LineNumber", LINE_NUMBER),
), model.ReturnItem))


SHIPMENT = Document("Shipment", (
    Field("ShipmentId", IDENTIFIER, required=True),
    Field("CarrierName", TEXT100),
    Field("CarrierCode", IDENTIFIER),
    Field("TrackingNumber", IDENTIFIER),
    Field("TrackingUrl", URL),
    Field("Status", SHIPMENT_STATUS, required=True),
    Field("ShippedAt", TIMESTAMP),
    Field("ExpectedDeliveryDate", DATE),
    Field("DeliveredAt", TIMESTAMP),
    Field("Items", SHIPMENT_ITEMS, required=True),
), model.Shipment)

RETURN = Document("Return", (
    Field("ReturnId", IDENTIFIER, required=True),
    Field("Status", RETURN_STATUS, required=True),
    Field("Reason", TEXT255),
    Field("ReturnTrackingNumber", IDENTIFIER),
    Field("CarrierCode", IDENTIFIER),
    Field("LabelUrl", URL),
    Field("WarehouseStatus", WAREHOUSE_STATUS, required=True, default=model.WarehouseStatus.AWAITING_ARRIVAL),
    Field("RefundStatus", RETURN_REFUND_STATUS, required=True, default=model.ReturnRefundStatus.NOT_STARTED),
    Field("CreatedAt", TIMESTAMP, required=True),
    Field("RefundId", IDENTIFIER),
    Field("Items", RETURN_ITEMS, required=True),
), model.Return)

REFUND = Document("Refund", (
    Field("RefundId", IDENTIFIER, required=True),
    Field("Amount", AMOUNT, required=True),
    Field("Reason", REASON, required=True),
    Field("Status", REFUND_STATUS, required=True),
    Field("CreatedAt", TIMESTAMP, required=True),
    Field("Note", NOTE),
), model.Refund)

ORDER = Document("Order", (
    Field("OrderNumber", ORDER_NUMBER, required=True),
    Field("OrderType", ORDER_TYPE, required=True, default=model.OrderType.STANDARD),
    Field("Channel", CHANNEL, required=True, default=model.Channel.WEB),
    Field("Status", ORDER_STATUS, required=True, default=model.OrderStatus.PENDING),
    Field("FinancialStatus", FINANCIAL_STATUS, required=True, default=model.FinancialStatus.PENDING),
    Field("CreatedAt", TIMESTAMP, required=True),
    Field("UpdatedAt", TIMESTAMP),
    Field("CancelledAt", TIMESTAMP),
    Field("CancelReason", REASON),
    Field("Currency", CURRENCY, required=True),
    Field("Subtotal", AMOUNT, required=True),
    Field("ShippingTotal", AMOUNT, required=True, default=0),
    Field("TaxTotal", AMOUNT, required=True, default=0),
    Field("DiscountTotal", AMOUNT, required=True, default=0),
    Field("Total", AMOUNT, required=True),
    Field("RefundedAmount", AMOUNT, required=True, derived=True),
    Field("RefundableAmount", AMOUNT, required=True, derived=True),
    Field("ExpectedShipDate", DATE),
    Field("ExpectedDeliveryDate", DATE),
    Field("ShippedAt", TIMESTAMP, derived=True),
    Field("AddressChangedAt", TIMESTAMP),
    Field("ReplacesOrderNumber", ORDER_NUMBER),
    Field("ReplacementOrderNumbers", ListOf("OrderNumbers", "OrderNumber", ORDER_NUMBER)),
    Field("Customer", CUSTOMER, required=True),
    Field("ShippingAddress", ADDRESS),
    Field("Lines", ListOf("Lines", "Line", LINE), required=True),
    Field("Shipments", ListOf("Shipments", "Shipment", SHIPMENT), required=True),
    Field("Returns", ListOf("Returns", "Return", RETURN), required=True),
    Field("Refunds", ListOf("Refunds", "Refund", REFUND), required=True),
    # Sent by the ERP to say that an update changing the order's currency, customer or every SKU
    # of its lines is meant (else it is refused: IDENTITY_CHANGED). Never stored, never answered.
    Field("ReplaceIdentity", BOOLEAN),
), model.Order, doc="A customer's order with its lines, shipments, returns and refunds.")

ORDERS = ListOf("Orders", "Order", ORDER, max_occurs=limits.MAX_PAGE_SIZE)

# ---------------------------------------------------------------------- request parts

REFUND_LINE = Document("RefundLine", (
    Field("LineNumber", LINE_NUMBER),
    Field("Sku", SKU),
    Field("Quantity", QUANTITY, required=True),
), model.RefundLineRequest, doc="One line of a per-line refund: LineNumber or Sku (or both, when they must agree).")

REFUND_LINES = ListOf("RefundLines", "Line", REFUND_LINE, min_occurs=1, max_occurs=100)

LINE_REQUEST = Document("LineRequest", REFUND_LINE.fields, model.RefundLineRequest,
                        doc="One line of a request: LineNumber or Sku (or both, when they must agree), and a Quantity.")
LINE_REQUESTS = ListOf("LineRequests", "Line", LINE_REQUEST, min_occurs=1, max_occurs=100)

LINE_RESULT = Document("LineResult", (
    Field("Quantity", QUANTITY, required=True),
    Field("LineNumber", LINE_NUMBER),
    Field("Sku", SKU),
    Field("ReasonCode", REASON_CODE, required=True),
    Field("Message", MESSAGE, required=True),
), model.LineResult, doc="What became of one requested line: ReasonCode NONE when it was done.")
LINE_RESULTS = ListOf("LineResults", "Line", LINE_RESULT)

REPLACEMENT_REASON = Choice(model.ReplacementReason)
RETURN_REASON = Choice(model.ReturnReason)
RETURN_UPDATE = Choice(model.ReturnUpdate)

# ---------------------------------------------------------------------- the change feed

EVENT_ID = Integer("EventId", 0, limits.MAX_EVENT_ID)
MAX_EVENTS = Integer("MaxEvents", 1, 1000)

DETAIL = Document("Detail", (
    Field("Name", TEXT100, required=True),
    Field("Value", Text("DetailValue", 4000), required=True),
), doc="One fact of a change: its name, and its value as text (JSON for structured values).")

EVENT = Document("Event", (
    Field("EventId", EVENT_ID, required=True),
    Field("OccurredAt", TIMESTAMP, required=True),
    Field("Type", Text("EventType", 64), required=True),
    Field("OrderNumber", ORDER_NUMBER),
    Field("SubscriptionId", Text("SubscriptionId", limits.SUBSCRIPTION_ID)),
    Field("RequestId", REQUEST_ID),
    Field("Client", Text("ClientName", 64)),
    Field("Details", ListOf("Details", "Detail", DETAIL), attr="detail_list", required=True),
), doc="One change made through the service, as the ERP reads it back.")
EVENTS = ListOf("Events", "Event", EVENT, max_occurs=1000)

# ---------------------------------------------------------------------- the ERP's batches

# UpsertOrders and UpsertSubscriptions answer alike: a result per document in the batch's order
# (its Index, the id it claims, Outcome, ReasonCode of one shared vocabulary, Message, Field) and
# the counts of each outcome.

UPSERT_OUTCOME = Choice(upserts.UpsertOutcome)
UPSERT_REASON_CODE = Choice(upserts.UpsertReasonCode)
BATCH_INDEX = Integer("BatchIndex", 1, upserts.MAX_BATCH)


def upsert_result(type_name: str, identifier: Field) -> Document:
    """The result of one document of a batch whose documents are identified by ``identifier``."""
    return Document(type_name, (
        Field("Index", BATCH_INDEX, required=True),
        identifier,
        Field("Outcome", UPSERT_OUTCOME, required=True),
        Field("ReasonCode", UPSERT_REASON_CODE, required=True),
        Field("Message", MESSAGE, required=True),
        Field("Field", Text("FieldName", 200)),
    ), doc="What became of one document of a batch (Index counts from 1): the field a refusal is about, "
           "never its value.")


#: The counts of a batch's answer, read from the answer's ``created``, ``updated``, ... attributes.
UPSERT_COUNTS = (
    Field("CreatedCount", COUNT, attr="created", required=True),
    Field("UpdatedCount", COUNT, attr="updated", required=True),
    Field("UnchangedCount", COUNT, attr="unchanged", required=True),
    Field("RejectedCount", COUNT, attr="rejected", required=True),
)

UPSERT_RESULT = upsert_result("UpsertResult", Field("OrderNumber", ORDER_NUMBER))
UPSERT_RESULTS = ListOf("UpsertResults", "Result", UPSERT_RESULT, max_occurs=upserts.MAX_BATCH)
#: What the ERP sends: only its own data is required; what the service computes or defaults may be
#: left out (see ``input_form``).
ORDER_INPUT = replace(input_form(ORDER), doc=(
    "An order as the ERP sends it (UpsertOrders, imports): the ERP's own data. What the service computes "
    "or defaults may be left out; an answer's Order carries all of it."))
ORDERS_IN = ListOf("OrderDocuments", "Order", ORDER_INPUT, min_occurs=1, max_occurs=upserts.MAX_BATCH)
#: A shipment as the ERP reports it: an update of its status alone needs no Items.
SHIPMENT_INPUT = input_form(SHIPMENT)
