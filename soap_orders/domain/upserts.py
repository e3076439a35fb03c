"""What became of each document an ERP sends in a batch (orders and subscriptions alike): one
outcome and one vocabulary of reasons, some of which only one kind of document can have."""

from __future__ import annotations

import enum

from .consistency import Rule

#: The most documents one batch (UpsertOrders, UpsertSubscriptions) carries.
MAX_BATCH = 100


class UpsertOutcome(str, enum.Enum):
    """What a batch did with one document."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    REJECTED = "REJECTED"


class UpsertReasonCode(str, enum.Enum):
    """Why a document was refused; on an accepted one ``NONE``, or what of it was set aside."""

    NONE = "NONE"
    #: The document breaks a rule of its own (a missing field, totals that do not add up, ...).
    INVALID_DOCUMENT = "INVALID_DOCUMENT"
    #: The batch carries another document with the same id before this one (subscriptions).
    DUPLICATE_IN_BATCH = "DUPLICATE_IN_BATCH"
    #: The document contradicts what was done through the service: a cancellation, a refund
    #: (subscriptions; an order's refusals name what they contradict, below).
    CONTRADICTS_SERVICE = "CONTRADICTS_SERVICE"
    #: The currency of an order that has refunds cannot change.
    CURRENCY_CHANGED = "CURRENCY_CHANGED"
    #: A line refunded through the service is missing, has another SKU, or a quantity below what was refunded.
    LINE_REFUNDED = "LINE_REFUNDED"
    #: A line cancelled through the service is missing, has another SKU, or a quantity below what was cancelled.
    LINE_CANCELLED = "LINE_CANCELLED"
    #: A line with items replaced through the service is missing, has another SKU, or a quantity below them.
    LINE_REPLACED = "LINE_REPLACED"
    #: The total, or a payment that is not captured, is less than what has been refunded.
    TOTAL_BELOW_REFUNDED = "TOTAL_BELOW_REFUNDED"
    #: An order or line cancelled through the service is reported as shipped.
    CANCELLED_ORDER_SHIPPED = "CANCELLED_ORDER_SHIPPED"
    #: A refund made through the service is reported with another amount, or as failed.
    REFUND_CONFLICT = "REFUND_CONFLICT"
    #: A refund is reported with a lower amount or as failed: what was refunded never goes down.
    REFUND_REDUCED = "REFUND_REDUCED"
    #: Accepted, but the customer of the order or subscription was forgotten (a privacy request):
    #: the personal data the document carried was set aside and the record keeps its pseudonym (see
    #: ``domain.privacy``).
    PERSONAL_DATA_FORGOTTEN = "PERSONAL_DATA_FORGOTTEN"
    #: A parcel carries a SKU that is on no line of the order.
    UNKNOWN_SKU = Rule.UNKNOWN_SKU.value
    #: Parcels or a line's QuantityShipped carry more of a SKU than its lines ordered and did not cancel.
    EXCEEDS_ORDERED = Rule.EXCEEDS_ORDERED.value
    #: A line's QuantityShipped or Status, or the order's Status, claims more shipped or delivered
    #: than the order's parcels show (a DELIVERED order with no parcel, for one).
    AHEAD_OF_PARCELS = Rule.AHEAD_OF_PARCELS.value
    #: The shipping address's CountryCode is not an ISO 3166-1 alpha-2 code.
    INVALID_COUNTRY = Rule.INVALID_COUNTRY.value
    #: An update changes the order's currency, customer or every SKU of its lines, without ReplaceIdentity.
    IDENTITY_CHANGED = Rule.IDENTITY_CHANGED.value
    #: Accepted; what the document said of its lines' QuantityShipped or Status, or of the order's
    #: Status, lagged behind its parcels: the values derived from the parcels were stored (``Field``
    #: names the first, the message all of them).
    STATE_DERIVED = "STATE_DERIVED"
