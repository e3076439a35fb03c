"""The plain-data form of a document: a dict with the wire's PascalCase names.

It is the JSON twin's body, what ``soap-orders import`` reads from JSON Lines (and from XML
documents, once turned into dicts), and what a stored idempotent result keeps. ``load`` checks
every field's form and length against the document's description; its errors name the field,
never its value. ``dump`` writes amounts with their currency's places and times in UTC with ``Z``.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, DecimalException, InvalidOperation
from typing import Any

from ..domain import error_kinds, money
from ..domain.errors import DomainError
from ..domain.orders import Order, Refund
from .fields import (
    Amount,
    Boolean,
    Choice,
    Date,
    Document,
    Field,
    Integer,
    Kind,
    ListOf,
    Text,
    Timestamp,
)
from .orders import ORDER, REFUND


@dataclass(frozen=True)
class Rendered:
    """A document written before, when it last changed: its XML element (prefix ``tns``) and its
    JSON form. Answers carry it in place of the object it was written from."""

    xml: str
    json: str


#: The most digits an amount may have in all, as the schema publishes and the database stores.
TOTAL_DIGITS = 18


class RecordError(DomainError):
    """A record that cannot be loaded; ``path`` names the field (``Lines[2].Quantity``)."""

    code = "INVALID_RECORD"
    kind = error_kinds.VALIDATION

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class NumberOutOfRange(ValueError):
    """A JSON number no value here can hold: an exponent beyond what a decimal can carry
    (``1e1000000000000000000``, ``1e-99999999999999999999``) or an integer of more digits than
    Python reads."""


def _exact_decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except DecimalException:
        raise NumberOutOfRange(text) from None


def _exact_integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than int() reads (sys.get_int_max_str_digits())
        raise NumberOutOfRange(text) from None


def read_json(text: str, **options: Any) -> Any:
    """JSON as records are read: every number exactly (a decimal as ``Decimal``, never a float).
    A number no value can hold raises ``NumberOutOfRange`` (a ``ValueError``, like any other
    JSON that cannot be read)."""
    return json.loads(text, parse_float=_exact_decimal, parse_int=_exact_integer, **options)


def required_on_input(field: Field) -> bool:
    """Whether a caller must send ``field`` (see ``Field.required_on_input``)."""
    return field.required_on_input


# ---------------------------------------------------------------------- loading


#: What a field name looks like (``ShippingAddress``, ``Line1``).
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def load(document: Document, record: Any, path: str = "", currency: str | None = None) -> Any:
    """Check ``record`` against ``document`` and build what the document describes."""
    return _loader(document)(record, path, currency)


def _load(document: Document, record: Any, path: str = "", currency: str | None = None) -> Any:
    """``load`` field by field, as the description says, all the way down: what ``_loader``'s
    loaders do in fewer steps (they leave to this, and to the functions it calls, every value that
    is not plainly valid, so that a refusal is worded the same; the tests hold the two side by side)."""
    if not isinstance(record, dict):
        raise RecordError(path, "must be an object")
    names = document.field_names
    for key in record:
        if key not in names:
            # A name of a field's form is named back; anything else the caller sent is not repeated.
            if isinstance(key, str) and _FIELD_NAME.fullmatch(key):
                raise RecordError(_join(path, key), "is not a field of this record")
            raise RecordError(path, "holds a name that is not a field of this record")
    values: dict[str, Any] = {}
    for field in document.fields:
        if field.derived:
            continue
        value = record.get(field.name)
        where = _join(path, field.name)
        if value is None or value == "":
            if required_on_input(field):
                raise RecordError(where, "is required")
            continue
        if field.raw:
            values[field.attribute] = _raw(field.kind, value, where)
            continue
        values[field.attribute] = _load_value(field.kind, value, where, currency)
    if document.factory is None:
        return values
    return document.factory(**values)


#: Loads one document's record: (record, path, currency) -> what the document builds.
_Load = Callable[[Any, str, "str | None"], Any]
#: Loads one field's value (not None nor empty): (value, the record's path, currency).
_LoadField = Callable[[Any, str, "str | None"], Any]


def _loader(document: Document) -> _Load:
    """The loader of ``document``, made once per document from its description (kept on it)."""
    made: _Load | None = document.__dict__.get("_loader")
    if made is None:
        made = document.__dict__["_loader"] = _make_loader(document)
    return made


#: Builders of new objects, by the class a document builds (see ``build_with``).
_BUILDERS: dict[Any, Callable[..., Any]] = {}


def build_with(factory: Any, builder: Callable[..., Any]) -> None:
    """Have ``load`` build the objects of ``factory`` (a class documents build) with ``builder``,
    which takes the same keyword arguments and must build the very same object: the database
    mapping builds its classes' new objects without an event per attribute."""
    _BUILDERS[factory] = builder


def _make_loader(document: Document) -> _Load:
    names = document.field_names
    steps = [(field.name, field.attribute, required_on_input(field), _field_loader(field))
             for field in document.fields if not field.derived]
    made_by = document.factory

    def load_document(record: Any, path: str, currency: str | None) -> Any:
        if not isinstance(record, dict) or not names.issuperset(record):
            return _load(document, record, path, currency)  # refused, in its words
        values: dict[str, Any] = {}
        for name, attribute, required, read in steps:
            value = record.get(name)
            if value is None or value == "":
                if required:
                    raise RecordError(_join(path, name), "is required")
                continue
            values[attribute] = read(value, path, currency)
        if made_by is None:
            return values
        return _BUILDERS.get(made_by, made_by)(**values)

    return load_document


def _field_loader(field: Field) -> _LoadField:
    """Loads ``field``'s value as ``_load`` does; the path of the field is joined only when needed."""
    kind, name = field.kind, field.name
    if field.raw:
        return lambda value, path, _currency: _raw(kind, value, _join(path, name))
    if isinstance(kind, Document):
        nested = _loader(kind)
        return lambda value, path, currency: nested(value, _join(path, name), currency)
    if isinstance(kind, ListOf):
        return _list_loader(kind, name)
    if isinstance(kind, Text):
        return _text_loader(kind, name)
    if isinstance(kind, Integer):
        ge, le = kind.ge, kind.le

        def integer(value: Any, path: str, currency: str | None) -> Any:
            if type(value) is int and ge <= value <= le:
                return value
            return _integer(kind, value, _join(path, name))

        return integer
    if isinstance(kind, Choice):
        members = {member.value: member for member in kind.enumeration}

        def choice(value: Any, path: str, currency: str | None) -> Any:
            member = members.get(value) if type(value) is str else None
            return member if member is not None else _choice(kind, value, _join(path, name))

        return choice
    return lambda value, path, currency: load_scalar(kind, value, _join(path, name), currency)


def _text_loader(kind: Text, name: str) -> _LoadField:
    pattern = re.compile(kind.pattern) if kind.pattern is not None else None
    longest = kind.max_len
    control = _CONTROL.search

    def text(value: Any, path: str, currency: str | None) -> Any:
        if type(value) is str and not control(value):
            trimmed = value.strip()
            if trimmed and len(trimmed) <= longest and (pattern is None or pattern.fullmatch(trimmed)):
                return trimmed
        return _text(kind, value, _join(path, name))

    return text


def _list_loader(kind: ListOf, name: str) -> _LoadField:
    item_kind = kind.item
    if not isinstance(item_kind, Document):
        return lambda value, path, currency: _load_value(kind, value, _join(path, name), currency)
    item = _loader(item_kind)
    item_name, least, most = kind.item_name, kind.min_occurs, kind.max_occurs

    def items(value: Any, path: str, currency: str | None) -> Any:
        where = _join(path, name)
        listed = value
        if isinstance(listed, dict) and set(listed) <= {item_name}:
            listed = listed.get(item_name) or []  # the wire's wrapper form, {"Line": [...]}
        if not isinstance(listed, list) or len(listed) < least or (most is not None and len(listed) > most):
            return _load_value(kind, value, where, currency)  # refused, in its words
        return [item(record, f"{where}[{i}]", currency) for i, record in enumerate(listed, 1)]

    return items


def _raw(kind: Kind, value: Any, path: str) -> Any:
    """A list of records left as they are (its size and that each is an object are checked)."""
    if isinstance(kind, ListOf):
        if isinstance(value, dict) and set(value) <= {kind.item_name}:
            value = value.get(kind.item_name) or []
        if not isinstance(value, list):
            raise RecordError(path, "must be a list")
        if len(value) < kind.min_occurs:
            raise RecordError(path, f"must have at least {kind.min_occurs} item(s)")
        if kind.max_occurs is not None and len(value) > kind.max_occurs:
            raise RecordError(path, f"must have at most {kind.max_occurs} items")
        for i, item in enumerate(value, 1):
            if not isinstance(item, dict):
                raise RecordError(f"{path}[{i}]", "must be an object")
        return value
    return value


def _load_value(kind: Kind, value: Any, path: str, currency: str | None) -> Any:
    if isinstance(kind, Document):
        return _load(kind, value, path, currency)
    if isinstance(kind, ListOf):
        if isinstance(value, dict) and set(value) <= {kind.item_name}:
            value = value.get(kind.item_name) or []  # the wire's wrapper form, {"Line": [...]}
        if not isinstance(value, list):
            raise RecordError(path, "must be a list")
        if len(value) < kind.min_occurs:
            raise RecordError(path, f"must have at least {kind.min_occurs} item(s)")
        if kind.max_occurs is not None and len(value) > kind.max_occurs:
            raise RecordError(path, f"must have at most {kind.max_occurs} items")
        return [_load_value(kind.item, item, f"{path}[{i}]", currency) for i, item in enumerate(value, 1)]
    return load_scalar(kind, value, path, currency)


def load_scalar(kind: Kind, value: Any, path: str, currency: str | None = None) -> Any:
    if isinstance(kind, Text):
        return _text(kind, value, path)
    if isinstance(kind, Integer):
        return _integer(kind, value, path)
    if isinstance(kind, Amount):
        return _amount(kind, value, path, currency)
    if isinstance(kind, Timestamp):
        return _timestamp(value, path)
    if isinstance(kind, Date):
        return _date(kind, value, path)
    if isinstance(kind, Choice):
        return _choice(kind, value, path)
    if isinstance(kind, Boolean):
        return _boolean(value, path)
    raise TypeError(f"not a scalar kind: {kind!r}")


#: A control character other than tab, CR and LF (the characters below U+0020 but those three).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(kind: Text, value: Any, path: str) -> str:
    """Text trimmed of the spaces around it. A control character (other than tab, CR and LF,
    which XML carries) makes it invalid wherever it stands: ``str.strip()`` would silently drop
    the ones around it (U+001C to U+001F, vertical tab, form feed), which XML cannot carry at all."""
    if not isinstance(value, str):
        raise RecordError(path, "must be a string")
    if _CONTROL.search(value):
        raise RecordError(path, "contains control characters")
    value = value.strip()
    if not value:
        raise RecordError(path, "must not be empty")
    if len(value) > kind.max_len:
        raise RecordError(path, f"is longer than {kind.max_len} characters")
    if kind.pattern is not None and not re.fullmatch(kind.pattern, value):
        raise RecordError(path, f"must be {kind.hint or 'in the expected format'}")
    return value


def claimed(kind: Text, value: Any) -> str | None:
    """The identifier a refused record claims, as ``kind`` would load it, when it is a valid and
    printable one; None otherwise, and then it is not repeated in the answer (an answer names no
    identifier rather than one outside the published schema, such as an empty one)."""
    try:
        text = _text(kind, value, "")
    except RecordError:
        return None
    return text if text.isprintable() else None


def _integer(kind: Integer, value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise RecordError(path, "must be a whole number")
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,19}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise RecordError(path, "must be a whole number")
    if not kind.ge <= value <= kind.le:
        raise RecordError(path, f"must be between {kind.ge} and {kind.le}")
    return value


def _amount(kind: Amount, value: Any, path: str, currency: str | None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise RecordError(path, "must be a decimal number")
    if currency is None:
        amount = _plain_decimal(value, path)
    else:
        try:
            amount = money.parse_amount(value, currency, field=path)
        except DomainError as exc:
            raise RecordError(path, exc.message.removeprefix(path).strip().rstrip(".")) from None
    if kind.positive and amount <= 0:
        raise RecordError(path, "must be greater than zero")
    return amount


def _plain_decimal(value: Any, path: str) -> Decimal:
    """A finite decimal, before the currency is known: the domain checks its size and places
    against the currency once it is."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RecordError(path, "must be a decimal number") from None
    if not amount.is_finite():
        raise RecordError(path, "must be a finite number")
    try:
        normal = amount.normalize().as_tuple()
    except DecimalException:  # an exponent beyond what decimals can hold
        raise RecordError(path, "has too many digits") from None
    digits, exponent = len(normal.digits), normal.exponent
    assert isinstance(exponent, int)
    if -exponent > money.MAX_DECIMAL_PLACES:
        raise RecordError(path, "has too many decimal places")
    if max(digits, digits + exponent) > TOTAL_DIGITS:
        raise RecordError(path, "has too many digits")
    return amount


def _timestamp(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(path, "must be an ISO 8601 date-time such as 2026-01-31T09:30:00Z") from None
    else:
        raise RecordError(path, "must be an ISO 8601 date-time")
    if parsed.tzinfo is None:
        raise RecordError(path, "must carry a time zone (Z for UTC)")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is after the last representable moment
        raise RecordError(path, "is outside the years 1 to 9999 in UTC") from None


def _date(kind: Date, value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif not isinstance(value, str) or not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        raise RecordError(path, "must be a date such as 2026-01-31")
    else:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(path, "must be a date such as 2026-01-31") from None
    if (kind.ge is not None and day < kind.ge) or (kind.le is not None and day > kind.le):
        raise RecordError(path, f"must be between {kind.ge} and {kind.le}")
    return day


def _choice(kind: Choice, value: Any, path: str) -> enum.Enum:
    if isinstance(value, kind.enumeration):
        return value
    try:
        return kind.enumeration(value)
    except ValueError:
        raise RecordError(path, f"must be one of {', '.join(kind.values)}") from None


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("true", "false", "1", "0"):
        return value.strip() in ("true", "1")
    raise RecordError(path, "must be true or false")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# ---------------------------------------------------------------------- writing


class JsonText(str):
    """JSON written before (a kept-written document), to be put into an answer as it is."""


def dump(document: Document, obj: Any, currency: str | None = None, *, as_text: bool = False) -> dict[str, Any]:
    """The plain-data form of ``obj``: absent optionals left out, lists always present. With
    ``as_text``, kept-written documents among its fields (or in its lists) stay their JSON text
    (:class:`JsonText`), for :func:`answer_json` to write without reading them again."""
    own = getattr(obj, "currency", None)
    if isinstance(own, str):
        currency = own
    record: dict[str, Any] = {}
    for field in document.fields:
        value = getattr(obj, field.attribute)
        kind = field.kind
        if field.raw:
            record[field.name] = value  # records, as they were given
        elif isinstance(kind, ListOf):
            item_kind = kind.item
            if isinstance(item_kind, Document):
                record[field.name] = [_rendered(item, as_text) if isinstance(item, Rendered)
                                      else dump(item_kind, item, currency) for item in (value or ())]
            else:
                record[field.name] = [plain(item_kind, item, currency) for item in (value or ())]
        elif value is None or is_unset_flag(field, value):
            continue
        elif isinstance(value, Rendered):
            record[field.name] = _rendered(value, as_text)
        elif isinstance(kind, Document):
            if kind.factory is not None and not isinstance(value, dict) and not _has_any(kind, value):
                continue
            record[field.name] = dump(kind, value, currency)
        else:
            record[field.name] = plain(kind, value, currency)
    return record


def _rendered(document: Rendered, as_text: bool) -> Any:
    return JsonText(document.json) if as_text else json.loads(document.json)


def answer_json(record: dict[str, Any]) -> str:
    """``record`` (from ``dump(..., as_text=True)``) as compact JSON, its kept-written documents
    copied in as they are: the same text as ``json.dumps`` of the record read back."""
    parts = []
    for key, value in record.items():
        if isinstance(value, JsonText):
            text: str = value
        elif isinstance(value, list) and any(isinstance(item, JsonText) for item in value):
            text = "[" + ",".join(item if isinstance(item, JsonText) else _compact(item) for item in value) + "]"
        else:
            text = _compact(value)
        parts.append(f"{_compact(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def is_unset_flag(field: Field, value: Any) -> bool:
    """An optional flag that is false is left out, like any optional field without a value."""
    return value is False and not field.required and isinstance(field.kind, Boolean)


def _has_any(document: Document, obj: Any) -> bool:
    """An embedded part with no value at all (an address of nothing) is left out."""
    return any(getattr(obj, f.attribute) is not None for f in document.fields)


def plain(kind: Kind, value: Any, currency: str | None = None) -> Any:
    """One scalar in its JSON-ready form: strings for money and times, never a float."""
    if isinstance(kind, Amount):
        amount = money.quantize(Decimal(value), currency) if currency else Decimal(value)
        return f"{amount:f}"
    if isinstance(kind, Timestamp):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(kind, Date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


# ---------------------------------------------------------------------- the order document


def order_from_record(record: Any) -> Order:
    """Build an order from its plain-data form, checking every field and the order's invariants."""
    if not isinstance(record, dict):
        raise RecordError("", "an order record must be an object")
    if record.get("Customer") is None:
        raise RecordError("Customer", "is required")
    currency = record.get("Currency")
    if not isinstance(currency, str) or currency.strip() not in money.ISO_4217:
        raise RecordError("Currency", "must be an ISO 4217 currency code such as EUR")
    order: Order = load(ORDER, record, "", currency.strip())
    try:
        order.check()
    except DomainError as exc:
        raise RecordError("", exc.message) from None
    return order


def order_to_record(order: Order) -> dict[str, Any]:
    return dump(ORDER, order)


def refund_to_record(refund: Refund, currency: str) -> dict[str, Any]:
    return dump(REFUND, refund, currency)


def refund_from_record(record: dict[str, Any], currency: str) -> Refund:
    refund: Refund = load(REFUND, record, "Refund", currency)
    return refund
