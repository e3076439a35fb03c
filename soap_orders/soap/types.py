"""Wire types of the v1 contract (namespace ``urn:soap-orders:orders:v1``), derived from the
document descriptions in ``soap_orders.documents``.

Every simple and complex type has an explicit name and namespace, so the WSDL never depends on
Python class names or declaration order. Required elements are ``minOccurs=1`` and not nillable;
optional ones are left out when empty; lists have explicit wrappers (``Orders/Order``). Each
description maps to one spyne type, made once and reused.
"""

from __future__ import annotations

import enum
from decimal import Decimal as PyDecimal
from functools import cache
from typing import Any

from spyne import Boolean as SpyneBoolean
from spyne import ComplexModel, Unicode
from spyne import Date as SpyneDate
from spyne import DateTime as SpyneDateTime
from spyne import Decimal as SpyneDecimal
from spyne import Integer as SpyneInteger

from ..documents import (
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
    records,
)
from ..documents.fields import COMPUTED_NOTE
from ..domain import money
from .ns import TNS


class Model(ComplexModel):
    """Base of the contract's complex types."""

    __namespace__ = TNS


@cache
def simple(kind: Kind) -> Any:
    """The spyne simple type of a scalar kind."""
    if isinstance(kind, Text):
        facets: dict[str, Any] = {"pattern": kind.pattern} if kind.pattern else {}
        return Unicode.customize(type_name=kind.type_name, __namespace__=TNS, max_len=kind.max_len, min_len=1, **facets)
    if isinstance(kind, Choice):
        return Unicode.customize(type_name=kind.type_name, __namespace__=TNS, values=list(kind.values))
    if isinstance(kind, Amount):
        extra = {"gt": 0} if kind.positive else {}
        return SpyneDecimal.customize(
            type_name=kind.type_name, __namespace__=TNS, total_digits=records.TOTAL_DIGITS,
            fraction_digits=money.MAX_DECIMAL_PLACES, **extra,
        )
    if isinstance(kind, Integer):
        return SpyneInteger.customize(type_name=kind.type_name, __namespace__=TNS, ge=kind.ge, le=kind.le)
    if isinstance(kind, Date):
        bounds = {name: value for name, value in (("ge", kind.ge), ("le", kind.le)) if value is not None}
        return SpyneDate.customize(type_name=kind.type_name, __namespace__=TNS, **bounds)
    if isinstance(kind, Timestamp):
        return SpyneDateTime.customize(type_name=kind.type_name, __namespace__=TNS)
    if isinstance(kind, Boolean):
        return SpyneBoolean
    raise TypeError(f"not a scalar kind: {kind!r}")


def spyne_type(kind: Kind) -> Any:
    if isinstance(kind, Document):
        return model(kind)
    if isinstance(kind, ListOf):
        return wrapper(kind)
    return simple(kind)


def element(field: Field) -> Any:
    """The spyne type of one element: required ones always present and never nil, optional ones
    left out when empty (never sent as xsi:nil)."""
    kind = spyne_type(field.kind)
    extra: dict[str, Any] = {}
    if field.default is not None and not field.required:
        extra["default"] = field.default
    doc = field.doc or (COMPUTED_NOTE if field.derived else None)
    if doc and not isinstance(field.kind, (Document, ListOf)):
        # Only on simple types: spyne writes a complex type's element documentation on the type
        # itself, which answers share.
        extra["doc"] = doc
    if isinstance(field.kind, Boolean) and field.kind.type_name is None:
        return kind.customize(min_occurs=1 if field.required else 0, nillable=False, **extra)
    return kind.customize(
        min_occurs=1 if field.required else 0, nillable=False, type_name=kind.get_type_name(), **extra
    )


@cache
def model(document: Document) -> Any:
    """The complex type of a document."""
    return type(document.type_name, (Model,), {
        "__type_name__": document.type_name,
        "__doc__": document.doc,
        "_type_info": [(f.name, element(f)) for f in document.fields],
    })


@cache
def wrapper(kind: ListOf) -> Any:
    """The explicit wrapper of a list: ``Lines`` holding ``Line`` elements."""
    item = spyne_type(kind.item)
    limit: int | str = "unbounded" if kind.max_occurs is None else kind.max_occurs
    repeated = item.customize(min_occurs=kind.min_occurs, max_occurs=limit, nillable=False, type_name=item.get_type_name())
    return type(kind.type_name, (Model,), {"__type_name__": kind.type_name, "_type_info": [(kind.item_name, repeated)]})


# ---------------------------------------------------------------------- values


def to_wire(document: Document, obj: Any, currency: str | None = None) -> Any:
    """A wire object for a domain object (or answer) described by ``document``."""
    own = getattr(obj, "currency", None)
    if isinstance(own, str):
        currency = own
    values: dict[str, Any] = {}
    for field in document.fields:
        value = getattr(obj, field.attribute)
        kind = field.kind
        if isinstance(kind, ListOf):
            item_kind = kind.item
            items = [to_wire(item_kind, v, currency) if isinstance(item_kind, Document) else v for v in value or ()]
            values[field.name] = wrapper(kind)(**{kind.item_name: items})
        elif value is None or records.is_unset_flag(field, value):
            continue
        elif isinstance(kind, Document):
            if any(getattr(value, f.attribute) is not None for f in kind.fields):
                values[field.name] = to_wire(kind, value, currency)
        elif isinstance(kind, Amount):
            values[field.name] = money.quantize(PyDecimal(value), currency) if currency else value
        elif isinstance(value, enum.Enum):
            values[field.name] = value.value
        else:
            values[field.name] = value
    return model(document)(**values)


def from_wire(kind: Kind, value: Any) -> Any:
    """The plain-data form of a value spyne parsed, for the same loading as the JSON form."""
    if value is None:
        return None
    if isinstance(kind, Document):
        return {f.name: v for f in kind.fields if (v := from_wire(f.kind, getattr(value, f.name, None))) is not None}
    if isinstance(kind, ListOf):
        return [from_wire(kind.item, item) for item in getattr(value, kind.item_name, None) or ()]
    return value
