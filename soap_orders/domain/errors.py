"""The domain's exceptions: one base class, data carried as attributes.

Messages are written for the person at the other end of a support conversation or an ERP log:
they name the field and the rule, never echo raw input back.
"""

from __future__ import annotations

from . import error_kinds
from .error_kinds import ErrorKind


class DomainError(Exception):
    """Base of every error the domain and the use cases raise on purpose."""

    #: Stable machine code, published as ``ErrorCode`` in faults: its kind's, unless the class
    #: names a finer one.
    code = "DOMAIN_ERROR"
    #: How a caller is answered (error_kinds.py); None: the wire does not expect it, so it is an
    #: internal error there.
    kind: ErrorKind | None = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind is not None and "code" not in cls.__dict__ and "kind" in cls.__dict__:
            cls.code = cls.kind.code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """A request or record breaks a rule of the data (a field's form, a combination of fields)."""

    kind = error_kinds.VALIDATION

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidAmount(ValidationError):
    code = "INVALID_AMOUNT"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}.", field)


class InvalidCurrency(ValidationError):
    code = "INVALID_CURRENCY"

    def __init__(self, currency: object) -> None:
        # The offending value is not echoed; only its field is named.
        super().__init__("Currency is not an ISO 4217 currency code.", "Currency")
        del currency


class OrderNotFound(DomainError):
    """No order with that number (or not one belonging to the given email)."""

    kind = error_kinds.ORDER_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("No order matches that order number and email.")


class IdempotencyConflict(DomainError):
    """A RequestId was used before with other parameters or for another operation."""

    kind = error_kinds.IDEMPOTENCY_CONFLICT

    def __init__(self) -> None:
        super().__init__(
            "This RequestId was already used with different parameters; use a new RequestId."
        )


class AuthenticationFailed(DomainError):
    """Credentials missing, unknown, wrong, expired or replayed. One message for every case, so a
    caller cannot tell an unknown client from a wrong secret."""

    kind = error_kinds.AUTHENTICATION_FAILED

    def __init__(self, reason: str = "credentials") -> None:
        super().__init__("Authentication failed.")
        #: Why, for the log only: never sent to the caller.
        self.reason = reason


class GrantRefused(DomainError):
    """An authenticated client presented a refresh token that is not (or no longer) one of its
    own: unknown, expired, or already exchanged. Not a failed authentication: the client proved
    its secret, so it is not counted towards the failure limit."""

    code = "INVALID_GRANT"

    def __init__(self, reason: str = "refresh token") -> None:
        super().__init__("The refresh token is invalid, expired or already used.")
        #: Why, for the log only: never sent to the caller.
        self.reason = reason


class Forbidden(DomainError):
    """The caller is known but may not do this (scope or address)."""

    kind = error_kinds.FORBIDDEN


class RateLimited(DomainError):
    """Too many failed attempts from one client or address; retry later."""

    kind = error_kinds.RATE_LIMITED

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts; retry in {retry_after} seconds.")
        self.retry_after = retry_after


class SubscriptionNotFound(DomainError):
    """No subscription with that id (or not one belonging to the given email)."""

    kind = error_kinds.SUBSCRIPTION_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("No subscription matches that subscription id and email.")
