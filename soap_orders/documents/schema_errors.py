"""Bounded sentences for XML Schema validation errors: what a SOAP fault and an imported Order's
refusal say when a document does not match the published schema. A message names the field and
the rule, never the offending value, and repeats only names the published schema declares.

Kept beside the documents (not with the SOAP faults) so that reading XML needs neither spyne nor
zeep: ``soap.faults`` and ``ingest.xml`` both take their messages from here.
"""

from __future__ import annotations

import re

_KNOWN_NAMES: set[str] = set()


def set_schema_names(names: set[str]) -> None:
    """Element and type names of the published schema: the only names a fault may repeat."""
    _KNOWN_NAMES.clear()
    _KNOWN_NAMES.update(names)


def add_schema_names(names: set[str]) -> None:
    """Names of a part of the published schema (the types of an imported Order): repeatable too."""
    _KNOWN_NAMES.update(names)


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
