"""The privacy operations: forgetting a customer at their request, and exporting everything held
about them (an access request). Scope ``privacy``, which neither DG's usual client nor the ERP's has."""

from __future__ import annotations

from ..documents import Field
from ..documents import orders as d
from ..documents import privacy as p
from ..documents import subscriptions as s
from ..domain.clients import Scope
from ..service import privacy as use_cases
from .base import Call, Operation, action


def _export(call: Call, query: use_cases.ExportCustomerData) -> use_cases.CustomerData:
    return use_cases.export_customer_data(call.uow(), query, call.clock)


FORGET_CUSTOMER = Operation(
    scope=Scope.PRIVACY,
    request=(
        Field("Email", d.EMAIL, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("OrderNumber", d.ORDER_NUMBER),
        Field("SubscriptionId", s.SUBSCRIPTION_ID),
    ),
    command=use_cases.ForgetCustomer,
    answer=(
        Field("Outcome", p.FORGET_OUTCOME, required=True),
        Field("ReasonCode", p.FORGET_REASON_CODE, required=True),
        Field("Message", d.MESSAGE, required=True),
        Field("Pseudonym", d.EMAIL),
        Field("Forgotten", p.FORGOTTEN_COUNTS, required=True),
        Field("Unsettled", p.UNSETTLED, required=True),
    ),
    run=action(use_cases.forget_customer),
    doc="""Forget a customer at their request. Their name, email, phone, shipping address (all but
    its country) and notes are replaced by a pseudonym (an address at forgotten.invalid, answered in
    Pseudonym) on every order and subscription of that Email, or only on the OrderNumber or
    SubscriptionId given, and in every copy the service keeps (order documents, the change feed,
    audit records, notifications, stored answers); numbers, amounts, refunds, dates, SKUs, carriers
    and tracking numbers stay. Forgotten
    counts what was changed, never the data. An ERP document of a forgotten order or subscription
    never brings the data back; a new order of the same person is stored as it comes. Outcome is
    FORGOTTEN, NOTHING_TO_FORGET (nothing of that customer is held, or the order or subscription
    named is not theirs) or REJECTED, with nothing forgotten, while a return is open, a refund is
    not settled or a subscription is still running (ReasonCode OPEN_RETURN, UNSETTLED_REFUND,
    ACTIVE_SUBSCRIPTION; each such record under Unsettled): ask again with a new RequestId once
    they are settled. The same RequestId replays the first result.""",
)

EXPORT_CUSTOMER_DATA = Operation(
    scope=Scope.PRIVACY,
    request=(Field("Email", d.EMAIL, required=True),),
    command=use_cases.ExportCustomerData,
    answer=(
        Field("GeneratedAt", d.TIMESTAMP, required=True),
        Field("Orders", p.CUSTOMER_ORDERS, required=True),
        Field("Subscriptions", p.CUSTOMER_SUBSCRIPTIONS, required=True),
        Field("Events", p.CUSTOMER_EVENTS, required=True),
    ),
    run=_export,
    doc="""Everything held about a customer's Email (trimmed, case-insensitive), for an access
    request: every order newest first, every subscription as it stands today, and every event of
    the change feed about them (with the old addresses and notes it recorded). An email nothing is
    held for, or whose customer was forgotten, gives empty lists.""",
)

OPERATIONS = (FORGET_CUSTOMER, EXPORT_CUSTOMER_DATA)
