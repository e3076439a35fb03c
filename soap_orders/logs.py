"""Logging: one handler on stderr, JSON lines or human-readable text, every line tagged with the
id of the request being served and scrubbed of secrets (and of the row values a database error
may quote).

The request id lives in a context variable that the access log middleware
(:mod:`soap_orders.http.access_log`) sets for each request; :class:`RequestIdFilter` copies it onto
every record, so the application's own lines carry the same id as the request's access line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

#: The id of the request this thread is serving, or None outside a request.
current_request_id: ContextVar[str | None] = ContextVar("soap_orders_request_id", default=None)

#: Values of ``SOAP_ORDERS_LOG_FORMAT``; ``auto`` is text on a terminal, JSON otherwise.
LOG_FORMATS = ("auto", "json", "text")

REDACTED = "[REDACTED]"
_SECRET_WORDS = (
    r"password|passwd|pwd|secret|client_secret|secret_key|token|access_token|refresh_token|api_key|apikey|nonce"
)
#: (pattern, replacement) pairs applied to every message; defence in depth, since the code never
#: logs credentials on purpose.
_SCRUBBERS: tuple[tuple[re.Pattern[str], str], ...] = (
    # An Authorization header, quoted or not, whatever its scheme.
    (re.compile(r"(?i)((?<![A-Za-z])authorization\b[\"']?\s*[:=]\s*[\"']?)(?:[A-Za-z]+[ \t]+)?[^\s\"',}]+"), r"\1" + REDACTED),
    # Credentials after an HTTP auth scheme.
    (re.compile(r"(?i)\b(basic|bearer|digest)(\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1\2" + REDACTED),
    # key=value, key: value, "key": "value" for secret-looking keys.
    (re.compile(rf"(?i)((?<![A-Za-z])(?:{_SECRET_WORDS})\b[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}}]+"), r"\1" + REDACTED),
    # WS-Security password and nonce elements.
    (re.compile(r"(?is)(<(?:[\w.-]+:)?(?:Password|Nonce)\b[^>]*>)[^<]*"), r"\1" + REDACTED),
    # user:password@ in URLs.
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), r"\1" + REDACTED + "@"),
    # The DETAIL line of a PostgreSQL error, which quotes the values of the row or key at fault
    # ("Failing row contains (...)", "Key (...)=(...) already exists"): a customer's email, name or
    # address. (Statements' own values never reach an error's text: the engines hide them.)
    (re.compile(r"(?m)^(DETAIL:[ \t]*).*$"), r"\1" + REDACTED),
)


#: Every scrubber needs one of these words in the text: most log values (paths, operation and
#: client names, addresses) have none, and are left alone after one search instead of five.
_MAY_HOLD_A_SECRET = re.compile(rf"(?i)authorization|basic|bearer|digest|{_SECRET_WORDS}|password|nonce|://|DETAIL:")


def scrub(text: str) -> str:
    """``text`` with anything that looks like a credential, or a database error's quoted row,
    replaced by ``[REDACTED]``."""
    if not _MAY_HOLD_A_SECRET.search(text):
        return text
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or ``-``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id.get() or "-"
        return True


class ScrubFilter(logging.Filter):
    """Replaces credentials in a record's message, traceback and fields before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {key: scrub(value) if isinstance(value, str) else value for key, value in fields.items()}
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message, then the record's
    ``fields`` (the access log's client, operation, status, ...) and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or current_request_id.get() or "-",
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


#: Access-line fields shown by the text format, in this order, as key=value.
_TEXT_FIELDS = ("operation", "outcome", "fault_code", "error_code", "client", "address", "duration_ms")


class TextFormatter(logging.Formatter):
    """Human-readable: ``time LEVEL logger [request id] message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or current_request_id.get() or "-"
        text = f"{_timestamp(record)} {record.levelname:<7} {record.name} [{request_id}] {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            text += "".join(f" {key}={fields[key]}" for key in _TEXT_FIELDS if fields.get(key) not in (None, ""))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


def resolve_format(log_format: str, stream: Any = None) -> str:
    """``json`` or ``text``: ``auto`` means text when ``stream`` (stderr) is a terminal."""
    if log_format in ("json", "text"):
        return log_format
    stream = sys.stderr if stream is None else stream
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def make_formatter(log_format: str = "auto") -> logging.Formatter:
    return TextFormatter() if resolve_format(log_format) == "text" else JsonFormatter()


def formatter_from_env() -> logging.Formatter:
    """The formatter ``SOAP_ORDERS_LOG_FORMAT`` asks for (used by gunicorn's logging config)."""
    import os

    return make_formatter(os.environ.get("SOAP_ORDERS_LOG_FORMAT", "auto").strip().lower() or "auto")


def install_filters(handler: logging.Handler) -> logging.Handler:
    """Give ``handler`` the request id and scrubbing filters (once)."""
    for kind in (RequestIdFilter, ScrubFilter):
        if not any(isinstance(f, kind) for f in handler.filters):
            handler.addFilter(kind())
    return handler


_HANDLER_NAME = "soap_orders"


def configure(level: str = "INFO", log_format: str = "auto", stream: Any = None) -> logging.Handler:
    """Route every log record to one stderr handler with the chosen format and the filters.
    Calling it again replaces the handler it installed before (and nothing else)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    # Neither format shows where a line was logged from, or the thread and process: skip looking
    # them up for every record (the logging HOWTO's "Optimization"), which the access log's one
    # line per request would otherwise pay for.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(TextFormatter() if resolve_format(log_format, handler.stream) == "text" else JsonFormatter())
    install_filters(handler)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    return handler
