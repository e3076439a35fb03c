"""The parts of the privacy operations' answers: what a ForgetCustomer forgot (counts, never data),
what must be settled first, and the lists of an export of everything held about a customer."""

from __future__ import annotations

from ..domain import privacy as model
from .fields import Choice, Document, Field, ListOf
from .orders import COUNT, EVENT, MESSAGE, ORDER, ORDER_NUMBER
from .subscriptions import SUBSCRIPTION, SUBSCRIPTION_ID

FORGET_OUTCOME = Choice(model.ForgetOutcome)
FORGET_REASON_CODE = Choice(model.ForgetReasonCode)

FORGOTTEN_COUNTS = Document("ForgottenCounts", (
    Field("Orders", COUNT, required=True),
    Field("Subscriptions", COUNT, required=True),
    Field("ChangeFeedEvents", COUNT, required=True),
    Field("AuditRecords", COUNT, required=True),
    Field("Notifications", COUNT, required=True),
    Field("StoredAnswers", COUNT, required=True),
), doc="How many records of each kind had the customer's personal data replaced.")

UNSETTLED_RECORD = Document("UnsettledRecord", (
    Field("OrderNumber", ORDER_NUMBER),
    Field("SubscriptionId", SUBSCRIPTION_ID),
    Field("ReasonCode", FORGET_REASON_CODE, required=True),
    Field("Message", MESSAGE, required=True),
), model.Unsettled, doc="An order or subscription that must be settled before its customer can be forgotten, and why.")
UNSETTLED = ListOf("UnsettledRecords", "Record", UNSETTLED_RECORD)

#: An export holds every order, subscription and event of the customer: no page limit.
CUSTOMER_ORDERS = ListOf("CustomerOrders", "Order", ORDER)
CUSTOMER_SUBSCRIPTIONS = ListOf("CustomerSubscriptions", "Subscription", SUBSCRIPTION)
CUSTOMER_EVENTS = ListOf("CustomerEvents", "Event", EVENT)
