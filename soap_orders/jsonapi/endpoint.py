"""``POST /json/<Operation>``: a JSON body of the request's fields in, the answer's fields out.

Errors are ``{"ErrorCode", "Message", "Retryable"}`` with a fitting HTTP status. Money is a
decimal string beside its currency, never a float; on input a JSON number is read exactly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..documents import records
from ..domain import error_kinds, errors
from ..http.access_log import note
from ..http.body import BodyError, describe, read_body
from ..http.connection import CONNECTION_CLOSE, closing
from ..http.credentials import CHALLENGES, http_principal
from ..operations import Call, Operation, Services, outcome_of
from ..service.auth import Authenticator

log = logging.getLogger("soap_orders.json")

StartResponse = Callable[..., Any]
PREFIX = "/json/"

class JsonRoute:
    def __init__(self, operations: Mapping[str, Operation], services: Services, authenticator: Authenticator, *,
                 max_body: int, body_timeout: float, unavailable_errors: tuple[type[BaseException], ...]) -> None:
        self.operations = operations
        self.services = services
        self.authenticator = authenticator
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.unavailable_errors = unavailable_errors

    def __call__(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        request_id = environ.get("soap_orders.request_id", "-")
        try:
            return self._serve(environ, respond)
        except errors.DomainError as error:
            if error.kind is not None:
                return refusal(respond, error)
            log.error("request %s: unmapped %s", request_id, type(error).__name__)
            return internal_error(respond, request_id)
        except self.unavailable_errors as error:
            log.warning("request %s: storage unavailable: %s", request_id, type(error).__name__)
            return unavailable(respond)
        except Exception:
            log.exception("request %s: unexpected error in %s", request_id, environ.get("PATH_INFO"))
            return internal_error(respond, request_id)

    def _serve(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        name = environ.get("PATH_INFO", "")[len(PREFIX):]
        operation = self.operations.get(name)
        if operation is None:
            return answer_kind(respond, error_kinds.NOT_FOUND,
                               "No such operation; see GET /openapi.json for the operations.")
        note(environ, operation=operation.name)
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            return answer_kind(respond, error_kinds.METHOD_NOT_ALLOWED, f"Use POST {PREFIX}{operation.name}.",
                               [("Allow", "POST")])
        principal = http_principal(environ, self.authenticator, environ.get("soap_orders.address"), required=True)
        assert principal is not None
        environ["soap_orders.principal"] = principal
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return answer_kind(respond, error_kinds.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json.")
        try:
            body = read_body(environ, self.max_body, self.body_timeout)
        except BodyError as error:
            message = describe(error, self.max_body, self.body_timeout)
            if error.code == "TRUNCATED_BODY":
                return answer_error(respond, error.status, error.code, message, False)
            # The rest of the body is unread (or unreadable): close the connection once the answer is sent.
            return closing(environ, answer_error(respond, error.status, error.code, message, False, [CONNECTION_CLOSE]))
        operation.authorize(principal)
        result = operation.invoke(Call.by(self.services, principal), parse_body(body))
        note(environ, outcome=outcome_of(result))
        return answer(respond, "200 OK", records.dump(operation.answer_document, result, as_text=True))


def parse_body(body: bytes) -> dict[str, Any]:
    """The request object: UTF-8 JSON, numbers read exactly, no key given twice."""
    try:
        value = records.read_json(body.decode("utf-8"), object_pairs_hook=_unique_keys)
        # "\ud800" escapes decode to lone surrogates, which are not text: refuse them here rather
        # than fail later, in the database driver or in writing the answer.
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except records.NumberOutOfRange:
        raise errors.ValidationError("The body holds a number too large or too small for any field.") from None
    except (UnicodeError, ValueError, RecursionError):
        raise errors.ValidationError("The body is not valid UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise errors.ValidationError("The body must be a JSON object of the request's fields.")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key")
        result[key] = value
    return result


def refusal(respond: StartResponse, error: errors.DomainError) -> list[bytes]:
    """The answer to a domain error of a kind callers are told about (``error.kind``)."""
    assert error.kind is not None
    headers: list[tuple[str, str]] = []
    if isinstance(error, errors.AuthenticationFailed):
        headers = list(CHALLENGES)
    elif isinstance(error, errors.RateLimited):
        headers = [("Retry-After", str(error.retry_after))]
    return answer_error(respond, error.kind.status, error.code, error.message, error.kind.retryable, headers)


def unavailable(respond: StartResponse) -> list[bytes]:
    return answer_kind(respond, error_kinds.UNAVAILABLE, error_kinds.UNAVAILABLE.message, [("Retry-After", "5")])


def internal_error(respond: StartResponse, request_id: str) -> list[bytes]:
    kind = error_kinds.INTERNAL_ERROR
    return answer_kind(respond, kind, kind.message.format(request_id=request_id))


def answer_kind(respond: StartResponse, kind: error_kinds.ErrorKind, message: str,
                headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    return answer_error(respond, kind.status, kind.code, message, kind.retryable, headers)


def answer_error(respond: StartResponse, status: str, code: str, message: str, retryable: bool,
                 headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    note(error_code=code)
    return answer(respond, status, {"ErrorCode": code, "Message": message, "Retryable": retryable}, headers)


def answer(respond: StartResponse, status: str, body: dict[str, Any],
           headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = records.answer_json(body).encode("utf-8")
    respond(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                     ("Cache-Control", "no-store"), *(headers or [])])
    return [data]
