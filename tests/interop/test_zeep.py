"""zeep, the reference the other clients are compared with: what it reads is the golden response
of every example, and an empty result list is read with the idiom the README shows."""

from __future__ import annotations

import pytest

from tests.interop.harness import (
    CALLS,
    NOBODY,
    OLIVIA,
    OLIVIAS_ORDERS,
    OPERATION_NAMES,
    as_golden,
    assert_erp_fields_only_accepted,
    assert_typed_not_found,
    golden_answer,
    masked,
    zeep_answers,
    zeep_client,
)

pytestmark = pytest.mark.slow


def test_the_calls_cover_every_operation():
    assert {call.operation for call in CALLS} == OPERATION_NAMES


def test_zeep_reads_every_golden_response(server, example_orders):
    answers = zeep_answers(zeep_client(server))
    assert_typed_not_found("zeep", answers)
    assert_erp_fields_only_accepted("zeep", answers)
    for call in CALLS:
        golden = golden_answer(call)
        if golden is not None:
            assert as_golden(masked(answers[call.name]), golden) == masked(golden), call.name
    assert answers["FindOrdersByEmail-no-match"]["TotalCount"] == "0"


def test_zeep_empty_list_idiom(server, example_orders):
    client = zeep_client(server)
    page = client.service.FindOrdersByEmail(Email=NOBODY)
    assert page.Orders is None  # zeep reads the empty wrapper <Orders/> as None
    orders = page.Orders.Order if page.Orders else []
    assert orders == [] and page.TotalCount == 0 and page.HasMore is False

    page = client.service.FindOrdersByEmail(Email=OLIVIA)
    orders = page.Orders.Order if page.Orders else []
    assert [order.OrderNumber for order in orders] == OLIVIAS_ORDERS
    assert (page.CurrentPage, page.ItemsPerPage) == (1, 20)
