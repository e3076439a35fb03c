"""The OAuth2 token endpoint reads its form as /soap and /json read their bodies: within a size
limit and a time limit, and a body shorter than its Content-Length is refused. A client that
trickles its form is cut off, so such clients cannot hold every worker thread."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.slow

#: Seconds a body may take (SOAP_ORDERS_BODY_TIMEOUT of the server below).
BODY_TIMEOUT = 2
#: One worker with this many threads, so a few slow clients are more than it has.
THREADS = 2
#: A form as a client sends it; the slow clients below declare this many bytes.
FORM = b"grant_type=client_credentials&scope=orders%3Aread&padding=" + b"x" * 42


@pytest.fixture(scope="module")
def narrow_server(tmp_path_factory):
    from tests.conftest import _database
    from tests.server import Server

    directory = tmp_path_factory.mktemp("token-body")
    server = Server(_database("sqlite", directory, "token-body"), directory / "gunicorn.log", workers=1,
                    extra_env={"SOAP_ORDERS_BODY_TIMEOUT": str(BODY_TIMEOUT), "SOAP_ORDERS_THREADS": str(THREADS)})
    yield server
    server.stop()


def token_head(length: int, *, close: bool = True) -> bytes:
    return (f"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, content


def assert_json_refusal(headers: dict[str, str], content: bytes, says: str) -> None:
    assert headers["content-type"] == "application/json"
    body = json.loads(content)
    assert body["error"] == "invalid_request"
    assert says in body["error_description"]


def test_a_form_that_arrives_too_slowly_is_cut_off_with_408_in_json(narrow_server):
    """The attack as reported: Content-Length 100, then a byte a second."""
    assert len(FORM) == 100
    with socket.create_connection(("127.0.0.1", narrow_server.port), timeout=10) as sock:
        sock.sendall(token_head(len(FORM)))
        sock.settimeout(1)
        answered = False
        for i in range(BODY_TIMEOUT * 5):  # a byte a second, for far longer than the deadline
            try:
                answered = bool(sock.recv(1, socket.MSG_PEEK))
            except TimeoutError:
                pass
            if answered:
                break
            sock.sendall(FORM[i:i + 1])
        assert answered, "the server is still waiting for the trickled form"
        sock.settimeout(10)
        status, headers, content = read_answer(sock)
    assert status == 408
    assert_json_refusal(headers, content, f"within {BODY_TIMEOUT} seconds")
    assert headers["connection"] == "close"


def test_a_form_larger_than_the_limit_is_413_in_json(narrow_server):
    with socket.create_connection(("127.0.0.1", narrow_server.port), timeout=10) as sock:
        sock.sendall(token_head(10**9) + FORM)
        status, headers, content = read_answer(sock)
    assert status == 413
    assert_json_refusal(headers, content, "larger than the limit of 8192 bytes")


def test_a_chunked_form_larger_than_the_limit_is_413_in_json(narrow_server):
    chunks = iter([b"grant_type=client_credentials&x=", b"y" * 9000])
    answer = requests.post(f"{narrow_server.base_url}/oauth/token", data=chunks, auth=narrow_server.credentials,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert answer.status_code == 413
    assert_json_refusal({k.lower(): v for k, v in answer.headers.items()}, answer.content,
                        "larger than the limit of 8192 bytes")


def test_a_form_shorter_than_its_content_length_is_400_in_json(narrow_server):
    with socket.create_connection(("127.0.0.1", narrow_server.port), timeout=10) as sock:
        sock.sendall(token_head(len(FORM) + 50) + FORM)
        sock.shutdown(socket.SHUT_WR)
        status, headers, content = read_answer(sock)
    assert status == 400
    assert_json_refusal(headers, content, "shorter than its Content-Length")


def test_a_chunked_form_within_the_limit_is_served(narrow_server):
    chunks = iter([b"grant_type=client_", b"credentials"])
    answer = requests.post(f"{narrow_server.base_url}/oauth/token", data=chunks, auth=narrow_server.credentials,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"


def slow_token_client(port: int, stop: threading.Event, cut_off: list[int]) -> None:
    """Declare a 100-byte form and send a byte a second; when cut off, come back and start again."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(token_head(len(FORM)))
                for i in range(len(FORM) - 1):
                    if stop.wait(1):
                        return
                    sock.sendall(FORM[i:i + 1])
        except OSError:
            cut_off.append(1)  # the server shut the connection: connect again


def test_health_answers_while_more_slow_token_clients_than_threads_are_connected(narrow_server):
    stop = threading.Event()
    cut_off: list[int] = []
    clients = [threading.Thread(target=slow_token_client, args=(narrow_server.port, stop, cut_off), daemon=True)
               for _ in range(THREADS * 2 + 1)]
    for client in clients:
        client.start()
    try:
        time.sleep(BODY_TIMEOUT / 2)  # every thread is taken by now, and more clients wait for one
        # Without the deadline each client holds its thread for 100 seconds; with it, a thread
        # comes free every few seconds (the deadline, then the bounded drain of the rest of the
        # body), and the health check's turn comes.
        health = requests.get(f"{narrow_server.base_url}/health", timeout=BODY_TIMEOUT * 15)
        assert health.status_code == 200, health.content
        token = requests.post(f"{narrow_server.base_url}/oauth/token", auth=narrow_server.credentials,
                              data={"grant_type": "client_credentials"}, timeout=BODY_TIMEOUT * 15)
        assert token.status_code == 200
        assert cut_off, "no slow client was cut off"
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=10)
    assert not any(client.is_alive() for client in clients)
