"""Where a request's time goes: each benchmarked call sent through the whole web application in
this process (access log, metrics, endpoint, use case, database), first timed, then under cProfile.

The server's figures include what HTTP and gunicorn cost (the floor shows how much); these show
what the service itself does with a request, function by function, so that a target the load
misses comes with where its time is spent.
"""

from __future__ import annotations

import cProfile
import io
import itertools
import logging
import os
import pstats
import threading
import time
from dataclasses import dataclass
from typing import Any

from .load import Call

REQUESTS = 200
TOP = 10


@dataclass(frozen=True)
class Hotspot:
    function: str
    own_share: float  # of the profiled time, in the function itself
    total_share: float  # of the profiled time, in it and what it calls


@dataclass(frozen=True)
class Profile:
    call: str
    target: str
    cpu_ms: float  # per request, timed without the profiler
    hotspots: tuple[Hotspot, ...]
    #: The service's own functions with the most time in them and what they call: its layers.
    layers: tuple[Hotspot, ...] = ()
    #: CPU ms per request with the requests sent from this many threads at once (1, 2, 8).
    threaded_cpu_ms: tuple[tuple[int, float], ...] = ()
    #: SQL statements sent to the database per request (counted in the timed run).
    statements: float = 0.0
    #: The statements of one request, in the order sent (their first line, shortened).
    one_request: tuple[str, ...] = ()
    #: Every function, the service's or not, by the time spent in it and what it calls.
    cumulative: tuple[Hotspot, ...] = ()
    #: Python function calls per request in the profiled run: the work done, free of what the
    #: rest of the machine does to the timings.
    function_calls: float = 0.0


#: Thread counts the same requests are sent from, to show what sharing the interpreter costs.
THREADS = (1, 2, 8)


def _short(filename: str, line: int, name: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return name.strip("<>")
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("site-packages", "soap_orders"):
        if anchor in parts:
            index = parts.index(anchor)
            parts = parts[index + 1:] if anchor == "site-packages" else parts[index:]
            break
    else:
        parts = parts[-2:]
    return f"{'/'.join(parts)}:{line}({name})"


def _threaded_cpu_ms(one: Any, count: int) -> float:
    """CPU per request when ``count`` threads send requests at once (as a server's threads do)."""
    each = max(REQUESTS // count, 1)

    def work() -> None:
        for _ in range(each):
            one()

    threads = [threading.Thread(target=work) for _ in range(count)]
    started = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 1000 * (time.process_time() - started) / (each * count)


def _statement(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 100 else one_line[:97] + "..."


def profile_calls(database_url: str, target: str, calls: list[Call], authorization: str, run_token: str,
                  names: tuple[str, ...] | None = None, threads: bool = True,
                  requests: int = REQUESTS, cpu_timer: bool = False, layers: int = TOP,
                  settings: dict[str, Any] | None = None) -> list[Profile]:
    """Profile ``calls`` (those named in ``names``, or all) against ``database_url``; with
    ``threads``, also time them sent from several threads at once. The profile counts the time
    that passes (waits on the database included), or with ``cpu_timer`` this process's CPU time.
    ``settings`` are the application's settings beyond the tests' defaults."""
    from sqlalchemy import event

    from soap_orders import logs
    from soap_orders.bootstrap import build_dependencies, create_wsgi_app
    from tests.server import settings_for_tests

    # Access lines are written, as in production, to a file nobody reads.
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the profile
    handler = logs.configure("INFO", "json", stream=sink)
    configured = settings_for_tests(database_url, **{"auth_cache_seconds": 5, **(settings or {})})
    deps = build_dependencies(configured)
    app = create_wsgi_app(configured, dependencies=deps)
    counter = itertools.count()
    profiles = []
    sent: list[str] = []

    def count_statement(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(deps.engine, "before_cursor_execute", count_statement)
    try:
        for call in calls:
            if names is not None and call.name not in names:
                continue
            bodies = itertools.cycle(call.bodies)

            def one(call: Call = call, bodies: Any = bodies) -> None:
                body = next(bodies)
                if call.request_id_marker:
                    body = body.replace(call.request_id_marker, f"profile-{run_token}-{next(counter)}")
                data = body.encode()
                environ = {
                    "REQUEST_METHOD": "POST", "PATH_INFO": call.path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                    "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
                    "CONTENT_TYPE": call.content_type, "CONTENT_LENGTH": str(len(data)),
                    "wsgi.input": io.BytesIO(data), "HTTP_AUTHORIZATION": authorization,
                }
                status: list[str] = []
                answer = app(environ, lambda s, h, e=None: status.append(s))
                try:
                    text = b"".join(answer)
                finally:
                    getattr(answer, "close", lambda: None)()
                if not status[0].startswith("200") or (call.expect and call.expect.encode() not in text):
                    raise RuntimeError(f"{call.name} answered {status[0]} in process: {text[:300]!r}")

            for _ in range(20):  # warm: connections, caches, the credential check
                one()
            sent.clear()
            one()
            one_request = tuple(_statement(text) for text in sent)
            sent.clear()
            started = time.process_time()
            for _ in range(requests):
                one()
            cpu_ms = 1000 * (time.process_time() - started) / requests
            statements = len(sent) / requests
            threaded = tuple((count, _threaded_cpu_ms(one, count)) for count in THREADS) if threads else ()
            profiler = cProfile.Profile(time.process_time) if cpu_timer else cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                one()
            profiler.disable()
            stats = pstats.Stats(profiler)
            entries = stats.stats  # type: ignore[attr-defined]
            total = sum(own for (_, _, own, _, _) in entries.values()) or 1.0
            ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
            ranked_cumulative = sorted(entries.items(), key=lambda item: item[1][3], reverse=True)[:3 * TOP]
            ours = sorted(((key, value) for key, value in entries.items() if "soap_orders" in key[0]),
                          key=lambda item: item[1][3], reverse=True)[:layers]
            profiles.append(Profile(
                call.name, target, cpu_ms,
                tuple(Hotspot(_short(*key), own / total, cumulative / total)
                      for key, (_, _, own, cumulative, _) in ranked),
                tuple(Hotspot(_short(*key), own / total, cumulative / total)
                      for key, (_, _, own, cumulative, _) in ours),
                threaded, statements, one_request,
                tuple(Hotspot(_short(*key), own / total, cumulative / total)
                      for key, (_, _, own, cumulative, _) in ranked_cumulative),
                sum(calls for (calls, _, _, _, _) in entries.values()) / requests))
    finally:
        event.remove(deps.engine, "before_cursor_execute", count_statement)
        deps.engine.dispose()
        logging.getLogger().removeHandler(handler)
        sink.close()
    return profiles
