"""Kept-written order documents are never stale: after any sequence of writes through every way
an order changes (actions, upserts, imports, demo data), each stored document equals the order
written afresh; an out-of-date one is never served and `write_missing_documents` rewrites it."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, update

from soap_orders.adapters.orm import order_documents, orders
from soap_orders.demo import write_demo_data
from soap_orders.documents.records import order_from_record
from soap_orders.documents.rendered import RENDER_VERSION, render_order
from soap_orders.domain.errors import OrderNotFound
from soap_orders.domain.orders import (
    Address,
    Reason,
    RefundLineRequest,
    ReplacementReason,
    ReturnReason,
    ReturnUpdate,
)
from soap_orders.ingest import orders as upserts
from soap_orders.service import order_actions
from soap_orders.service import orders as use_cases
from soap_orders.service.orders import Caller
from tests.records import order_record, shipped, store

CALLER = Caller("documents-test", "127.0.0.1")


def assert_every_document_is_current(deps) -> int:
    with deps.uow() as uow:
        stored = {row.order_id: row for row in uow.session.execute(select(order_documents))}
        ids = dict(uow.session.execute(select(orders.c.order_number, orders.c.id)).all())
        for number, order_id in ids.items():
            order = uow.orders.get(number)
            assert order_id in stored, f"{number} has no document"
            row = stored[order_id]
            assert row.render_version == RENDER_VERSION
            fresh = render_order(order)
            assert (row.xml, row.json) == (fresh.xml, fresh.json), f"{number}'s document is stale"
    return len(ids)


def delivered(number: str) -> dict:
    record = shipped(order_record(number), status="DELIVERED")
    record["Shipments"][0].update(Status="DELIVERED", DeliveredAt="2026-03-04T10:00:00Z")
    for line in record["Lines"]:
        line["Status"] = "DELIVERED"
    return record


def test_no_sequence_of_writes_leaves_a_document_stale(deps):
    rng = random.Random(20261130)
    numbers = store(deps, order_record("DOC-1"), order_record("DOC-2"), shipped(order_record("DOC-3")),
                    delivered("DOC-4"), delivered("DOC-5"))
    clock = lambda: deps.clock().replace(year=2026, month=3, day=10)  # noqa: E731 - within the return window
    returns: list[tuple[str, str]] = []

    def line(quantity: int = 1) -> tuple[RefundLineRequest, ...]:
        return (RefundLineRequest(quantity=quantity, line_number=rng.choice([1, 2])),)

    actions = [
        lambda n: use_cases.cancel_order(deps.uow(), use_cases.CancelOrder(n, rid(), Reason.CUSTOMER), clock, CALLER),
        lambda n: use_cases.issue_refund(deps.uow(), use_cases.IssueRefund(n, rid(), Reason.DAMAGED, amount=None,
                                                                          lines=line()), clock, CALLER),
        lambda n: order_actions.change_shipping_address(deps.uow(), order_actions.ChangeShippingAddress(
            n, rid(), Address("Ann Lee", "2 Rue Neuve", None, "Lyon", None, "69001", "FR")), clock, CALLER),
        lambda n: order_actions.cancel_order_lines(deps.uow(), order_actions.CancelOrderLines(
            n, rid(), Reason.CUSTOMER, line()), clock, CALLER),
        lambda n: order_actions.issue_replacement(deps.uow(), order_actions.IssueReplacement(
            n, rid(), ReplacementReason.DAMAGED, line()), clock, CALLER),
        lambda n: returns.append((n, order_actions.create_return(deps.uow(), order_actions.CreateReturn(
            n, rid(), ReturnReason.SIZE, line()), clock, CALLER).return_id or "")),
        lambda n: [order_actions.update_return(deps.uow(), order_actions.UpdateReturn(
            number, rid(), return_id, rng.choice(list(ReturnUpdate))), clock, CALLER)
            for number, return_id in returns[-1:] if return_id],
        lambda n: upserts.upsert_orders(deps.uow(), [order_from_record(
            order_record(n, email=f"{rng.randrange(1000)}@example.com"))], clock),
    ]
    counter = iter(range(10_000))

    def rid() -> str:
        return f"doc-{next(counter)}"

    for _ in range(40):
        number = rng.choice(numbers)
        try:
            rng.choice(actions)(number)
        except Exception as error:  # a refused input is fine; what matters is what was stored
            from soap_orders.domain.errors import DomainError

            assert isinstance(error, DomainError), error
    assert assert_every_document_is_current(deps) >= len(numbers)
    with deps.uow() as uow:  # the sequence really changed orders, through several ways in
        changes = {record.operation for number in numbers for record in uow.audit.for_order(number)
                   if not record.outcome.startswith("REJECTED")}
    assert len(changes) >= 5, changes


def test_imports_and_demo_data_write_documents(deps, tmp_path):
    from soap_orders.ingest.files import import_file

    path = tmp_path / "orders.jsonl"
    import json

    path.write_text("\n".join(json.dumps(order_record(f"IMP-{i}")) for i in range(5)) + "\n")
    import_file(deps, path)
    write_demo_data(deps, 20, 3, if_empty=False)
    assert assert_every_document_is_current(deps) == 25


def test_an_out_of_date_document_is_never_served_and_is_written_again(deps):
    (number,) = store(deps, order_record("OLD-1"))
    with deps.engine.begin() as connection:
        connection.execute(update(order_documents).values(render_version=RENDER_VERSION - 1, xml="<stale/>",
                                                          json='{"stale": true}'))
    answer = use_cases.get_order_document(deps.documents, deps.uow(), number)
    assert not hasattr(answer, "xml") and answer.order_number == number  # read from the order itself
    page = use_cases.find_orders_by_email(deps.uow(), use_cases.FindOrdersByEmail("ann.lee@example.com"),
                                          deps.documents)
    assert [o.order_number for o in page.orders] == [number]
    assert use_cases.write_missing_documents(deps.uow) == 1
    assert assert_every_document_is_current(deps) == 1
    assert use_cases.get_order_document(deps.documents, deps.uow(), number).xml == render_order(
        use_cases.get_order(deps.uow(), number)).xml


@pytest.mark.parametrize("email", [None, "ANN.LEE@example.com"])
def test_a_document_answers_like_the_order_it_was_written_from(deps, email):
    (number,) = store(deps, shipped(order_record("SAME-1")))
    document = use_cases.get_order_document(deps.documents, deps.uow(), number, email)
    assert document == render_order(use_cases.get_order(deps.uow(), number))
    with pytest.raises(OrderNotFound):
        use_cases.get_order_document(deps.documents, deps.uow(), number, "someone@example.com")

