"""suds (suds-community) in its default mode: ``Client(url, username=, password=)`` sends the
credentials only after a 401 challenge, so these calls pass only when the challenge is right."""

from __future__ import annotations

import re
from typing import Any

import pytest
from suds import WebFault
from suds.client import Client
from suds.sudsobject import Object

from tests.interop.harness import (
    CALLS,
    NOBODY,
    assert_same_answers,
    assert_typed_not_found,
    fault,
    plain,
    wrapped,
    zeep_answers,
    zeep_client,
)

pytestmark = pytest.mark.slow


def suds_data(value: Any) -> Any:
    if isinstance(value, Object):
        return {key: suds_data(item) for key, item in value}
    if isinstance(value, list):
        return [suds_data(item) for item in value]
    return value


def suds_answers(client: Client) -> dict[str, Any]:
    answers = {}
    for call in CALLS:
        try:
            result = getattr(client.service, call.operation)(**call.args)
        except WebFault as error:
            # The typed detail: error.fault.detail.FaultDetail.ErrorCode / .Message / .Retryable
            detail = error.fault.detail.FaultDetail
            answers[call.name] = fault(detail.ErrorCode, detail.Message, detail.Retryable, error.fault.faultcode)
            continue
        answers[call.name] = plain(wrapped(call.operation, suds_data(result))) or {}
    return answers


def challenges(log: str) -> int:
    return len(re.findall(r'"POST /soap[^"]*" 401 ', log))


def test_suds_default_client_matches_zeep(server, example_orders):
    name, secret = server.credentials
    before = challenges(server.log())
    client = Client(server.wsdl_url, username=name, password=secret, timeout=20)
    answers = suds_answers(client)
    assert challenges(server.log()) > before, "suds sent its credentials without being challenged"
    assert_typed_not_found("suds", answers)
    assert_same_answers("suds", answers, zeep_answers(zeep_client(server)))


def test_suds_empty_list_idiom(server, example_orders):
    name, secret = server.credentials
    client = Client(server.wsdl_url, username=name, password=secret, timeout=20)
    page = client.service.FindOrdersByEmail(Email=NOBODY)
    assert page.Orders == ""  # suds reads the empty wrapper <Orders/> as an empty string
    assert (page.Orders.Order if page.Orders else []) == []
    page = client.service.FindOrdersByEmail(Email="ann.lee@example.com")
    orders = page.Orders.Order if page.Orders else []
    assert [order.OrderNumber for order in orders] == ["SO-100002", "SO-100001"]
