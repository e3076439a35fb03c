"""Bulk copies of stored orders (``adapters.bulk_load``) against a real SQLite file and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from soap_orders.adapters import bulk_load
from soap_orders.bootstrap import Dependencies
from soap_orders.demo import generate_records
from soap_orders.documents.records import order_from_record, order_to_record
from soap_orders.domain.orders import FinancialStatus, Reason
from soap_orders.ingest import orders as upserts
from soap_orders.service import orders as use_cases
from soap_orders.service.orders import Caller, IssueRefund
from tests.records import order_record


@pytest.fixture
def templates(deps: Dependencies) -> list[str]:
    """Twelve demo orders, with shipments, returns and refunds among them, stored the ordinary way."""
    orders = [order_from_record(r) for r in generate_records(12, seed=3)]
    upserts.upsert_orders(deps.uow(), orders, deps.clock)
    return [o.order_number for o in orders]


def test_copies_hold_every_row_of_their_template_under_the_new_number_and_email(
        deps: Dependencies, templates: list[str]) -> None:
    copies = [bulk_load.OrderCopy(templates[i % len(templates)], f"BULK-{i}", f"copy{i % 5}@example.org")
              for i in range(30)]
    assert bulk_load.copy_orders(deps.engine, copies, chunk_size=7) == 30

    with deps.uow() as uow:
        for copy in copies:
            stored, template = uow.orders.get(copy.order_number), uow.orders.get(copy.template)
            assert stored is not None and template is not None
            record, expected = order_to_record(stored), order_to_record(template)
            assert record["OrderNumber"] == copy.order_number
            assert record["Customer"]["Email"] == copy.email
            record["OrderNumber"], record["Customer"]["Email"] = expected["OrderNumber"], expected["Customer"]["Email"]
            assert record == expected
        assert uow.orders.count() == len(templates) + 30
        # The copied set has children of every kind the loader copies.
        stored = [uow.orders.get(n) for n in templates]
        assert any(o.shipments and o.shipments[0].items for o in stored if o is not None)
        assert any(o.refunds for o in stored if o is not None)
        assert any(o.returns and o.returns[0].items for o in stored if o is not None)
    # Each copy's kept-written document is the one its own order would be written as.
    from tests.integration.test_rendered_documents import (
        assert_every_document_is_current,
    )

    assert assert_every_document_is_current(deps) == len(templates) + 30


def test_the_ordinary_write_paths_work_after_a_bulk_copy(deps: Dependencies, templates: list[str]) -> None:
    with deps.uow() as uow:
        paid = next(o for o in (uow.orders.get(n) for n in templates)
                    if o is not None and o.financial_status is FinancialStatus.PAID and o.currency != "JPY")
    bulk_load.copy_orders(deps.engine, [bulk_load.OrderCopy(paid.order_number, "BULK-PAID", "paid@example.org")])
    bulk_load.analyze(deps.engine)

    # New rows get ids after the copied ones (PostgreSQL sequences were moved past them).
    result = use_cases.issue_refund(
        deps.uow(), IssueRefund("BULK-PAID", "bulk-refund-1", Reason.OTHER, amount=Decimal("0.01")), deps.clock,
        Caller("test"))
    assert result.outcome.value == "REFUNDED"
    upserts.upsert_orders(deps.uow(), [order_from_record(order_record("BULK-NEW"))], deps.clock)
    with deps.uow() as uow:
        refunded = uow.orders.get("BULK-PAID")
        assert refunded is not None and len(refunded.refunds) == len(paid.refunds) + 1
        assert uow.orders.get("BULK-NEW") is not None


def test_a_template_that_is_not_stored_is_refused(deps: Dependencies) -> None:
    with pytest.raises(LookupError):
        bulk_load.copy_orders(deps.engine, [bulk_load.OrderCopy("NOPE-1", "BULK-1", "a@example.org")])
