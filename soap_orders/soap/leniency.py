"""Lenient where it is safe: ``xsi:type`` annotations that name the element's own built-in XSD
type, as SOAP::Lite's autotyping and Axis 1 send them, are removed before schema validation.

An annotation is removed only when the type it names belongs to the same XSD primitive as the
element's declared type (``xsd:string`` on a string or enumeration, ``xsd:int`` or ``xsd:integer``
on a whole number, ``xsd:decimal`` on an amount, ``xsd:date``, ``xsd:dateTime``, ``xsd:boolean``):
the value is then still validated against the declared type, facets and all. Any other
``xsi:type`` stays, and schema validation refuses it."""

from __future__ import annotations

from lxml import etree

from .ns import SOAP11_ENV, TNS, XSI

XS = "http://www.w3.org/2001/XMLSchema"
_XSI_TYPE = f"{{{XSI}}}type"

#: Built-in XSD types by the primitive their values belong to.
_PRIMITIVE = {
    **dict.fromkeys(("string", "normalizedString", "token"), "string"),
    **dict.fromkeys((
        "decimal", "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    ), "decimal"),
    "boolean": "boolean",
    "date": "date",
    "dateTime": "dateTime",
}


def _qname(node: etree._Element, value: str | None) -> tuple[str | None, str] | None:
    """A QName-valued attribute resolved against ``node``'s namespace declarations."""
    if not value:
        return None
    prefix, _, local = value.strip().rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    if prefix and namespace is None:
        return None
    return namespace, local


class XsiTypes:
    """The declared types of the request elements, read from the published WSDL's schema."""

    def __init__(self, wsdl: bytes) -> None:
        tree = etree.fromstring(wsdl)
        self._simple: dict[str, tuple[str | None, str]] = {}
        self._complex: dict[str, dict[str, tuple[str | None, str]]] = {}
        self._global: dict[str, tuple[str | None, str]] = {}
        for schema in tree.iter(f"{{{XS}}}schema"):
            if schema.get("targetNamespace") != TNS:
                continue
            for node in schema:
                name = node.get("name")
                if not name:
                    continue
                if node.tag == f"{{{XS}}}simpleType":
                    restriction = node.find(f"{{{XS}}}restriction")
                    base = _qname(restriction, restriction.get("base")) if restriction is not None else None
                    if base is not None:
                        self._simple[name] = base
                elif node.tag == f"{{{XS}}}complexType":
                    self._complex[name] = {
                        child.get("name"): declared
                        for child in node.iter(f"{{{XS}}}element")
                        if child.get("name") and (declared := _qname(child, child.get("type"))) is not None
                    }
                elif node.tag == f"{{{XS}}}element":
                    declared = _qname(node, node.get("type"))
                    if declared is not None:
                        self._global[name] = declared

    def primitive(self, declared: tuple[str | None, str]) -> str | None:
        """The XSD primitive of a simple type (following restrictions), None for complex types."""
        for _ in range(16):
            namespace, local = declared
            if namespace == XS:
                return _PRIMITIVE.get(local)
            if namespace != TNS or local not in self._simple:
                return None
            declared = self._simple[local]
        return None

    def strip(self, envelope: etree._Element) -> None:
        """Remove, in place, every ``xsi:type`` in the Body that names its element's own built-in type."""
        body = envelope.find(f"{{{SOAP11_ENV}}}Body")
        if body is None:
            return
        for operation in body:
            if isinstance(operation.tag, str) and etree.QName(operation).namespace == TNS:
                declared = self._global.get(etree.QName(operation).localname)
                if declared is not None:
                    self._walk(operation, declared, depth=0)

    def _walk(self, node: etree._Element, declared: tuple[str | None, str], depth: int) -> None:
        named = _qname(node, node.get(_XSI_TYPE))
        if named is not None and named[0] == XS:
            expected = self.primitive(declared)
            if expected is not None and _PRIMITIVE.get(named[1]) == expected:
                del node.attrib[_XSI_TYPE]
        namespace, local = declared
        children = self._complex.get(local) if namespace == TNS else None
        if not children or depth > 32:
            return
        for child in node:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if qname.namespace == TNS and qname.localname in children:
                self._walk(child, children[qname.localname], depth + 1)
