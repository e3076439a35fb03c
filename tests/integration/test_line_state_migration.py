"""Migration 0014 brings stored line state up to the parcels: an order imported before line state
was derived (its item in a parcel, its line PENDING) reads SHIPPED after the upgrade, and its
kept-written document is written afresh; state already further along is kept (SQLite file and
PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from soap_orders.adapters import migrate
from soap_orders.adapters.orm import order_documents, order_lines, orders
from soap_orders.documents.records import Rendered
from soap_orders.service.orders import (
    get_order,
    get_order_document,
    write_missing_documents,
)
from tests.records import order_record, shipped, store, unique


def as_before_the_rule(deps, number: str, *, order_status: str, line_status: str, quantity_shipped: int) -> None:
    """What an import of the earlier release stored: the lines as the record said them."""
    with deps.engine.begin() as connection:
        order_id = connection.scalar(select(orders.c.id).where(orders.c.order_number == number))
        connection.execute(update(orders).where(orders.c.id == order_id).values(status=order_status))
        connection.execute(update(order_lines).where(order_lines.c.order_id == order_id)
                           .values(status=line_status, quantity_shipped=quantity_shipped))


def lines_of(deps, number: str) -> list[tuple[str, int]]:
    order = get_order(deps.uow(), number)
    return [(line.status.value, line.quantity_shipped) for line in order.lines]


def test_the_upgrade_derives_stored_line_state_from_the_parcels_and_never_moves_it_back(deps):
    behind, ahead, plain = unique("MIG"), unique("MIG"), unique("MIG")
    store(deps, shipped(order_record(behind)), shipped(order_record(ahead)), order_record(plain))
    write_missing_documents(deps.uow)
    as_before_the_rule(deps, behind, order_status="PROCESSING", line_status="PENDING", quantity_shipped=0)
    # Stored by an earlier release as DELIVERED with its parcel still on its way: kept as it is.
    as_before_the_rule(deps, ahead, order_status="DELIVERED", line_status="DELIVERED", quantity_shipped=0)
    untouched = get_order(deps.uow(), plain)

    migrate.downgrade(deps.engine, "0013_feed_fingerprint")
    migrate.upgrade(deps.engine)

    assert get_order(deps.uow(), behind).status.value == "SHIPPED"
    assert lines_of(deps, behind) == [("SHIPPED", 2), ("SHIPPED", 1)]
    assert get_order(deps.uow(), ahead).status.value == "DELIVERED"
    assert lines_of(deps, ahead) == [("DELIVERED", 2), ("DELIVERED", 1)]
    assert get_order(deps.uow(), plain).status is untouched.status
    assert lines_of(deps, plain) == [("PROCESSING", 0), ("PROCESSING", 0)]

    with deps.engine.connect() as connection:
        stale = connection.scalar(select(order_documents.c.render_version).join(
            orders, orders.c.id == order_documents.c.order_id).where(orders.c.order_number == behind))
    assert stale == -1
    write_missing_documents(deps.uow)
    document = get_order_document(deps.documents, deps.uow(), behind)
    assert isinstance(document, Rendered)
    assert [line["Status"] for line in json.loads(document.json)["Lines"]] == ["SHIPPED", "SHIPPED"]
