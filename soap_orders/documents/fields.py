"""The kinds of field a document may have, and the document itself: plain, immutable data."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, cached_property
from typing import Any, Union, overload

#: The namespace of every document and element of the contract.
TNS = "urn:soap-orders:orders:v1"


@dataclass(frozen=True)
class Text:
    """A string of 1 to ``max_len`` characters, surrounding whitespace ignored."""

    type_name: str
    max_len: int
    #: An XML Schema pattern the whole value must match, and what it looks like in words.
    pattern: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Integer:
    type_name: str
    ge: int
    le: int


@dataclass(frozen=True)
class Amount:
    """Money: an exact decimal with at most the currency's places, the currency beside it."""

    type_name: str
    positive: bool = False


@dataclass(frozen=True)
class Date:
    type_name: str = "Date"
    #: Bounds, when the date is one a caller chooses (a search range), inclusive.
    ge: date | None = None
    le: date | None = None


@dataclass(frozen=True)
class Timestamp:
    """A point in time, UTC, written with ``Z``."""

    type_name: str = "Timestamp"


@dataclass(frozen=True)
class Boolean:
    type_name: str | None = None


@dataclass(frozen=True)
class Choice:
    """One value of an enumeration."""

    enumeration: type[enum.Enum]
    type_name: str = ""

    def __post_init__(self) -> None:
        if not self.type_name:
            object.__setattr__(self, "type_name", self.enumeration.__name__)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(member.value for member in self.enumeration)


Scalar = Union[Text, Integer, Amount, Date, Timestamp, Boolean, Choice]


@dataclass(frozen=True)
class ListOf:
    """A list with an explicit wrapper: ``Lines`` holding ``Line`` elements (documents), or
    ``ReplacementOrderNumbers`` holding ``OrderNumber`` elements (scalars)."""

    type_name: str
    item_name: str
    item: Document | Scalar
    min_occurs: int = 0
    max_occurs: int | None = None  # None: unbounded
    #: Each item is checked by the use case, which answers for it alone (a batch with a result per
    #: document); loading checks the list and keeps its items as plain data.





Kind = Union[Scalar, "Document", ListOf]


@dataclass(frozen=True)
class Field:
    """One element of a document.

    ``attr`` is the attribute of the domain object (or command) that holds the value; ``derived``
    fields are computed by the domain, written on output and ignored on input; ``internal`` fields
    are kept by the service for itself: in the stored form, never published nor taken from callers."""

    name: str
    kind: Kind
    attr: str = ""
    required: bool = False
    default: Any = None
    derived: bool = False
    #: Loaded as plain data (records) for the use case to check one by one, so that one bad
    #: document of a batch does not refuse the others.
    raw: bool = False
    #: Kept by the service for itself: in the stored form only, never published, and refused from
    #: ERP input.
    internal: bool = False
    #: What the published schema says of the element (its ``xs:documentation``).
    doc: str | None = None

    @property
    def required_on_input(self) -> bool:
        """Whether a caller must send it: a field with a default takes it when absent, a computed
        one is computed, and a list may be left out (empty) unless it must hold an item."""
        if isinstance(self.kind, ListOf):
            return self.required and self.kind.min_occurs > 0
        return self.required and self.default is None and not self.derived

    @cached_property
    def attribute(self) -> str:
        """The Python attribute the field is read from and loaded into (read on every document)."""
        return self.attr or _snake(self.name)


@dataclass(frozen=True)
class Document:
    """A complex type: its wire name, its fields in order, and what it loads into."""

    type_name: str
    fields: tuple[Field, ...]
    #: Builds the domain object (or command) from loaded attributes; None loads a plain dict.
    factory: Callable[..., Any] | None = field(default=None, compare=False)
    doc: str | None = None

    def __hash__(self) -> int:
        # Documents key the caches of writers and types, looked up on every request: hash the
        # (deep, immutable) description once, not field by field on each lookup.
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.type_name, self.fields, self.doc))
            object.__setattr__(self, "_hash", cached)
        return cached

    def published(self, type_name: str, doc: str | None = None) -> Document:
        """This document without its internal fields: what callers see and send."""
        fields = tuple(f for f in self.fields if not f.internal)
        return Document(type_name, fields, self.factory, doc or self.doc)

    @cached_property
    def field_names(self) -> frozenset[str]:
        """The wire names of its fields (what a record of it may hold), worked out once."""
        return frozenset(f.name for f in self.fields)

    @property
    def internal_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.internal)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


#: What the published schema says of a computed element, on output and on input.
COMPUTED_NOTE = "Computed by the service; always in answers."
COMPUTED_INPUT_NOTE = "Computed by the service: may be left out (the service computes it)."


@overload
def input_form(kind: Document) -> Document: ...
@overload
def input_form(kind: ListOf) -> ListOf: ...
@overload
def input_form(kind: Kind) -> Kind: ...


def input_form(kind: Kind) -> Kind:
    """``kind`` as callers send it: every element the service computes or defaults is optional
    (documented so in the schema), and lists may be left out. A document that differs from its
    answer form gets its own type name (``Order`` is sent as ``OrderInput``) so that answers keep
    their computed elements required; one that does not stays the same type."""
    return _input_form(kind)


@cache
def _input_form(kind: Kind) -> Kind:
    if isinstance(kind, ListOf):
        item = _input_form(kind.item)
        if item is kind.item:
            return kind
        assert not isinstance(item, ListOf)  # a list holds documents or scalars
        return replace(kind, type_name=f"{kind.type_name}Input", item=item)
    if not isinstance(kind, Document):
        return kind
    fields = tuple(_input_field(f) for f in kind.fields)
    if fields == kind.fields:
        return kind
    return Document(f"{kind.type_name}Input", fields, kind.factory, kind.doc)


def _input_field(field: Field) -> Field:
    kind = _input_form(field.kind)
    if not field.derived and (field.required_on_input or not field.required):
        return field if kind is field.kind else replace(field, kind=kind)
    if field.derived:
        note = COMPUTED_INPUT_NOTE
    elif field.default is not None:
        value = getattr(field.default, "value", field.default)
        note = f"May be left out: {value} when absent."
    else:
        note = "May be left out (empty)."
    # Not published as a schema default either: what is absent stays absent, for the service to decide.
    return replace(field, kind=kind, required=False, default=None, doc=field.doc or note)


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
