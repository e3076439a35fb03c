"""The floor: a WSGI application that answers every request with precomputed bytes.

Served by gunicorn with the service's own configuration (same worker class, workers, threads,
keep-alive, logger), it shows what HTTP alone costs on this machine. It reads each request
body, like the service, and answers with the bytes the service gave for the same path and body
(captured beforehand), or, when the body was not captured (the writing calls, whose ids never
repeat), for the same path and operation (the first element of a SOAP body), or the same path.

The captured answers come from the JSON file named by BENCH_FLOOR_RESPONSES:
{"by_body": [[path, body, status, headers, answer], ...], "by_operation": [[path, operation, status,
headers, answer], ...], "by_path": {path: [status, headers, answer]}}.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from .load import operation

Answer = tuple[str, list[tuple[str, str]], bytes]


def _load() -> tuple[dict[tuple[str, bytes], Answer], dict[tuple[str, bytes], Answer], dict[str, Answer]]:
    with open(os.environ["BENCH_FLOOR_RESPONSES"], encoding="utf-8") as handle:
        data = json.load(handle)

    def answer(status: str, headers: list[list[str]], body: str) -> Answer:
        encoded = body.encode()
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        return status, kept + [("Content-Length", str(len(encoded)))], encoded

    by_body = {(path, body.encode()): answer(status, headers, text) for path, body, status, headers, text in data["by_body"]}
    by_operation = {(path, name.encode()): answer(status, headers, text)
                    for path, name, status, headers, text in data.get("by_operation", [])}
    by_path = {path: answer(*value) for path, value in data["by_path"].items()}
    return by_body, by_operation, by_path


_BY_BODY, _BY_OPERATION, _BY_PATH = _load()
_MISSING: Answer = ("404 Not Found", [("Content-Length", "0")], b"")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    path = environ.get("PATH_INFO", "")
    status, headers, answer = (_BY_BODY.get((path, body)) or _BY_OPERATION.get((path, operation(body)))
                               or _BY_PATH.get(path) or _MISSING)
    start_response(status, headers)
    return [answer]
