"""Every kind of error a caller can be answered with, declared once.

A kind is the machine ``ErrorCode`` a caller branches on, the SOAP ``faultcode`` it travels under,
the HTTP status of the JSON twin's answer, whether the same request may succeed when retried, and
what it means. The SOAP faults (``soap/faults.py``), the JSON twin's statuses
(``jsonapi/endpoint.py``) and the OpenAPI document's error responses (``jsonapi/openapi.py``) are
derived from this table; a domain error names its kind (``DomainError.kind``).

An error may carry a finer ``ErrorCode`` than its kind's (``INVALID_AMOUNT`` and ``SCHEMA_VIOLATION``
are validation errors): the code says what was wrong, the kind how the caller is answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorKind:
    #: The ``ErrorCode`` of an error of this kind that names no finer one.
    code: str
    #: The SOAP 1.1 ``faultcode`` (without the envelope's prefix).
    fault: str
    #: The HTTP status line of the JSON twin's answer.
    status: str
    #: Whether the same request may succeed later (``Retryable`` in every answer).
    retryable: bool
    #: What it means to the caller, as the OpenAPI document says it.
    description: str
    #: Whether the OpenAPI document lists it among an operation's error responses.
    documented: bool = True
    #: The message of a kind the service answers with on its own (``{request_id}`` filled in).
    message: str = ""

    @property
    def status_code(self) -> int:
        return int(self.status.split(" ", 1)[0])


VALIDATION = ErrorKind(
    "VALIDATION_ERROR", "Client.ValidationError", "400 Bad Request", False,
    "The request is not valid: a field's form, a combination of fields, or the JSON itself.")
AUTHENTICATION_FAILED = ErrorKind(
    "AUTHENTICATION_FAILED", "Client.AuthenticationFailed", "401 Unauthorized", False,
    "No credentials, or credentials that failed (one message for every case).")
FORBIDDEN = ErrorKind(
    "FORBIDDEN", "Client.Forbidden", "403 Forbidden", False,
    "The client lacks the operation's scope, or calls from an address it may not use.")
ORDER_NOT_FOUND = ErrorKind(
    "ORDER_NOT_FOUND", "Client.OrderNotFound", "404 Not Found", False,
    "No order has that number (or the Email given does not match it).")
SUBSCRIPTION_NOT_FOUND = ErrorKind(
    "SUBSCRIPTION_NOT_FOUND", "Client.SubscriptionNotFound", "404 Not Found", False,
    "No subscription has that id (or the Email given does not match it).")
IDEMPOTENCY_CONFLICT = ErrorKind(
    "IDEMPOTENCY_CONFLICT", "Client.IdempotencyConflict", "409 Conflict", False,
    "The RequestId was used before with different parameters.")
RATE_LIMITED = ErrorKind(
    "RATE_LIMITED", "Client.RateLimited", "429 Too Many Requests", True,
    "Too many failed authentications; retry after the Retry-After seconds.")
VERSION_MISMATCH = ErrorKind(
    "VERSION_MISMATCH", "VersionMismatch", "500 Internal Server Error", False,
    "A SOAP 1.2 (or other) envelope; the endpoint speaks SOAP 1.1.", documented=False)
MUST_UNDERSTAND = ErrorKind(
    "MUST_UNDERSTAND", "MustUnderstand", "500 Internal Server Error", False,
    'A header marked mustUnderstand="1" that the service does not process.', documented=False)
UNAVAILABLE = ErrorKind(
    "UNAVAILABLE", "Server.Unavailable", "503 Service Unavailable", True,
    "The service is temporarily unavailable; retry.",
    message="The service is temporarily unavailable; retry shortly.")
INTERNAL_ERROR = ErrorKind(
    "INTERNAL_ERROR", "Server.InternalError", "500 Internal Server Error", True,
    "An unexpected error; it is logged under the request id its message carries.", documented=False,
    message="An internal error occurred (request id {request_id}). It has been logged.")

# The front door's refusals of a request it cannot read: validation errors with their own status.
NOT_FOUND = ErrorKind(
    "NOT_FOUND", "Client.ValidationError", "404 Not Found", False,
    "No such operation (or endpoint).")
METHOD_NOT_ALLOWED = ErrorKind(
    "METHOD_NOT_ALLOWED", "Client.ValidationError", "405 Method Not Allowed", False,
    "The path does not take that HTTP method.", documented=False)
REQUEST_TIMEOUT = ErrorKind(
    "REQUEST_TIMEOUT", "Client.ValidationError", "408 Request Timeout", False,
    "The body did not arrive within the time limit.", documented=False)
PAYLOAD_TOO_LARGE = ErrorKind(
    "PAYLOAD_TOO_LARGE", "Client.ValidationError", "413 Payload Too Large", False,
    "The body is larger than the limit.")
UNSUPPORTED_MEDIA_TYPE = ErrorKind(
    "UNSUPPORTED_MEDIA_TYPE", "Client.ValidationError", "415 Unsupported Media Type", False,
    "The body is not application/json.")

#: Every kind, each once.
KINDS: tuple[ErrorKind, ...] = (
    VALIDATION, AUTHENTICATION_FAILED, FORBIDDEN, ORDER_NOT_FOUND, SUBSCRIPTION_NOT_FOUND,
    IDEMPOTENCY_CONFLICT, RATE_LIMITED, VERSION_MISMATCH, MUST_UNDERSTAND, UNAVAILABLE, INTERNAL_ERROR,
    NOT_FOUND, METHOD_NOT_ALLOWED, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
)

#: What a status shared by several documented kinds means, in one sentence for all of them.
SHARED_STATUSES: dict[str, str] = {
    "404 Not Found": "The order or subscription is not found (or the Email given does not match it), "
                     "or no such operation.",
}


def documented_statuses() -> dict[int, str]:
    """The error responses of every JSON operation, by HTTP status: what each means."""
    by_status: dict[str, list[ErrorKind]] = {}
    for kind in KINDS:
        if kind.documented:
            by_status.setdefault(kind.status, []).append(kind)
    return {
        int(status.split(" ", 1)[0]): kinds[0].description if len(kinds) == 1 else SHARED_STATUSES[status]
        for status, kinds in sorted(by_status.items())
    }
