"""The schema the importer checks XML Orders with is written from the documents' declarations: each
of its types is the WSDL's type of the same name (documentation aside, which checks nothing)."""

from __future__ import annotations

from lxml import etree

from soap_orders.bootstrap import build_wsdl
from soap_orders.documents.fields import TNS
from soap_orders.documents.orders import ORDER, ORDER_INPUT
from soap_orders.documents.xsd import XS, schema
from soap_orders.ingest.xml import order_input_schema, order_schema


def _bare(node: etree._Element) -> bytes:
    """``node`` compared as a tree: no documentation, whitespace or unused namespace declarations."""
    copy = etree.fromstring(etree.tostring(node))
    for annotation in copy.findall(f".//{{{XS}}}annotation"):
        annotation.getparent().remove(annotation)
    for element in copy.iter():
        element.text = element.tail = None
    etree.cleanup_namespaces(copy, top_nsmap={"xs": XS, "tns": TNS}, keep_ns_prefixes=["xs", "tns"])
    return etree.tostring(copy, method="c14n")


def _published() -> dict[tuple[str, str], etree._Element]:
    wsdl = etree.fromstring(build_wsdl("http://localhost/soap"))
    [node] = [n for n in wsdl.iter(f"{{{XS}}}schema") if n.get("targetNamespace") == TNS]
    return {(etree.QName(child).localname, child.get("name")): child for child in node if child.get("name")}


def test_every_type_of_an_order_is_the_published_one() -> None:
    published = _published()
    written = schema({"Order": ORDER, "OrderInput": ORDER_INPUT})
    names = [(etree.QName(child).localname, child.get("name")) for child in written]
    assert ("complexType", "OrderInput") in names and ("simpleType", "Amount") in names and len(names) > 40
    for child, key in zip(written, names, strict=True):
        assert key in published, key
        assert _bare(child) == _bare(published[key]), key


def test_the_importers_schemas_take_what_each_order_type_takes() -> None:
    answer = (f'<Order xmlns="{TNS}"><OrderNumber>X-1</OrderNumber><OrderType>STANDARD</OrderType>'
              '<Channel>WEB</Channel></Order>')
    element = etree.fromstring(answer)
    # Incomplete for both; the answers' Order wants Status next, the sent one also takes CreatedAt.
    assert not order_schema().validate(element) and not order_input_schema().validate(element)
    assert "Status" in str(order_schema().error_log.last_error)
