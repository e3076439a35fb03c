"""Small pieces of the HTTP edge that keep clients able to read every answer: the HTTP status a
refused SOAP call gets, closing a connection whose request body was not read without losing the
answer, and the gunicorn adjustments these need (installed in each worker by contrib/gunicorn.conf.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

from ..domain.errors import AuthenticationFailed, DomainError, Forbidden, RateLimited
from .credentials import CHALLENGES

#: At most this much of an unread request body is read (and dropped) before the connection is closed.
DRAIN_LIMIT = 4 * 1024 * 1024
#: ... and for at most this long.
DRAIN_SECONDS = 3.0
#: A chunk-size line above this is refused at once (400) rather than waited for.
MAX_CHUNK_SIZE = 2**31 - 1


def soap_refusal(error: DomainError) -> tuple[str, list[tuple[str, str]]]:
    """Status and headers of a refused POST to the SOAP endpoint that carried credentials: a fault
    on HTTP 500, as WS-I Basic Profile 1.1 R1126 asks, so every client reads it; with Retry-After
    when rate limited. (A call with no credentials at all gets ``no_credentials()`` instead.)"""
    if isinstance(error, RateLimited):
        return "500 Internal Server Error", [("Retry-After", str(error.retry_after))]
    return "500 Internal Server Error", []


def no_credentials() -> tuple[str, list[tuple[str, str]]]:
    """A SOAP call that carried no credentials at all: the HTTP challenge."""
    return "401 Unauthorized", list(CHALLENGES)


def refusal_status(error: DomainError) -> tuple[str, list[tuple[str, str]]]:
    """Status and headers of a refusal outside SOAP calls (the private WSDL, the global allowlist
    on other paths): plain HTTP semantics."""
    if isinstance(error, AuthenticationFailed):
        return "401 Unauthorized", list(CHALLENGES)
    if isinstance(error, RateLimited):
        return "429 Too Many Requests", [("Retry-After", str(error.retry_after))]
    if isinstance(error, Forbidden):
        return "403 Forbidden", []
    return "500 Internal Server Error", []


class ClosingBody:
    """A response body after which the connection is closed cleanly: once the server has sent the
    answer (WSGI calls ``close`` then), the socket is shut for writing and what is left of the
    request body is read and dropped, a bounded amount, so the kernel does not reset the
    connection under the client before it has read the answer. The answer carries
    ``Connection: close`` (see ``honour_connection_close``)."""

    def __init__(self, body: list[bytes], sock: Any, *, limit: int = DRAIN_LIMIT, seconds: float = DRAIN_SECONDS) -> None:
        self.body = body
        self.sock = sock
        self.limit = limit
        self.seconds = seconds

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        if self.sock is not None:
            drain(self.sock, self.limit, self.seconds)


def drain(sock: Any, limit: int, seconds: float) -> int:
    """Shut ``sock`` for writing, then read and drop up to ``limit`` bytes for up to ``seconds``,
    until the peer closes. Returns the number of bytes dropped."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return 0
    deadline = time.monotonic() + seconds
    dropped = 0
    previous = sock.gettimeout()
    try:
        while dropped < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            data = sock.recv(min(65536, limit - dropped))
            if not data:
                break
            dropped += len(data)
    except OSError:
        pass
    finally:
        try:
            sock.settimeout(previous)
        except OSError:
            pass
    return dropped


#: The header of an answer after which the connection is closed.
CONNECTION_CLOSE = ("Connection", "close")


def closing(environ: dict[str, Any], body: list[bytes]) -> ClosingBody | list[bytes]:
    """``body``, closed cleanly after it is sent when a server socket is at hand (gunicorn)."""
    sock = environ.get("gunicorn.socket")
    return ClosingBody(body, sock) if sock is not None else body


# ---------------------------------------------------------------------- gunicorn adjustments


def honour_connection_close() -> None:
    """gunicorn drops an application's ``Connection`` header and keeps the connection alive; make
    ``Connection: close`` from the application close it (and say so in the answer)."""
    from gunicorn.http import wsgi

    original = wsgi.Response.process_headers
    if getattr(original, "_soap_orders", False):
        return

    def process_headers(self: Any, headers: list[tuple[str, str]]) -> None:
        original(self, headers)
        if any(name.lower() == "connection" and value.strip().lower() == "close" for name, value in headers):
            self.force_close()

    process_headers._soap_orders = True  # type: ignore[attr-defined]
    wsgi.Response.process_headers = process_headers


def bound_chunk_sizes(limit: int = MAX_CHUNK_SIZE) -> None:
    """Refuse a chunk-size line naming an absurd size at once (gunicorn would otherwise wait for
    the bytes until the body timeout)."""
    from gunicorn.http import body
    from gunicorn.http.errors import InvalidChunkSize

    original = body.ChunkedReader.parse_chunk_size
    if getattr(original, "_soap_orders", False):
        return

    def parse_chunk_size(self: Any, unreader: Any, data: Any = None) -> Any:
        size, rest = original(self, unreader, data)
        if size > limit:
            raise InvalidChunkSize(b"chunk size over the limit")
        return size, rest

    parse_chunk_size._soap_orders = True  # type: ignore[attr-defined]
    body.ChunkedReader.parse_chunk_size = parse_chunk_size


def install_gunicorn_adjustments() -> None:
    """Everything above, in a gunicorn worker (called from its post_worker_init)."""
    honour_connection_close()
    bound_chunk_sizes()
