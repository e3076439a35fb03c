"""Forgetting a customer at their request: what of an order or a subscription is personal data,
what replaces it, what must be settled first, and the tombstone that keeps it forgotten.

Personal data is the customer's name, email and phone, the shipping address (all but its country),
free-text notes (of refunds, cancellations, returns) and a return label's link (the label shows the
address). It is replaced by a pseudonym: an email address of the reserved ``.invalid`` domain, the
same for every record one request forgets, made of random digits, so nothing leads back to the
person. What money and disputes need is kept: numbers, amounts, refunds, dates, statuses, SKUs,
products, carriers and tracking numbers, and the country (for tax).

A forgotten order or subscription remembers when (``forgotten_at``). That is the tombstone the ERP's
feed respects: a document of the same order that carries personal data again is merged with the
forgotten values in their place (``keep_order_forgotten``), so a nightly re-feed never brings the
data back. A new order of the same person has a number of its own: a new relationship, stored as
it comes.

An order with a return still open or a refund not yet settled is not forgotten (the warehouse and
the payment side may still need to reach the customer about it), nor is a subscription that is
still running (its next delivery needs the address): ``unsettled`` says which and why.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .events import CustomerForgotten
from .orders import (
    RETURN_TRANSITIONS,
    Address,
    Customer,
    Order,
    RefundStatus,
    ReturnReason,
)
from .subscription_events import CustomerForgotten as SubscriptionCustomerForgotten
from .subscriptions import ENDED_STATUSES, Subscription

#: The domain of every pseudonym (RFC 2606 reserves ``.invalid``: no mail is ever delivered there).
PSEUDONYM_DOMAIN = "forgotten.invalid"
#: Return reasons the service's own vocabulary has; any other text is the ERP's free text.
_RETURN_REASONS = frozenset(reason.value for reason in ReturnReason)
#: Keys of event data (change-feed payloads, audit details, queued notifications) whose values are
#: notes or links to documents that show the address; addresses are kept to their country.
_FREE_TEXT_KEYS = frozenset({"note", "cancel_note", "label_url"})
_ADDRESS_KEYS = frozenset({"old_address", "new_address"})


class ForgetOutcome(str, enum.Enum):
    FORGOTTEN = "FORGOTTEN"
    NOTHING_TO_FORGET = "NOTHING_TO_FORGET"
    REJECTED = "REJECTED"


class ForgetReasonCode(str, enum.Enum):
    """Why a record cannot be forgotten yet; ``NONE`` when the request was carried out."""

    NONE = "NONE"
    OPEN_RETURN = "OPEN_RETURN"
    UNSETTLED_REFUND = "UNSETTLED_REFUND"
    ACTIVE_SUBSCRIPTION = "ACTIVE_SUBSCRIPTION"


@dataclass(frozen=True)
class Unsettled:
    """One reason one order or subscription cannot be forgotten yet."""

    reason_code: ForgetReasonCode
    message: str
    order_number: str | None = None
    subscription_id: str | None = None


def pseudonym(token: str) -> str:
    """The email address that stands in for a forgotten customer; ``token`` is random."""
    if not token or not token.isalnum():
        raise ValueError("a pseudonym's token is letters and digits")
    return f"forgotten-{token.lower()}@{PSEUDONYM_DOMAIN}"


def is_pseudonym(email: str) -> bool:
    return email.lower().endswith("@" + PSEUDONYM_DOMAIN)


# ---------------------------------------------------------------------- what must be settled first


def unsettled_order(order: Order) -> list[Unsettled]:
    """What keeps ``order`` from being forgotten now: each open return, each refund still PENDING."""
    found = [
        Unsettled(ForgetReasonCode.OPEN_RETURN,
                  f"Order {order.order_number} has return {ret.return_id} still open ({ret.status.value}).",
                  order_number=order.order_number)
        for ret in order.returns if ret.status in RETURN_TRANSITIONS
    ]
    found += [
        Unsettled(ForgetReasonCode.UNSETTLED_REFUND,
                  f"Order {order.order_number} has refund {refund.refund_id} not yet settled (PENDING).",
                  order_number=order.order_number)
        for refund in order.refunds if refund.status is RefundStatus.PENDING
    ]
    return found


def unsettled_subscription(subscription: Subscription) -> list[Unsettled]:
    """A subscription still running (not cancelled or expired) cannot be forgotten: cancel it first."""
    if subscription.status in ENDED_STATUSES:
        return []
    return [Unsettled(
        ForgetReasonCode.ACTIVE_SUBSCRIPTION,
        f"Subscription {subscription.subscription_id} is {subscription.status.value}; cancel it first.",
        subscription_id=subscription.subscription_id,
    )]


# ---------------------------------------------------------------------- forgetting


def forgotten_address(address: Address | None) -> Address | None:
    """The address without anything but its country (None stays None)."""
    return None if address is None else Address(country_code=address.country_code)


def forget_order_data(order: Order, alias: str) -> None:
    """Replace the personal data of ``order`` (a stored order, or one read back from a kept
    answer) by the pseudonym ``alias``; what money and disputes need stays."""
    order.customer = Customer(alias)
    order.shipping_address = forgotten_address(order.shipping_address)
    for refund in order.refunds:
        refund.note = None
    for ret in order.returns:
        ret.label_url = None
        ret.reason = _kept_reason(ret.reason)


def forget_order(order: Order, alias: str, *, now: datetime, request_id: str) -> None:
    """Forget the customer of a stored order: the data, the tombstone, and a ``CustomerForgotten``
    event for the change feed (naming the pseudonym, never the data)."""
    forget_order_data(order, alias)
    order.forgotten_at = now
    order.events.append(CustomerForgotten(order.order_number, now, request_id, alias))


def forget_subscription_data(subscription: Subscription, alias: str) -> None:
    subscription.customer = Customer(alias)
    subscription.shipping_address = forgotten_address(subscription.shipping_address)
    subscription.cancel_note = None
    for refund in subscription.refunds:
        refund.note = None


def forget_subscription(subscription: Subscription, alias: str, *, now: datetime, request_id: str) -> None:
    forget_subscription_data(subscription, alias)
    subscription.forgotten_at = now
    subscription.events.append(SubscriptionCustomerForgotten(subscription.subscription_id, now, request_id, alias))


def forget_event_data(value: Any) -> Any:
    """Event data (a change-feed payload, an audit record's details, a queued notification) with
    its notes and label links emptied and its addresses kept to their country; ``value`` itself is
    not changed."""
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            if key in _FREE_TEXT_KEYS:
                kept[key] = None
            elif key in _ADDRESS_KEYS and isinstance(item, dict):
                kept[key] = {name: part if name == "country_code" else None for name, part in item.items()}
            else:
                kept[key] = forget_event_data(item)
        return kept
    if isinstance(value, list):
        return [forget_event_data(item) for item in value]
    return value


def _kept_reason(reason: str | None) -> str | None:
    """A return's reason stays when it is one of the service's reasons; free text is forgotten."""
    return reason if reason in _RETURN_REASONS else None


# ---------------------------------------------------------------------- the tombstone


def keep_order_forgotten(stored: Order, incoming: Order) -> bool:
    """When ``stored``'s customer was forgotten, give the ERP's document ``incoming`` (of the same
    order) the stored order's forgotten values in place of its personal data, so merging it brings
    nothing back. True when the document carried personal data that was set aside."""
    if stored.forgotten_at is None:
        return False
    before = _order_personal_data(incoming)
    incoming.customer = replace(stored.customer)
    incoming.shipping_address = None if stored.shipping_address is None else replace(stored.shipping_address)
    for refund in incoming.refunds:
        refund.note = None
    for ret in incoming.returns:
        ret.label_url = None
        ret.reason = _kept_reason(ret.reason)
    return _order_personal_data(incoming) != before


def keep_subscription_forgotten(stored: Subscription, incoming: Subscription) -> bool:
    """``keep_order_forgotten`` for a subscription document."""
    if stored.forgotten_at is None:
        return False
    before = _subscription_personal_data(incoming)
    incoming.customer = replace(stored.customer)
    incoming.shipping_address = None if stored.shipping_address is None else replace(stored.shipping_address)
    incoming.cancel_note = None
    return _subscription_personal_data(incoming) != before


def _address_data(address: Address | None) -> tuple[Any, ...] | None:
    if address is None:
        return None
    parts = (address.name, address.line1, address.line2, address.city, address.region, address.postal_code,
             address.country_code, address.phone)
    return None if all(part is None for part in parts) else parts


def _order_personal_data(order: Order) -> tuple[Any, ...]:
    customer = order.customer
    return (
        (customer.email, customer.first_name, customer.last_name, customer.phone),
        _address_data(order.shipping_address),
        tuple(refund.note for refund in order.refunds),
        tuple((ret.label_url, ret.reason) for ret in order.returns),
    )


def _subscription_personal_data(subscription: Subscription) -> tuple[Any, ...]:
    customer = subscription.customer
    return (
        (customer.email, customer.first_name, customer.last_name, customer.phone),
        _address_data(subscription.shipping_address),
        subscription.cancel_note,
    )
