"""Log formatting, request ids, scrubbing and the access log middleware, without a server."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soap_orders import logs
from soap_orders.http.access_log import AccessLog, note, note_fault
from soap_orders.soap.faults import OrderNotFoundFault


@pytest.mark.parametrize("text, secret", [
    ("Authorization: Basic ZGVtbzpzM2NyZXQtdmFsdWU=", "ZGVtbzpzM2NyZXQtdmFsdWU="),
    ("headers={'HTTP_AUTHORIZATION': 'Bearer tok-abc-123456'}", "tok-abc-123456"),
    ("sending Bearer abcdefghijkl to upstream", "abcdefghijkl"),
    ("password=hunter2-hunter2 next", "hunter2-hunter2"),
    ('{"client_secret": "s3cr3t-v4lue", "grant_type": "client_credentials"}', "s3cr3t-v4lue"),
    ("refresh_token=rt-0123456789&grant_type=refresh_token", "rt-0123456789"),
    ('<wsse:Password Type="#PasswordText">pa55-w0rd</wsse:Password>', "pa55-w0rd"),
    ("<Nonce>bm9uY2UtdmFsdWU=</Nonce>", "bm9uY2UtdmFsdWU="),
    ("postgresql://app:db-pa55@db.internal/orders", "db-pa55"),
    ("SOAP_ORDERS_SECRET_KEY=abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789"),
    ('(psycopg.errors.NotNullViolation) null value in column "order_number" violates not-null constraint\n'
     "DETAIL:  Failing row contains (7, null, ann.lee@example.com, Ann, Lee).\n[SQL: INSERT ...]", "ann.lee@example.com"),
    ("(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint\n"
     "DETAIL:  Key (customer_email)=(Ann.Lee@example.com) already exists.", "Ann.Lee@example.com"),
])
def test_scrub_removes_credentials(text, secret):
    scrubbed = logs.scrub(text)
    assert secret not in scrubbed
    assert logs.REDACTED in scrubbed


_FRAGMENTS = ("Authorization", "authorization: ", "Basic ", "bearer\t", "Digest ", "password=", "PWD: ",
              "client_secret\": \"", "token=", "api_key:", "<wsse:Password>", "<Nonce a='1'>", "</x>",
              "https://u:", "@host/", "://", " ", "=", ":", '"', "'", "abcdef123456", "SO-1", "\n", "}",
              "DETAIL:  ", "DETAIL: Failing row contains (")


@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=8)), max_size=12))
def test_scrub_skips_only_texts_no_scrubber_would_change(parts):
    """The quick check before the scrubbers never lets through what one of them would redact."""
    text = "".join(parts)
    slow = text
    for pattern, replacement in logs._SCRUBBERS:
        slow = pattern.sub(replacement, slow)
    assert logs.scrub(text) == slow


def test_scrub_leaves_ordinary_lines_alone():
    line = "request abc: protocol fault Client.SchemaValidationError; order SO-100001 cancelled"
    assert logs.scrub(line) == line


def capture(log_format: str) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter(log_format))
    logs.install_filters(handler)
    logger = logging.getLogger(f"tests.logs.{log_format}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream, handler


def test_json_lines_carry_the_current_request_id_and_are_scrubbed():
    logger, stream, _ = capture("json")
    token = logs.current_request_id.set("rid-42")
    try:
        logger.info("login with %s", "password=letmein-please")
    finally:
        logs.current_request_id.reset(token)
    outside = logs.current_request_id.set(None)
    try:
        logger.warning("outside a request")
    finally:
        logs.current_request_id.reset(outside)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "rid-42" and first["level"] == "INFO" and first["logger"] == "tests.logs.json"
    assert "letmein-please" not in first["message"] and logs.REDACTED in first["message"]
    assert second["request_id"] == "-"


def test_tracebacks_are_scrubbed():
    logger, stream, _ = capture("json")
    try:
        raise ValueError("bad Authorization: Basic c2VjcmV0LXZhbHVl")
    except ValueError:
        logger.exception("failed")
    line = json.loads(stream.getvalue())
    assert "ValueError" in line["exception"] and "c2VjcmV0LXZhbHVl" not in line["exception"]


def test_text_format_is_one_readable_line():
    logger, stream, _ = capture("text")
    token = logs.current_request_id.set("rid-7")
    try:
        logger.info("GET /health 200", extra={"fields": {"operation": None, "client": "demo", "duration_ms": 1.5}})
    finally:
        logs.current_request_id.reset(token)
    text = stream.getvalue().strip()
    assert "INFO" in text and "[rid-7] GET /health 200" in text and "client=demo duration_ms=1.5" in text
    assert "operation" not in text


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_format_auto_is_text_on_a_terminal_and_json_elsewhere():
    assert logs.resolve_format("auto", _Tty()) == "text"
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("json", _Tty()) == "json"
    assert logs.resolve_format("text", io.StringIO()) == "text"


@pytest.fixture
def access_lines() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("soap_orders.access")
    handler = Keep()
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(previous)


def run(app, environ):  # type: ignore[no-untyped-def]
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = AccessLog(app, clock=iter([10.0, 10.25]).__next__)(environ, lambda s, h, e=None: started.append((s, h)))
    content = b"".join(body)
    body.close()
    return started[0], content


def test_middleware_logs_what_the_endpoint_noted(access_lines):
    seen_ids = []
    before = logs.current_request_id.get()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        seen_ids.append((environ["soap_orders.request_id"], logs.current_request_id.get()))
        environ["soap_orders.address"] = "203.0.113.9"
        note(operation="GetOrder")
        note_fault(OrderNotFoundFault("No order matches."))
        start_response("500 Internal Server Error", [("Content-Type", "text/xml")])
        return [b"<fault/>"]

    (status, headers), content = run(app, {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "HTTP_X_REQUEST_ID": "dg-1"})
    assert seen_ids == [("dg-1", "dg-1")]
    assert ("X-Request-Id", "dg-1") in headers and content == b"<fault/>"
    assert logs.current_request_id.get() == before  # restored once the response is closed
    (record,) = access_lines
    assert record.fields == {  # type: ignore[attr-defined]
        "method": "POST", "path": "/soap", "status": 500, "operation": "GetOrder", "outcome": None,
        "fault_code": "Client.OrderNotFound", "error_code": "ORDER_NOT_FOUND", "client": None,
        "address": "203.0.113.9", "duration_ms": 250.0,
    }


def test_middleware_generates_an_id_for_a_malformed_one(access_lines):
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        note(environ, operation="FindOrdersByEmail", outcome="OK", client="demo")
        start_response("200 OK", [("X-Request-Id", environ["soap_orders.request_id"])])
        return [b"ok"]

    (status, headers), _ = run(app, {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "HTTP_X_REQUEST_ID": "bad id\n"})
    ids = [value for name, value in headers if name.lower() == "x-request-id"]
    assert len(ids) == 1 and len(ids[0]) == 32 and ids[0] != "bad id\n"
    (record,) = access_lines
    assert record.request_id == ids[0]  # type: ignore[attr-defined]
    assert record.fields["outcome"] == "OK" and record.fields["client"] == "demo"  # type: ignore[attr-defined]


def test_middleware_logs_an_application_crash_as_500(access_lines):
    before = logs.current_request_id.get()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        AccessLog(app)({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, lambda *a: None)
    (record,) = access_lines
    assert record.fields["status"] == 500  # type: ignore[attr-defined]
    assert logs.current_request_id.get() == before
