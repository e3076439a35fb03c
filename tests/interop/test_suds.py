"""suds (suds-community) in its default mode: ``Client(url, username=, password=)`` sends the
credentials only after a 401 challenge, so these calls pass only when the challenge is right."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from suds import WebFault
from suds.client import Client
from suds.sudsobject import Object
from suds.transport.https import HttpAuthenticated

from tests.interop.harness import (
    CALLS,
    NOBODY,
    OLIVIA,
    OLIVIAS_ORDERS,
    assert_erp_fields_only_accepted,
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
            # The detail: error.fault.detail.FaultDetail.ErrorCode / .Message / .Retryable, all strings,
            # so Retryable is compared with "true", as README says ("false" is truthy).
            detail = error.fault.detail.FaultDetail
            retryable = detail.Retryable == "true"
            answers[call.name] = fault(detail.ErrorCode, detail.Message, retryable, error.fault.faultcode)
            continue
        answers[call.name] = plain(wrapped(call.operation, suds_data(result))) or {}
    return answers


class _StatusRecorder(urllib.request.BaseHandler):
    handler_order = 100  # sees every response, the 401 challenge too, before it becomes an error

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses

    def http_response(self, request: Any, response: Any) -> Any:
        self.statuses.append(response.status)
        return response


class RecordingTransport(HttpAuthenticated):
    """suds' default transport for ``Client(url, username=, password=)``, noting each HTTP status."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.statuses: list[int] = []

    def u2handlers(self) -> list[Any]:
        return [*super().u2handlers(), _StatusRecorder(self.statuses)]


def test_suds_default_client_matches_zeep(server, example_orders):
    name, secret = server.credentials
    transport = RecordingTransport(username=name, password=secret, timeout=20)
    client = Client(server.wsdl_url, transport=transport)
    answers = suds_answers(client)
    assert 401 in transport.statuses, f"suds was never challenged: {transport.statuses}"
    assert 200 in transport.statuses
    assert_typed_not_found("suds", answers)
    assert_erp_fields_only_accepted("suds", answers)
    assert_same_answers("suds", answers, zeep_answers(zeep_client(server)))


def test_suds_empty_list_idiom(server, example_orders):
    name, secret = server.credentials
    client = Client(server.wsdl_url, username=name, password=secret, timeout=20)  # exactly the default
    assert type(client.options.transport) is HttpAuthenticated
    page = client.service.FindOrdersByEmail(Email=NOBODY)
    assert page.Orders == ""  # suds reads the empty wrapper <Orders/> as an empty string
    assert (page.Orders.Order if page.Orders else []) == []
    page = client.service.FindOrdersByEmail(Email=OLIVIA)
    orders = page.Orders.Order if page.Orders else []
    assert [order.OrderNumber for order in orders] == OLIVIAS_ORDERS
