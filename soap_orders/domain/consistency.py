"""Consistency on the way in: what an ERP's order record must satisfy beyond its own figures.

``Order.check`` makes sure a record's amounts add up. This module holds the rules that compare
what a record *says* with what follows from its other parts, the same for every way in (import,
UpsertOrders, demo data):

- every parcel carries SKUs of the order's lines, and no more of a SKU than its lines ordered
  and did not cancel (``UNKNOWN_SKU``, ``EXCEEDS_ORDERED``);
- a line's QuantityShipped and Status, and the order's Status, may lag behind what its parcels
  show (then the derived value is stored and the difference reported: ``derived``), but never be
  ahead of them (``AHEAD_OF_PARCELS``): a DELIVERED order needs parcels that delivered its items.
  A record without any parcel stands for an ERP that keeps no parcel detail: its lines' own
  QuantityShipped and Status then say what shipped, and the order's Status must follow from them;
- the shipping address's CountryCode is an ISO 3166-1 alpha-2 code (``INVALID_COUNTRY``);
- an update keeps the order's identity: its currency, its customer and its lines' SKUs
  (``IDENTITY_CHANGED``, unless the record says ReplaceIdentity).

A refusal names the field and the rule, never the value sent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from . import addresses
from .orders import (
    DELIVERED_LINE_STATUSES,
    Fulfilment,
    LineStatus,
    Order,
    OrderStatus,
    derive_fulfilment,
    untracked_shipments,
)


class Rule(str, enum.Enum):
    """The rules a record can break here (the same names as the upsert's reason codes)."""

    #: A parcel carries a SKU that is on no line of the order.
    UNKNOWN_SKU = "UNKNOWN_SKU"
    #: Parcels or a line's QuantityShipped carry more of a SKU than its lines ordered and did not cancel.
    EXCEEDS_ORDERED = "EXCEEDS_ORDERED"
    #: A line's QuantityShipped or Status, or the order's Status, claims more shipped or delivered
    #: than the order's parcels show.
    AHEAD_OF_PARCELS = "AHEAD_OF_PARCELS"
    #: The shipping address's CountryCode is not an ISO 3166-1 alpha-2 code.
    INVALID_COUNTRY = "INVALID_COUNTRY"
    #: An update changes the order's currency, customer or every SKU of its lines.
    IDENTITY_CHANGED = "IDENTITY_CHANGED"


class Inconsistent(Exception):
    """A record refused by a rule of this module; ``field`` is its path (``Lines[2].Status``)."""

    def __init__(self, rule: Rule, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.rule = rule
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Reconciled:
    """What follows from a record's parcels, and the fields where that differs from what it said
    (the derived value is the one stored)."""

    fulfilment: Fulfilment
    derived: tuple[str, ...]


#: Codes often written for a country that have another ISO 3166-1 code, and that code.
_COUNTRY_HINTS = {"UK": "GB", "EN": "GB", "EL": "GR"}

#: How far a shipped order status goes: a record may not claim more than its parcels show.
_RANK = {OrderStatus.PARTIALLY_SHIPPED: 1, OrderStatus.SHIPPED: 2, OrderStatus.DELIVERED: 3}


def check_country(order: Order) -> None:
    """The shipping address's CountryCode, when given, is an ISO 3166-1 alpha-2 code."""
    address = order.shipping_address
    code = None if address is None else address.country_code
    if code is None or code in addresses.ISO_3166_ALPHA2:
        return
    hint = _COUNTRY_HINTS.get(code.strip().upper())
    problem = "must be an ISO 3166-1 alpha-2 code"
    problem += f" (the United Kingdom is {hint})" if hint == "GB" else f" (use {hint})" if hint else " such as GB"
    raise Inconsistent(Rule.INVALID_COUNTRY, "ShippingAddress.CountryCode", problem)


def reconcile(order: Order, document: Order) -> Reconciled:
    """Compare what ``order`` says of its lines and status with what follows from its parcels.

    ``order`` is the order as it would be stored, before derivation: the document's lines (with
    what the service cancelled), every parcel (stored and reported), the status the document
    reports. ``document`` is the record as sent, whose paths a refusal names. Raises
    :class:`Inconsistent`; returns the derived state and the fields it corrects."""
    line_paths = {line.line_number: f"Lines[{i}]" for i, line in enumerate(document.lines, 1)}
    skus = {line.sku for line in order.lines}
    for shipment in order.shipments:
        for item in shipment.items:
            if item.sku not in skus:
                raise Inconsistent(Rule.UNKNOWN_SKU, _item_path(document, shipment.shipment_id, item.sku, "Sku"),
                                   "a parcel carries a SKU that is on no line of the order")
    for line in order.lines:
        if line.quantity_shipped > line.quantity - line.quantity_cancelled:
            raise Inconsistent(Rule.EXCEEDS_ORDERED, f"{_line_path(line_paths, line.line_number)}.QuantityShipped",
                               "is more than the line's Quantity not cancelled")
    untracked = {} if document.shipments else untracked_shipments(order)
    fulfilment = derive_fulfilment(order, untracked)
    for sku in sorted(fulfilment.excess):
        last = next(s for s in reversed(order.shipments) if sku in s.quantities)
        raise Inconsistent(Rule.EXCEEDS_ORDERED, _item_path(document, last.shipment_id, sku, "Quantity"),
                           "the parcels carry more of a SKU than its lines ordered and did not cancel")
    derived: list[str] = []
    for line in order.lines:
        state = fulfilment.lines[line.line_number]
        path = _line_path(line_paths, line.line_number)
        if line.status is LineStatus.CANCELLED and line.quantity_cancelled < line.quantity and state.carried:
            raise Inconsistent(Rule.EXCEEDS_ORDERED, f"{path}.Status",
                               "says CANCELLED, but parcels carry items of the line")
        if line.quantity_shipped > state.shipped:
            raise Inconsistent(Rule.AHEAD_OF_PARCELS, f"{path}.QuantityShipped",
                               "is more than the order's parcels carry of the line")
        if order.shipped_quantity(line) > state.shipped:
            raise Inconsistent(Rule.AHEAD_OF_PARCELS, f"{path}.Status",
                               "says shipped, but the order's parcels do not carry all of the line")
        if line.status in DELIVERED_LINE_STATUSES and state.status not in DELIVERED_LINE_STATUSES:
            raise Inconsistent(Rule.AHEAD_OF_PARCELS, f"{path}.Status",
                               "says delivered, but not every parcel carrying the line was delivered")
        if line.quantity_shipped != state.shipped:
            derived.append(f"{path}.QuantityShipped")
        if line.status is not state.status:
            derived.append(f"{path}.Status")
    claimed = _RANK.get(order.status, 0)
    if claimed > _RANK.get(fulfilment.status, 0):
        if not any(state.shipped for state in fulfilment.lines.values()):
            problem = "says the order shipped, but no parcel (nor line) carries any of its items"
        elif order.status is OrderStatus.DELIVERED:
            problem = "says DELIVERED, but not every parcel carrying its items was delivered"
        else:
            problem = "says SHIPPED, but the parcels carry only part of its items"
        raise Inconsistent(Rule.AHEAD_OF_PARCELS, "Status", problem)
    if fulfilment.status is not order.status:
        derived.append("Status")
    return Reconciled(fulfilment, tuple(derived))


def check_identity(stored: Order, incoming: Order) -> None:
    """An update is of the same order: the same currency, the same customer (the same Email, or
    else the same first and last name) and at least one SKU of its lines still there. A record that breaks this was most likely sent under
    another order's number; the ERP says ReplaceIdentity when it means it."""
    if incoming.replace_identity:
        return
    if incoming.currency != stored.currency:
        raise Inconsistent(Rule.IDENTITY_CHANGED, "Currency", "differs from the stored order's")
    if stored.forgotten_at is None and _email(incoming) != _email(stored) and not _same_name(stored, incoming):
        raise Inconsistent(Rule.IDENTITY_CHANGED, "Customer",
                           "is another customer (both Email and name differ from the stored order's)")
    before = {line.sku for line in stored.lines}
    if before and not before & {line.sku for line in incoming.lines}:
        raise Inconsistent(Rule.IDENTITY_CHANGED, "Lines", "share no SKU with the stored order's lines")


def _email(order: Order) -> str:
    return (order.customer.email or "").strip().casefold()


def _same_name(a: Order, b: Order) -> bool:
    """Both customers have a last name, and the same first and last names (a customer who changed
    their email address is still the same customer)."""
    return bool(_name(a)[1]) and _name(a) == _name(b)


def _name(order: Order) -> tuple[str, str]:
    customer = order.customer
    return (customer.first_name or "").strip().casefold(), (customer.last_name or "").strip().casefold()


def _line_path(paths: dict[int, str], number: int) -> str:
    return paths.get(number, "Lines")


def _item_path(document: Order, shipment_id: str, sku: str, leaf: str) -> str:
    """The path of a parcel's last item of ``sku`` in the document, or of the document's Lines when
    the parcel is one the document does not report (recorded through the service)."""
    for i, shipment in enumerate(document.shipments, 1):
        if shipment.shipment_id == shipment_id:
            found = [j for j, item in enumerate(shipment.items, 1) if item.sku == sku]
            return f"Shipments[{i}].Items[{found[-1]}].{leaf}" if found else f"Shipments[{i}]"
    return "Lines"


__all__ = ["Inconsistent", "Reconciled", "Rule", "check_country", "check_identity", "reconcile"]
