"""Reading a request body whole, within a size limit and a time limit, chunked or not."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..domain.error_kinds import PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT, VALIDATION


class BodyError(Exception):
    """The body could not be taken; ``status`` and ``code`` say how to answer."""

    status = VALIDATION.status
    code = "BAD_HTTP_REQUEST"


class BodyTooLarge(BodyError):
    status = PAYLOAD_TOO_LARGE.status
    code = PAYLOAD_TOO_LARGE.code


class BodyTooSlow(BodyError):
    status = REQUEST_TIMEOUT.status
    code = REQUEST_TIMEOUT.code


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

    watch = WATCHDOG.watch(timeout, expire)
    try:
        body = _read(environ, max_body)
    except Exception as error:  # a short read, or the server's body reader: bad chunking, reset connection
        if expired.is_set():
            raise BodyTooSlow() from None
        if isinstance(error, BodyError):
            raise
        raise BodyUnreadable(type(error).__name__) from None
    finally:
        WATCHDOG.cancel(watch)
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


class Watchdog:
    """Calls each watched request's ``expire`` when its time is up, from one thread per process
    (started on first use, and again in a forked child), instead of a timer thread per request.

    Deadlines are kept in insertion order per timeout, which for one timeout is deadline order:
    watching and cancelling are a dictionary insert and delete, and the thread sleeps until the
    oldest deadline still watched. It is woken only for a deadline earlier than the one it sleeps
    until, so under steady traffic it wakes about once per timeout, not once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[float, OrderedDict[int, tuple[float, Callable[[], None]]]] = {}
        self._next = 0
        self._owner = 0  # the process whose thread runs
        self._generation = 0  # which thread is current (a newer one replaces it after a fork)
        self._wake_at = float("inf")  # when the thread will look again

    def watch(self, timeout: float, expire: Callable[[], None]) -> tuple[float, int]:
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._owner != os.getpid():
                self._start()
            self._next += 1
            self._pending.setdefault(timeout, OrderedDict())[self._next] = (deadline, expire)
            if deadline < self._wake_at:
                self._wake_at = deadline
                self._changed.notify_all()  # the thread sleeps longer than this deadline
            return timeout, self._next

    def cancel(self, watch: tuple[float, int]) -> None:
        timeout, key = watch
        with self._lock:
            queue = self._pending.get(timeout)
            if queue is not None:
                queue.pop(key, None)

    def _start(self) -> None:
        # After a fork only the forking thread exists: what the parent was watching is not ours.
        self._pending = {}
        self._owner = os.getpid()
        self._generation += 1
        self._wake_at = float("inf")
        threading.Thread(target=self._run, args=(self._generation,), name="soap-orders-body-deadlines",
                         daemon=True).start()

    def _run(self, generation: int) -> None:
        while True:
            due: list[Callable[[], None]] = []
            with self._lock:
                if self._generation != generation:
                    return
                now = time.monotonic()
                earliest: float | None = None
                for queue in self._pending.values():
                    while queue:
                        key, (deadline, expire) = next(iter(queue.items()))
                        if deadline > now:
                            earliest = deadline if earliest is None else min(earliest, deadline)
                            break
                        del queue[key]
                        due.append(expire)
                if not due:
                    self._wake_at = float("inf") if earliest is None else earliest
                    self._changed.wait(None if earliest is None else earliest - now)
                    continue
            for expire in due:
                try:
                    expire()
                except Exception:  # noqa: BLE001 - one request's expiry must not stop the others'
                    pass


#: The process's watchdog for request bodies.
WATCHDOG = Watchdog()
