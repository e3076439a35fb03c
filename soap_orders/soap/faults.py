"""SOAP faults of the contract, and the one table that maps errors onto them.

Every fault has a stable ``faultcode`` (``Client.X`` / ``Server.X``) and a detail of ``ErrorCode``,
``Message`` and ``Retryable``. Messages name the field and the rule in bounded words; they never
carry the raw input, a traceback or a file's content.
"""

from __future__ import annotations

from spyne import Fault

from ..documents.schema_errors import describe_schema_error
from ..domain import error_kinds, errors
from ..domain.error_kinds import ErrorKind
from .ns import TNS

#: The typed detail element every fault carries, declared in the WSDL as each operation's wsdl:fault.
DETAIL = f"{{{TNS}}}FaultDetail"


class OrdersFault(Fault):
    """Base of the contract's faults: one class per ``faultcode`` of domain/error_kinds.py."""

    kind: ErrorKind = error_kinds.INTERNAL_ERROR

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        self.message = message
        self.code = error_code or self.kind.code
        detail = {f"{{{TNS}}}{name}": value for name, value in self.fields.items()}
        super().__init__(faultcode=self.kind.fault, faultstring=message, detail={DETAIL: detail})

    @property
    def retryable(self) -> bool:
        return self.kind.retryable

    @property
    def fields(self) -> dict[str, str]:
        """The detail's fields, as the typed ``FaultDetail`` element carries them."""
        return {"ErrorCode": self.code, "Message": self.message, "Retryable": "true" if self.retryable else "false"}

    @classmethod
    def of(cls, kind: ErrorKind, message: str) -> OrdersFault:
        """A fault of ``kind`` (its faultcode's class, with the kind's code)."""
        return FAULTS[kind.fault](message, error_code=kind.code)


class ValidationFault(OrdersFault):
    kind = error_kinds.VALIDATION


class OrderNotFoundFault(OrdersFault):
    kind = error_kinds.ORDER_NOT_FOUND


class SubscriptionNotFoundFault(OrdersFault):
    kind = error_kinds.SUBSCRIPTION_NOT_FOUND


class IdempotencyConflictFault(OrdersFault):
    kind = error_kinds.IDEMPOTENCY_CONFLICT


class AuthenticationFailedFault(OrdersFault):
    kind = error_kinds.AUTHENTICATION_FAILED


class ForbiddenFault(OrdersFault):
    kind = error_kinds.FORBIDDEN


class RateLimitedFault(OrdersFault):
    kind = error_kinds.RATE_LIMITED


class VersionMismatchFault(OrdersFault):
    """A SOAP 1.2 (or other) envelope sent to this SOAP 1.1 endpoint."""

    kind = error_kinds.VERSION_MISMATCH


class MustUnderstandFault(OrdersFault):
    """A header marked mustUnderstand="1" that this service does not process."""

    kind = error_kinds.MUST_UNDERSTAND


class UnavailableFault(OrdersFault):
    kind = error_kinds.UNAVAILABLE

    def __init__(self, message: str = error_kinds.UNAVAILABLE.message) -> None:
        super().__init__(message)


class InternalErrorFault(OrdersFault):
    kind = error_kinds.INTERNAL_ERROR

    def __init__(self, request_id: str) -> None:
        super().__init__(self.kind.message.format(request_id=request_id))


#: The fault class of each ``faultcode``, derived from the classes above.
FAULTS: dict[str, type[OrdersFault]] = {fault.kind.fault: fault for fault in OrdersFault.__subclasses__()}


def fault_for(error: errors.DomainError) -> OrdersFault | None:
    """The fault a domain error becomes (its kind's), or None when its kind is not for callers."""
    if error.kind is None:
        return None
    return FAULTS[error.kind.fault](error.message, error_code=error.code)


# ---------------------------------------------------------------------- protocol errors

def from_protocol_fault(fault: Fault) -> OrdersFault:
    """Turn one of spyne's own faults (schema, syntax, routing) into a contract fault."""
    code = str(fault.faultcode or "")
    text = str(fault.faultstring or "")
    if code.endswith("SchemaValidationError"):
        if "No matching global declaration" in text:
            return ValidationFault("The body does not name an operation of this service.", error_code="UNKNOWN_OPERATION")
        return ValidationFault(describe_schema_error(text), error_code="SCHEMA_VIOLATION")
    if code.endswith("XMLSyntaxError"):
        return ValidationFault("The request is not well-formed XML.", error_code="MALFORMED_XML")
    if code.endswith("ResourceNotFound") or code.endswith("MethodNotFound"):
        return ValidationFault("The body does not name an operation of this service.", error_code="UNKNOWN_OPERATION")
    if code.startswith("Client"):
        return ValidationFault("The request does not match the operation's schema.", error_code="SCHEMA_VIOLATION")
    return InternalErrorFault("-")
