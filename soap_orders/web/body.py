"""Reading a request body whole, within a size limit and a time limit, chunked or not."""

from __future__ import annotations

import socket
import threading
from typing import Any


class BodyError(Exception):
    """The body could not be taken; ``status`` and ``code`` say how to answer."""

    status = "400 Bad Request"
    code = "BAD_HTTP_REQUEST"


class BodyTooLarge(BodyError):
    status = "413 Payload Too Large"
    code = "PAYLOAD_TOO_LARGE"


class BodyTooSlow(BodyError):
    status = "408 Request Timeout"
    code = "REQUEST_TIMEOUT"


class BodyTruncated(BodyError):
    code = "TRUNCATED_BODY"


class BodyUnreadable(BodyError):
    code = "BAD_HTTP_REQUEST"


def describe(error: BodyError, max_body: int, timeout: float) -> str:
    if isinstance(error, BodyTooLarge):
        return f"The request body is larger than the limit of {max_body} bytes."
    if isinstance(error, BodyTooSlow):
        return f"The request body did not arrive within {timeout:g} seconds."
    if isinstance(error, BodyTruncated):
        return "The request body is shorter than its Content-Length."
    return "The request body could not be read (bad chunked encoding or connection)."


def read_body(environ: dict[str, Any], max_body: int, timeout: float) -> bytes:
    """The whole body, giving up when it takes longer than ``timeout`` in all: a client that
    trickles bytes must not hold a worker thread for ever. Under gunicorn the read side of the
    socket is shut when the time is up, which ends the blocked read."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        try:
            return _read(environ, max_body)
        except BodyError:
            raise
        except Exception as error:
            raise BodyUnreadable(type(error).__name__) from None
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        body = _read(environ, max_body)
    except Exception as error:  # a short read, or the server's body reader: bad chunking, reset connection
        if expired.is_set():
            raise BodyTooSlow() from None
        if isinstance(error, BodyError):
            raise
        raise BodyUnreadable(type(error).__name__) from None
    finally:
        timer.cancel()
    if expired.is_set():
        raise BodyTooSlow()
    return body


def _read(environ: dict[str, Any], max_body: int) -> bytes:
    """The whole body; over the limit (declared or actual, chunked too) raises BodyTooLarge."""
    declared = environ.get("CONTENT_LENGTH", "")
    stream = environ["wsgi.input"]
    if declared.strip():
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length > max_body:
            raise BodyTooLarge()
        if length >= 0:
            data = stream.read(length) if length else b""
            if len(data) < length:
                raise BodyTruncated()
            return bytes(data)
    data = stream.read(max_body + 1)
    if len(data) > max_body:
        raise BodyTooLarge()
    return bytes(data)
