"""SOAP faults of the contract, and the one table that maps errors onto them.

Every fault has a stable ``faultcode`` (``Client.X`` / ``Server.X``) and a detail of ``ErrorCode``,
``Message`` and ``Retryable``. Messages name the field and the rule in bounded words; they never
carry the raw input, a traceback or a file's content.
"""

from __future__ import annotations

import re

from spyne import Fault

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

_KNOWN_NAMES: set[str] = set()


def set_schema_names(names: set[str]) -> None:
    """Element and type names of the published schema: the only names a fault may repeat."""
    _KNOWN_NAMES.clear()
    _KNOWN_NAMES.update(names)


def add_schema_names(names: set[str]) -> None:
    """Names of a part of the published schema (the types of an imported Order): repeatable too."""
    _KNOWN_NAMES.update(names)


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


def _name(qualified: str) -> str:
    local = qualified.rsplit("}", 1)[-1]
    return local if local in _KNOWN_NAMES else "an element"


def _expected(text: str) -> str:
    match = re.search(r"Expected is (?:one of )?\(\s*([^)]*)\)", text)
    if not match:
        return ""
    names = [n.rsplit("}", 1)[-1].strip() for n in match.group(1).split(",")]
    names = [n for n in names if n in _KNOWN_NAMES]
    return f"; expected {', '.join(names)}" if names else ""


#: What a value of each simple type looks like, for "is not a valid ..." messages.
_ATOMIC = {
    **dict.fromkeys(("decimal", "Amount", "PositiveAmount"), "decimal number"),
    **dict.fromkeys(("integer", "int", "Count", "Quantity", "LineNumber", "PageSize", "PageNumber"), "whole number"),
    **dict.fromkeys(("dateTime", "Timestamp"), "date-time such as 2026-01-31T09:30:00Z"),
    **dict.fromkeys(("date", "Date", "SearchDate"), "date such as 2026-01-31"),
    "boolean": "boolean (true or false)",
}
_MAX_LENGTH = r"maximum length of .?(\d+)"
_MIN_INCLUSIVE = r"minimum value allowed \(.?(-?[\d.]+(?:-\d\d-\d\d)?)"
_MIN_EXCLUSIVE = r"greater than .?(-?[\d.]+)"
_MAX_INCLUSIVE = r"maximum value allowed \(.?(-?[\d.]+(?:-\d\d-\d\d)?)"


def describe_schema_error(text: str) -> str:
    """A bounded sentence for an lxml schema-validation error, without the offending value."""
    sentence = _describe_schema_error(text)
    return sentence[:1].upper() + sentence[1:]


def _describe_schema_error(text: str) -> str:
    element = re.search(r"Element '([^']+)'", text)
    field = _name(element.group(1)) if element else "a field"
    kind = re.search(r"SCHEMAV_([A-Z0-9_]+)", text)
    kind_name = kind.group(1) if kind else ""

    def number(pattern: str) -> str:
        found = re.search(pattern, text)
        return found.group(1) if found else "?"

    if "XMLSchema-instance}type'" in text:  # an xsi:type the leniency did not remove (see leniency.py)
        return f"{field} carries an xsi:type that is not its own schema type; send it without xsi:type."
    if "ENUMERATION" in kind_name:
        # The offending value comes before the allowed set in lxml's text: read the set from the end,
        # and keep only values of the form enumerations take here.
        start, end = text.rfind("of the set {"), text.rfind("}")
        values = text[start + len("of the set {"):end].split(",") if 0 <= start < end else []
        allowed = ", ".join(v.strip(" '") for v in values if re.fullmatch(r"\s*'[A-Z0-9_]+'\s*", v))
        return f"{field} must be one of: {allowed}." if allowed else f"{field} is not an allowed value."
    if "MAXLENGTH" in kind_name:
        return f"{field} is longer than {number(_MAX_LENGTH)} characters."
    if "MINLENGTH" in kind_name:
        return f"{field} must not be empty."
    if "PATTERN" in kind_name:
        return f"{field} is not in the expected format."
    if "FRACTIONDIGITS" in kind_name:
        return f"{field} has too many decimal places."
    if "TOTALDIGITS" in kind_name:
        return f"{field} has too many digits."
    if "MININCLUSIVE" in kind_name:
        return f"{field} must be at least {number(_MIN_INCLUSIVE)}."
    if "MINEXCLUSIVE" in kind_name:
        return f"{field} must be greater than {number(_MIN_EXCLUSIVE)}."
    if "MAXINCLUSIVE" in kind_name:
        return f"{field} must be at most {number(_MAX_INCLUSIVE)}."
    if "DATATYPE" in kind_name or "is not a valid value of the atomic type" in text:
        atomic = re.search(r"atomic type '(?:\{[^}]*\}|xs:)?([A-Za-z]+)'", text)
        what = _ATOMIC.get(atomic.group(1) if atomic else "", "value of its type")
        return f"{field} is not a valid {what}."
    if "Missing child element" in text:
        return f"{field} is missing a required element{_expected(text)}."
    if "not expected" in text:
        return f"{field} is not expected here{_expected(text)}."
    if "NILLABLE" in kind_name or "nil" in text:
        return f"{field} must not be nil."
    if "character content" in text.lower() or "MIXED" in kind_name:
        return f"{field} must not contain text."
    return f"{field} does not match the schema."
