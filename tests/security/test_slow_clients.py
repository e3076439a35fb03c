"""Clients that trickle bytes cannot starve the service, and are cut off when too slow."""

from __future__ import annotations

import socket
import threading
import time

import pytest

pytestmark = pytest.mark.slow

BODY = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:soap-orders:orders:v1">'
        b"<s:Body><o:FindOrdersByEmail><o:Email>slow@example.com</o:Email></o:FindOrdersByEmail></s:Body></s:Envelope>")


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    from tests.conftest import _database
    from tests.server import Server

    directory = tmp_path_factory.mktemp("slow")
    server = Server(_database("sqlite", directory, "slow"), directory / "gunicorn.log",
                    extra_env={"SOAP_ORDERS_BODY_TIMEOUT": "3"})
    yield server
    server.stop()


def trickle(port: int, stop: threading.Event, headers_only: bool) -> None:
    """Send a request one byte at a time, every 0.2 s, until told to stop or cut off."""
    head = (f"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n").encode()
    data = head if headers_only else head + BODY
    start = 0 if headers_only else len(head)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        if start:
            sock.sendall(data[:start])
        for i in range(start, len(data)):
            if stop.is_set():
                return
            try:
                sock.sendall(data[i:i + 1])
            except OSError:
                return
            time.sleep(0.2)


def test_requests_are_served_while_eight_clients_trickle_bytes(slow_server):
    stop = threading.Event()
    tricklers = [threading.Thread(target=trickle, args=(slow_server.port, stop, i % 2 == 0), daemon=True) for i in range(8)]
    for thread in tricklers:
        thread.start()
    time.sleep(0.5)
    try:
        latencies = []
        for _ in range(20):
            started = time.monotonic()
            response = slow_server.post(BODY)
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200
            assert b"FindOrdersByEmailResponse" in response.content
        assert max(latencies) < 5, latencies
    finally:
        stop.set()
        for thread in tricklers:
            thread.join(timeout=10)


def test_a_body_that_arrives_too_slowly_is_cut_off_with_a_fault(slow_server):
    head = (f"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=10) as sock:
        sock.sendall(head + BODY[:10])
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert 2.5 < time.monotonic() - started < 8
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in answer and b"<html" not in answer.lower()
