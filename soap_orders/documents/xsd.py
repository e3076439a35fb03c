"""The XML Schema types of documents, written from their declarations: what checks an XML document
(an imported ``Order``) without building the WSDL. The types are the published ones, of the same
names and facets (element documentation, which checks nothing, is left out)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from lxml import etree

from ..domain import money
from .fields import (
    TNS,
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
from .records import TOTAL_DIGITS

XS = "http://www.w3.org/2001/XMLSchema"


def schema(elements: Mapping[str, Document]) -> etree._Element:
    """An ``xs:schema`` of the orders namespace with a global element of each of ``elements``
    (name -> document) and every type they are made of."""
    types: dict[str, etree._Element] = {}
    refs = {name: _type(document, types) for name, document in elements.items()}
    node = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS, "tns": TNS},
                         targetNamespace=TNS, elementFormDefault="qualified")
    for name in sorted(types):
        node.append(types[name])
    for name, ref in refs.items():
        etree.SubElement(node, f"{{{XS}}}element", name=name, type=ref)
    return node


def _type(kind: Kind, types: dict[str, etree._Element]) -> str:
    """The qualified name of ``kind``'s type, its definition (and those it uses) added to ``types``."""
    if isinstance(kind, Timestamp):
        return "xs:dateTime"
    if isinstance(kind, Boolean):
        return "xs:boolean"
    if isinstance(kind, Date) and kind.ge is None and kind.le is None:
        return "xs:date"
    name = kind.type_name
    assert name, f"a declared type needs a name: {kind!r}"
    if name not in types:
        if isinstance(kind, Document):
            types[name] = etree.Element(f"{{{XS}}}complexType", name=name)  # before its fields: no recursion
            sequence = etree.SubElement(types[name], f"{{{XS}}}sequence")
            for field in kind.fields:
                sequence.append(_element(field, types))
        elif isinstance(kind, ListOf):
            types[name] = etree.Element(f"{{{XS}}}complexType", name=name)
            sequence = etree.SubElement(types[name], f"{{{XS}}}sequence")
            item = etree.SubElement(sequence, f"{{{XS}}}element", name=kind.item_name, type=_type(kind.item, types))
            if kind.min_occurs != 1:
                item.set("minOccurs", str(kind.min_occurs))
            limit = "unbounded" if kind.max_occurs is None else str(kind.max_occurs)
            if limit != "1":
                item.set("maxOccurs", limit)
        else:
            types[name] = _simple(kind)
    return f"tns:{name}"


def _element(field: Field, types: dict[str, etree._Element]) -> etree._Element:
    node = etree.Element(f"{{{XS}}}element", name=field.name, type=_type(field.kind, types))
    if not field.required:
        node.set("minOccurs", "0")
        if field.default is not None:
            node.set("default", _lexical(field.default))
    return node


def _lexical(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _simple(kind: Kind) -> etree._Element:
    node = etree.Element(f"{{{XS}}}simpleType", name=kind.type_name)
    facets: list[tuple[str, object]]
    if isinstance(kind, Text):
        base = "xs:string"
        facets = [("minLength", 1), ("maxLength", kind.max_len)] + ([("pattern", kind.pattern)] if kind.pattern else [])
    elif isinstance(kind, Choice):
        base, facets = "xs:string", [("enumeration", value) for value in kind.values]
    elif isinstance(kind, Amount):
        base = "xs:decimal"
        facets = [("totalDigits", TOTAL_DIGITS), ("fractionDigits", money.MAX_DECIMAL_PLACES)]
        facets += [("minExclusive", 0)] if kind.positive else []
    elif isinstance(kind, Integer):
        base, facets = "xs:integer", [("minInclusive", kind.ge), ("maxInclusive", kind.le)]
    elif isinstance(kind, Date):
        base = "xs:date"
        facets = [(facet, value.isoformat()) for facet, value in (("minInclusive", kind.ge), ("maxInclusive", kind.le))
                  if value is not None]
    else:
        raise TypeError(f"not a simple kind: {kind!r}")
    restriction = etree.SubElement(node, f"{{{XS}}}restriction", base=base)
    for facet, value in facets:
        etree.SubElement(restriction, f"{{{XS}}}{facet}", value=str(value))
    return node
