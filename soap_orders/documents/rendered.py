"""Orders kept written: each order's document, as XML and as JSON, stored beside it and written
again in the same transaction as any change to it, so that reads fetch it in one query.

``RENDER_VERSION`` is derived from the order document's description: when the description
changes (a new field, a new length), every stored document is out of date at once, readers fall
back to writing the order afresh, and ``soap-orders db upgrade`` writes them all again.

Both forms are written in one pass over the order (``_Writer``): each value is read once and its
text worked out once, then put into the XML (``documents.xml`` writes the same elements) and into
the JSON form (``documents.records.dump`` makes the same record). The tests hold the three side by
side, byte for byte.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from ..domain import money
from ..domain.orders import Order
from .fields import (
    Amount,
    Boolean,
    Choice,
    Date,
    Document,
    Field,
    Integer,
    ListOf,
    Text,
    Timestamp,
)
from .orders import ORDER
from .records import Rendered, dump
from .xml import document_writer

#: Bump when the way documents are written changes without their description changing.
_WRITER_REVISION = 1

RENDER_VERSION = int.from_bytes(
    hashlib.sha256(f"{_WRITER_REVISION}:{ORDER!r}".encode()).digest()[:4], "big") & 0x7FFFFFFF

#: Besides &, < and >: a carriage return is kept as a reference (see ``documents.xml``).
_ENTITIES = {"\r": "&#13;"}


def render_order(order: Order) -> Rendered:
    """The order's document as the answers carry it."""
    out: list[str] = []
    record = _writer(ORDER, ORDER.type_name)(order, None, out)
    return Rendered("".join(out), json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def as_rendered(row: Any) -> Rendered | None:
    """A stored document that is current, or None (missing, or written by an older description)."""
    if row is None or row.render_version != RENDER_VERSION:
        return None
    return Rendered(row.xml, row.json)


#: Writes ``obj`` (of ``currency``) as XML into the list and returns its JSON record.
_Write = Callable[[Any, "str | None", list[str]], dict[str, Any]]
#: Writes one field of ``obj`` into the XML list and the JSON record.
_Part = Callable[[Any, dict[str, Any], "str | None", list[str], dict[str, Any]], None]
#: One scalar's (XML text, JSON value), given its currency.
_Scalar = Callable[[Any, "str | None"], tuple[str, Any]]


@cache
def _writer(document: Document, name: str) -> _Write:
    """The writer of ``document`` as the element ``tns:<name>``."""
    if any(field.raw for field in document.fields):
        return _separately(document, name)
    opening, closing = f"<tns:{name}>", f"</tns:{name}>"
    parts = [_part(field) for field in document.fields]

    def write(obj: Any, currency: str | None, out: list[str]) -> dict[str, Any]:
        own = getattr(obj, "currency", None)
        if isinstance(own, str):
            currency = own
        try:
            values = obj.__dict__
        except AttributeError:
            values = {}
        record: dict[str, Any] = {}
        out.append(opening)
        for part in parts:
            part(obj, values, currency, out, record)
        out.append(closing)
        return record

    return write


def _separately(document: Document, name: str) -> _Write:
    """A document whose parts are not written alike in both forms: each form by its own writer."""
    xml = document_writer(document, name)

    def write(obj: Any, currency: str | None, out: list[str]) -> dict[str, Any]:
        xml(obj, currency, out)
        return dump(document, obj, currency)

    return write


def _reader(field: Field) -> Callable[[Any, dict[str, Any]], Any]:
    """Reads the field's value: from the object's own attributes where it holds them (a mapped
    object keeps its loaded values there), else as any attribute (a computed one, an expired one)."""
    attribute = field.attribute

    def read(obj: Any, values: dict[str, Any]) -> Any:
        return values[attribute] if attribute in values else getattr(obj, attribute)

    return read


def _part(field: Field) -> _Part:
    kind = field.kind
    name = field.name
    tag = f"tns:{name}"
    if isinstance(kind, ListOf):
        return _list_part(field, kind)
    if isinstance(kind, Document):
        return _document_part(field, kind)
    attribute = field.attribute
    scalar = _scalar(kind)
    opening, closing = f"<{tag}>", f"</{tag}>"
    unset_flag = isinstance(kind, Boolean) and not field.required

    def part(obj: Any, values: dict[str, Any], currency: str | None, out: list[str], record: dict[str, Any]) -> None:
        value = values[attribute] if attribute in values else getattr(obj, attribute)  # as _reader reads
        if value is None or (unset_flag and value is False):
            return
        text, plain = scalar(value, currency)
        out.append(opening)
        out.append(text)
        out.append(closing)
        record[name] = plain

    return part


def _document_part(field: Field, kind: Document) -> _Part:
    name = field.name
    attribute = field.attribute
    nested = _writer(kind, name)
    inner = [f.attribute for f in kind.fields]
    xml = document_writer(kind, name)

    def part(obj: Any, values: dict[str, Any], currency: str | None, out: list[str], record: dict[str, Any]) -> None:
        value = getattr(obj, attribute)  # a composite's value is built by its descriptor
        if value is None:
            return
        if isinstance(value, Rendered):
            out.append(value.xml)
            record[name] = json.loads(value.json)
            return
        if isinstance(value, dict) or kind.factory is None:
            # Left out alike only when the document builds the value: here each form decides.
            if not all(getattr(value, a) is None for a in inner):
                xml(value, currency, out)
            if kind.factory is None or isinstance(value, dict) or any(getattr(value, a) is not None for a in inner):
                record[name] = dump(kind, value, currency)
            return
        if all(getattr(value, a) is None for a in inner):
            return  # an embedded part with no value at all is left out
        record[name] = nested(value, currency, out)

    return part


def _list_part(field: Field, kind: ListOf) -> _Part:
    name = field.name
    read = _reader(field)
    empty, opening, closing = f"<tns:{name}/>", f"<tns:{name}>", f"</tns:{name}>"
    item_kind = kind.item
    if isinstance(item_kind, Document):
        item = _writer(item_kind, kind.item_name)

        def part(obj: Any, values: dict[str, Any], currency: str | None, out: list[str],
                 record: dict[str, Any]) -> None:
            items = read(obj, values) or ()
            if not items:
                out.append(empty)
                record[name] = []
                return
            out.append(opening)
            written = []
            for value in items:
                if isinstance(value, Rendered):
                    out.append(value.xml)
                    written.append(json.loads(value.json))
                else:
                    written.append(item(value, currency, out))
            out.append(closing)
            record[name] = written

        return part
    scalar = _scalar(item_kind)
    item_opening, item_closing = f"<tns:{kind.item_name}>", f"</tns:{kind.item_name}>"

    def scalars(obj: Any, values: dict[str, Any], currency: str | None, out: list[str],
                record: dict[str, Any]) -> None:
        items = read(obj, values) or ()
        if not items:
            out.append(empty)
            record[name] = []
            return
        out.append(opening)
        written = []
        for value in items:
            if isinstance(value, Rendered):
                out.append(value.xml)
                written.append(value)  # as records.dump does (no scalar is kept written)
                continue
            text, plain = scalar(value, currency)
            out.append(item_opening)
            out.append(text)
            out.append(item_closing)
            written.append(plain)
        out.append(closing)
        record[name] = written

    return scalars


def _scalar(kind: Any) -> _Scalar:
    """(XML text, JSON value) of one scalar, as ``documents.xml`` and ``records.plain`` write it."""
    if isinstance(kind, Text):
        return _text
    if isinstance(kind, Choice):
        return _choice
    if isinstance(kind, Amount):
        return _amount
    if isinstance(kind, Integer):
        return _integer
    if isinstance(kind, Timestamp):
        return _timestamp
    if isinstance(kind, Date):
        return _date
    if isinstance(kind, Boolean):
        return _boolean
    raise TypeError(f"not a scalar kind: {kind!r}")


def _text(value: Any, _currency: str | None) -> tuple[str, Any]:
    if type(value) is str:
        if "&" in value or "<" in value or ">" in value or "\r" in value:
            return escape(value, _ENTITIES), value
        return value, value  # nothing to escape
    return escape(str(value), _ENTITIES), value.value if isinstance(value, enum.Enum) else value


def _choice(value: Any, _currency: str | None) -> tuple[str, Any]:
    if isinstance(value, enum.Enum):
        return value.value, value.value
    return escape(str(value), _ENTITIES), value


def _amount(value: Any, currency: str | None) -> tuple[str, Any]:
    amount = value if isinstance(value, Decimal) else Decimal(value)
    text = f"{money.quantize(amount, currency) if currency else amount:f}"
    return text, text


def _integer(value: Any, _currency: str | None) -> tuple[str, Any]:
    return str(int(value)), value.value if isinstance(value, enum.Enum) else value


def _timestamp(value: datetime, _currency: str | None) -> tuple[str, Any]:
    if value.tzinfo is None:
        raise ValueError("naive datetime in a response")
    text = value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return text, text


def _date(value: date, _currency: str | None) -> tuple[str, Any]:
    return date.isoformat(value), value.isoformat()


def _boolean(value: Any, _currency: str | None) -> tuple[str, Any]:
    return ("true" if value else "false"), value.value if isinstance(value, enum.Enum) else value
