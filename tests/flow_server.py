"""A fake Flow Execution API on 127.0.0.1 for relay tests and the relay benchmark.

It records every request (time, headers, JSON body) and answers 200 unless told otherwise: a queue
of scripted answers is used first, one per request (``fail(500, times=2)``, ``stall(2.0)``,
``hold()``, ``rate_limit(1)``, ``reject(400, "bad flow")``). It also notes when one ``external_id`` arrives while
an earlier request with the same id is still being answered (two senders at once).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = '{"status": "accepted"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: Answered only once this is set (or the server stops): a request held in hand for as long
    #: as a test needs, whatever the machine's speed.
    until: threading.Event | None = None


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the request arrived
    path: str
    headers: dict[str, str]
    body: Any
    status: int  # what it was answered (or would have been, had the client waited)

    @property
    def external_id(self) -> str:
        return str(self.body["external_id"])


class FlowServer:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.default = Answer(delay=delay)
        self.received: list[Received] = []
        self.overlaps: list[str] = []
        self._script: list[Answer] = []
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ scripting

    def then(self, *answers: Answer) -> FlowServer:
        with self._lock:
            self._script.extend(answers)
        return self

    def fail(self, status: int = 500, times: int = 1) -> FlowServer:
        return self.then(*[Answer(status, '{"error": "server trouble"}')] * times)

    def stall(self, seconds: float, times: int = 1) -> FlowServer:
        return self.then(*[Answer(delay=seconds)] * times)

    def hold(self, after: int = 0) -> threading.Event:
        """Hold back the answer to the request ``after`` requests from now (the next one by default)
        until the returned event is set; those before it are answered as usual."""
        gate = threading.Event()
        self.then(*[self.default] * after, Answer(until=gate))
        return gate

    def rate_limit(self, retry_after: str, times: int = 1) -> FlowServer:
        return self.then(*[Answer(429, '{"error": "slow down"}', {"Retry-After": retry_after})] * times)

    def reject(self, status: int = 400, body: str = '{"error": "invalid action_id"}') -> FlowServer:
        return self.then(Answer(status, body))

    # ------------------------------------------------------------------ reading

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.body for r in self.received]

    def ids(self) -> list[str]:
        with self._lock:
            return [r.external_id for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FlowServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _next_answer(self) -> Answer:
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # answer at once, not after the client's delayed ACK

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                    external_id = str(body.get("external_id"))
                except (ValueError, AttributeError):
                    body, external_id = raw.decode(errors="replace"), ""
                answer = server._next_answer()
                with server._lock:
                    if server._in_flight[external_id]:
                        server.overlaps.append(external_id)
                    server._in_flight[external_id] += 1
                    server.received.append(
                        Received(arrived, self.path, dict(self.headers.items()), body, answer.status)
                    )
                try:
                    if answer.delay:
                        server._stopping.wait(answer.delay)
                    while answer.until is not None and not (answer.until.wait(0.05) or server._stopping.is_set()):
                        pass
                    payload = answer.body.encode()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout)
                finally:
                    with server._lock:
                        server._in_flight[external_id] -= 1

        return Handler
