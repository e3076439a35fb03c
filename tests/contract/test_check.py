"""``soap-orders check`` against a live server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from soap_orders.cli import main
from tests.contract.clients import WAYS_IN
from tests.records import order_record, store

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_check_passes_against_a_correct_deployment(server, server_deps, way_in):
    (number,) = store(server_deps, order_record())
    name, secret = server.credentials
    result = CliRunner().invoke(main, ["check", server.soap_url, "--client", name, "--way-in", way_in, "--order", number],
                                env={"SOAP_ORDERS_CHECK_SECRET": secret})
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "operation IssueRefund(OrderNumber, RequestId, Reason, Amount, Lines, Note)" in result.output
    assert f"GetOrder {number}: PROCESSING, 30.00 EUR" in result.output


def test_check_fails_on_wrong_credentials_and_a_wrong_address(server):
    name, _ = server.credentials
    wrong_host = server.soap_url.replace("127.0.0.1", "localhost")
    result = CliRunner().invoke(main, ["check", wrong_host, "--client", name, "--secret", "wrong"])
    assert result.exit_code == 1
    assert "FAIL  soap:address is" in result.output and "SOAP_ORDERS_PUBLIC_URL" in result.output
    assert "FAIL  FindOrdersByEmail: fault" in result.output and "AuthenticationFailed" in result.output


def test_check_takes_the_services_base_address_for_its_soap_endpoint(server):
    name, secret = server.credentials
    for base in (server.base_url, server.base_url + "/"):
        result = CliRunner().invoke(main, ["check", base, "--client", name], env={"SOAP_ORDERS_CHECK_SECRET": secret})
        assert result.exit_code == 0, result.output
        assert f"ok    {base} is the service's base address: checking its SOAP endpoint {server.soap_url}" in result.output
        assert f"ok    soap:address is {server.soap_url}" in result.output and "FAIL" not in result.output


def test_check_of_another_path_says_where_the_soap_endpoint_is(server):
    name, secret = server.credentials
    for path in ("/openapi.json", "/json/GetOrder", "/health"):
        result = CliRunner().invoke(main, ["check", server.base_url + path, "--client", name],
                                    env={"SOAP_ORDERS_CHECK_SECRET": secret})
        assert result.exit_code == 1
        assert f"(did you mean {server.soap_url}?)" in result.output, result.output
