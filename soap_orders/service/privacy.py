"""Privacy requests: forget a customer, and export what is held about them.

``forget_customer`` replaces a customer's personal data with a pseudonym (see ``domain.privacy``)
everywhere the service keeps a copy, in one unit of work: their orders and subscriptions (and so
the orders' kept-written documents), the change feed's payloads, the audit records' details, the
notification outbox (queued and sent rows) and the stored answers of earlier calls, whoever made
them. It is idempotent by RequestId and audited like every change, and it adds a
``CustomerForgotten`` event per record to the change feed, naming the pseudonym and never the data.
The answer counts what was forgotten, per kind; it never holds the data.

When one of the customer's orders has a return still open or a refund not yet settled, or one of
their subscriptions is still running, nothing is forgotten: the answer is REJECTED and names each
record and why. The request is not kept for later; ask again (with a new RequestId) once they are
settled.

``export_customer_data`` answers everything held about an email, for an access request: the
orders and subscriptions of that customer as their documents, and every change-feed event about
them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..documents import Document, Field, records
from ..documents import orders as order_forms
from ..documents import privacy as privacy_forms
from ..documents import subscriptions as subscription_forms
from ..domain import limits
from ..domain.errors import ValidationError
from ..domain.orders import Order
from ..domain.privacy import (
    ForgetOutcome,
    ForgetReasonCode,
    Unsettled,
    forget_event_data,
    forget_order,
    forget_order_data,
    forget_subscription,
    forget_subscription_data,
    pseudonym,
    unsettled_order,
    unsettled_subscription,
)
from ..domain.subscriptions import Subscription
from .idempotency import Caller, act_once, operation_of
from .orders import normalize_email
from .ports import AuditRecord, Clock, StoredEvent, UnitOfWork

#: Who forgets a customer when no API client is involved (``soap-orders customers forget``).
CLI_CALLER = Caller("cli")
#: What an outbox row keeps of the receiver's last answer about a forgotten customer's order (the
#: answer could quote whatever the receiver looked up about the customer).
CLEARED_ANSWER = "(cleared: the customer's personal data was forgotten)"


@dataclass(frozen=True)
class ForgetCustomer:
    email: str
    request_id: str
    #: Forget only this order of the customer's (or only this subscription); neither: everything.
    order_number: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True)
class ForgottenCounts:
    """How many of each kind of record had personal data replaced (never the data itself)."""

    orders: int = 0
    subscriptions: int = 0
    change_feed_events: int = 0
    audit_records: int = 0
    notifications: int = 0
    stored_answers: int = 0


@dataclass(frozen=True)
class ForgetResult:
    outcome: ForgetOutcome
    reason_code: ForgetReasonCode
    message: str
    forgotten: ForgottenCounts
    #: What must be settled first (when REJECTED).
    unsettled: tuple[Unsettled, ...] = ()
    #: The email address the forgotten records now carry (when FORGOTTEN).
    pseudonym: str | None = None


@dataclass(frozen=True)
class ExportCustomerData:
    email: str


@dataclass(frozen=True)
class CustomerData:
    """Everything held about one customer email, as of ``generated_at``."""

    generated_at: datetime
    orders: Sequence[Order]
    subscriptions: Sequence[Subscription]
    events: Sequence[StoredEvent]


# ---------------------------------------------------------------------- forgetting


def forget_customer(uow: UnitOfWork, command: ForgetCustomer, clock: Clock, caller: Caller) -> ForgetResult:
    """Forget the customer of ``command.email`` (only the one order or subscription named, when one
    is), once per RequestId; see the module's documentation."""
    command = replace(
        command,
        email=normalize_email(command.email).lower(),
        order_number=_optional(command.order_number, "OrderNumber", limits.ORDER_NUMBER),
        subscription_id=_optional(command.subscription_id, "SubscriptionId", limits.SUBSCRIPTION_ID),
    )
    if command.order_number and command.subscription_id:
        raise ValidationError("Give OrderNumber or SubscriptionId, not both.", "SubscriptionId")

    operation = operation_of(command)

    def execute(now: datetime) -> ForgetResult:
        request_id = command.request_id.strip()
        orders, subscriptions = _held(uow, command)

        def audit(outcome: str) -> None:
            uow.audit.add_many(
                [AuditRecord(now, caller.client, caller.address, operation, order.order_number, request_id,
                             outcome) for order in orders]
                + [AuditRecord(now, caller.client, caller.address, operation, None, request_id, outcome,
                               subscription_id=subscription.subscription_id) for subscription in subscriptions]
                or [AuditRecord(now, caller.client, caller.address, operation, None, request_id, outcome)]
            )

        unsettled = tuple([found for order in orders for found in unsettled_order(order)]
                          + [found for sub in subscriptions for found in unsettled_subscription(sub)])
        if unsettled:
            first = unsettled[0].reason_code
            audit(f"{ForgetOutcome.REJECTED.value}/{first.value}")
            return ForgetResult(
                ForgetOutcome.REJECTED, first,
                f"Nothing was forgotten: {len(unsettled)} record(s) must be settled first (see Unsettled); "
                "ask again with a new RequestId once they are.",
                ForgottenCounts(), unsettled,
            )
        if not orders and not subscriptions:
            audit(f"{ForgetOutcome.NOTHING_TO_FORGET.value}/{ForgetReasonCode.NONE.value}")
            return ForgetResult(ForgetOutcome.NOTHING_TO_FORGET, ForgetReasonCode.NONE,
                                "No order or subscription of this customer is held.", ForgottenCounts())
        alias = pseudonym(uuid.uuid4().hex)
        for order in orders:
            forget_order(order, alias, now=now, request_id=request_id)
        for subscription in subscriptions:
            forget_subscription(subscription, alias, now=now, request_id=request_id)
        numbers = [order.order_number for order in orders]
        ids = [subscription.subscription_id for subscription in subscriptions]
        whole = command.order_number is None and command.subscription_id is None
        subjects = _Subjects(set(numbers), set(ids), command.email if whole else None)
        needles = [json.dumps(value) for value in (*numbers, *ids, *([command.email] if whole else []))]
        counts = ForgottenCounts(
            orders=len(orders),
            subscriptions=len(subscriptions),
            change_feed_events=uow.privacy.rewrite_events(numbers, ids, forget_event_data),
            audit_records=uow.privacy.rewrite_audit_details(numbers, ids, forget_event_data),
            notifications=uow.privacy.rewrite_notifications(numbers, _forget_notification),
            stored_answers=uow.privacy.rewrite_stored_answers(needles, lambda answer: subjects.forget(answer, alias)),
        )
        audit(f"{ForgetOutcome.FORGOTTEN.value}/{ForgetReasonCode.NONE.value}")
        return ForgetResult(
            ForgetOutcome.FORGOTTEN, ForgetReasonCode.NONE,
            f"The customer's personal data was forgotten on {len(orders)} order(s) and "
            f"{len(subscriptions)} subscription(s).",
            counts, (), alias,
        )

    return act_once(uow, command, clock, caller, execute, _result_to_record, _result_from_record)


def _optional(value: str | None, wire: str, limit: int) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise ValidationError(f"{wire} is longer than {limit} characters.", wire)
    return value


def _held(uow: UnitOfWork, command: ForgetCustomer) -> tuple[list[Order], list[Subscription]]:
    """The customer's orders and subscriptions the request is about, locked for the change. Each
    is checked to be the customer's once locked: a request that ran meanwhile may have forgotten it."""
    email = command.email
    if command.order_number is not None:
        order = uow.orders.get(command.order_number, for_update=True)
        return ([order] if order is not None and order.customer.email.lower() == email else []), []
    if command.subscription_id is not None:
        subscription = uow.subscriptions.get(command.subscription_id, for_update=True)
        return [], ([subscription] if subscription is not None and subscription.customer.email.lower() == email else [])
    numbers = uow.privacy.order_numbers_for(email)
    orders = uow.orders.get_many(numbers, for_update=True)
    ids = uow.privacy.subscription_ids_for(email)
    subscriptions = uow.subscriptions.get_many(ids, for_update=True)
    return (
        [orders[n] for n in numbers if n in orders and orders[n].customer.email.lower() == email],
        [subscriptions[i] for i in ids if i in subscriptions and subscriptions[i].customer.email.lower() == email],
    )


def _forget_notification(payload: dict[str, Any], last_error: str | None) -> tuple[dict[str, Any], str | None]:
    return forget_event_data(payload), None if last_error is None else CLEARED_ANSWER


@dataclass(frozen=True)
class _Subjects:
    """What one request forgets, to find it inside stored answers: the orders and subscriptions by
    number, and (when the whole customer is forgotten) any order or subscription document still
    naming the email, such as an answer given before the ERP moved an order to another address."""

    order_numbers: set[str]
    subscription_ids: set[str]
    email: str | None

    def forget(self, value: Any, alias: str) -> Any:
        """``value`` (a stored answer, or part of one) with the documents of the subjects forgotten,
        and the note of a refund the answer gave about one of them."""
        if isinstance(value, list):
            return [self.forget(item, alias) for item in value]
        if not isinstance(value, dict):
            return value
        if self._order(value):
            order = records.order_from_record(value)
            forget_order_data(order, alias)
            return records.order_to_record(order)
        if self._subscription(value):
            subscription = subscription_forms.subscription_from_record(value, stored=True)
            forget_subscription_data(subscription, alias)
            return subscription_forms.subscription_to_record(subscription, stored=True)
        forgotten = {key: self.forget(item, alias) for key, item in value.items()}
        refund = forgotten.get("Refund")
        if isinstance(refund, dict) and (self._order(value.get("Order")) or self._subscription(value.get("Subscription"))):
            forgotten["Refund"] = {key: item for key, item in refund.items() if key != "Note"}
        return forgotten

    def _order(self, document: Any) -> bool:
        """Whether ``document`` is an order document of a subject."""
        return self._covers(document, "OrderNumber", self.order_numbers)

    def _subscription(self, document: Any) -> bool:
        return self._covers(document, "SubscriptionId", self.subscription_ids)

    def _covers(self, document: Any, key: str, numbers: set[str]) -> bool:
        if not isinstance(document, dict) or key not in document or not isinstance(document.get("Customer"), dict):
            return False
        if document[key] in numbers:
            return True
        email = document["Customer"].get("Email")
        return self.email is not None and isinstance(email, str) and email.strip().lower() == self.email


#: How a ForgetCustomer answer is kept under its RequestId, and read back to be replayed: the
#: answer's parts by their wire names (migration 0015 brought rows kept before in this form).
STORED_FORGET_RESULT = Document("StoredForgetResult", (
    Field("Outcome", privacy_forms.FORGET_OUTCOME, required=True),
    Field("ReasonCode", privacy_forms.FORGET_REASON_CODE, required=True),
    Field("Message", order_forms.MESSAGE, required=True),
    Field("Forgotten", Document("ForgottenCounts", privacy_forms.FORGOTTEN_COUNTS.fields, ForgottenCounts),
          required=True),
    Field("Unsettled", privacy_forms.UNSETTLED),
    Field("Pseudonym", order_forms.EMAIL),
), lambda unsettled=(), **values: ForgetResult(unsettled=tuple(unsettled), **values))


def _result_to_record(result: ForgetResult) -> dict[str, Any]:
    return records.dump(STORED_FORGET_RESULT, result)


def _result_from_record(record: dict[str, Any]) -> ForgetResult:
    result: ForgetResult = records.load(STORED_FORGET_RESULT, record)
    return result


# ---------------------------------------------------------------------- access requests


def export_customer_data(uow: UnitOfWork, query: ExportCustomerData, clock: Clock) -> CustomerData:
    """Everything held about an email (any case): its orders newest first, its subscriptions as
    they stand today, and the change-feed events about them. An email nothing is held for gives
    empty lists (as does one whose customer was forgotten)."""
    email = normalize_email(query.email)
    now = clock()
    with uow:
        numbers = uow.privacy.order_numbers_for(email)
        orders = uow.orders.get_many(numbers)
        ids = uow.privacy.subscription_ids_for(email)
        subscriptions = uow.subscriptions.get_many(ids)
        for subscription in subscriptions.values():
            subscription.settle(now)  # shown as it stands today, as every read does
        events = uow.privacy.events_about(numbers, ids)
    return CustomerData(
        now,
        [orders[n] for n in numbers if n in orders],
        [subscriptions[i] for i in ids if i in subscriptions],
        events,
    )
