"""Small things the HTTP front door gets right for a new user: a bodiless HEAD, a helpful answer
to GET /soap, and ``check`` naming the URL and status it could not load."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from soap_orders.cli import main

pytestmark = pytest.mark.slow


def raw_request(server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_head_health_sends_no_body(server):
    answer = raw_request(server, b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length: 16" in head.lower()  # the length of the GET body {"status": "ok"}
    assert body == b""


def test_get_soap_without_wsdl_says_allow_post_and_where_the_wsdl_is(server):
    import requests

    answer = requests.get(server.soap_url, timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert "METHOD_NOT_ALLOWED" in answer.text and f"{server.soap_url}?wsdl" in answer.text


def test_check_names_the_url_and_status_it_could_not_load(server):
    name, secret = server.credentials
    wrong = f"{server.base_url}/no-such-path"
    result = CliRunner().invoke(main, ["check", wrong, "--client", name], env={"SOAP_ORDERS_CHECK_SECRET": secret})
    assert result.exit_code == 1
    assert f"FAIL  WSDL at {wrong}?wsdl could not be loaded: HTTP 404 Not Found" in result.output
