"""The served WSDL is the committed one, and its address comes from configuration only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from lxml import etree

from soap_orders.bootstrap import build_openapi, build_wsdl
from soap_orders.operations import OPERATIONS
from tests.xmltools import assert_nodes_equal

COMMITTED = Path(__file__).resolve().parents[2] / "wsdl" / "orders.wsdl"
COMMITTED_OPENAPI = COMMITTED.with_name("openapi.json")
COMMITTED_URL = "http://127.0.0.1:8000/soap"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def address_of(document: bytes) -> str:
    return etree.fromstring(document).find(f".//{{{SOAP}}}address").get("location")


def with_address(document: bytes, url: str) -> etree._Element:
    tree = etree.fromstring(document)
    tree.find(f".//{{{SOAP}}}address").set("location", url)
    return tree


def operations_in(document: bytes) -> set[str]:
    tree = etree.fromstring(document)
    return {op.get("name") for op in tree.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation")}


def test_generated_wsdl_matches_the_committed_copy():
    """Regenerate with `make wsdl` after a deliberate contract change."""
    assert_nodes_equal(build_wsdl(COMMITTED_URL), COMMITTED.read_bytes())


def test_committed_wsdl_names_every_declared_operation():
    assert operations_in(COMMITTED.read_bytes()) == {operation.name for operation in OPERATIONS}


def test_generated_openapi_matches_the_committed_copy():
    """Regenerate with `make wsdl` after a deliberate contract change."""
    assert json.loads(build_openapi(COMMITTED_URL)) == json.loads(COMMITTED_OPENAPI.read_bytes())


@pytest.mark.slow
def test_served_openapi_matches_the_committed_copy_but_for_its_server(server):
    served = requests.get(f"{server.base_url}/openapi.json", timeout=10).json()
    committed = json.loads(COMMITTED_OPENAPI.read_bytes())
    assert served.pop("servers") == [{"url": server.base_url}]
    committed.pop("servers")
    assert served == committed


@pytest.mark.slow
def test_served_wsdl_matches_the_committed_copy(server):
    served = requests.get(server.wsdl_url, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("text/xml")
    assert address_of(served.content) == server.soap_url
    assert_nodes_equal(with_address(served.content, COMMITTED_URL), COMMITTED.read_bytes())


@pytest.mark.slow
def test_wsdl_address_ignores_the_host_header(server):
    for host in ("evil.example", "10.0.0.1:9999"):
        served = requests.get(server.wsdl_url, headers={"Host": host, "X-Forwarded-Host": host}, timeout=10)
        assert address_of(served.content) == server.soap_url


SOAP12_NAMESPACES = {"http://schemas.xmlsoap.org/wsdl/soap12/", "http://www.w3.org/2003/05/soap-envelope",
                     "http://www.w3.org/2003/05/soap-encoding"}


def soap12_declarations(document: bytes) -> dict[str | None, str]:
    """The prefixes any element of ``document`` declares for a SOAP 1.2 namespace."""
    return {prefix: namespace for node in etree.fromstring(document).iter()
            for prefix, namespace in node.nsmap.items() if namespace in SOAP12_NAMESPACES}


def test_the_wsdl_declares_no_soap_1_2_namespace():
    """An unused ``wsdlsoap12`` declaration made gSOAP's wsdl2h generate a SOAP 1.2 client, which
    this SOAP 1.1 endpoint refuses with 415: nothing of SOAP 1.2 is published."""
    for name, document in (("generated", build_wsdl(COMMITTED_URL)), ("committed", COMMITTED.read_bytes())):
        assert soap12_declarations(document) == {}, f"the {name} WSDL declares SOAP 1.2"
        assert b"soap12" not in document and b"2003/05/soap-" not in document, f"the {name} WSDL names SOAP 1.2"
