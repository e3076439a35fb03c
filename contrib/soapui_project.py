#!/usr/bin/env python3
"""Generate a SoapUI project from the committed WSDL and the golden request envelopes.

    .venv/bin/python contrib/soapui_project.py [--endpoint URL] [--output FILE]

writes ``contrib/soap-orders-soapui-project.xml``: one interface built from ``wsdl/orders.wsdl``
(cached in the project, so SoapUI needs no network to open it), one request per
``wsdl/examples/*-request.xml`` under its operation, with the right SOAPAction, and HTTP Basic
credentials taken from the project properties ``client`` and ``secret`` (set them in SoapUI;
the secret is never written to the file). Ids are derived from names, so the same inputs give
the same file. Point ``--endpoint`` (or the project's endpoint list) at your deployment.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
WSDL = ROOT / "wsdl" / "orders.wsdl"
EXAMPLES = ROOT / "wsdl" / "examples"
OUTPUT = ROOT / "contrib" / "soap-orders-soapui-project.xml"
DEFAULT_ENDPOINT = "http://127.0.0.1:8000/soap"

CON = "http://eviware.com/soapui/config"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
_IDS = uuid.UUID("0b6f5f4e-7c1d-4a36-9a43-2f1f3d5e8a10")


def _id(*names: str) -> str:
    return str(uuid.uuid5(_IDS, "/".join(names)))


def _el(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{CON}}}{tag}", attributes)
    if text is not None:
        node.text = text
    return node


def soap_actions(wsdl: bytes) -> tuple[str, str, dict[str, str]]:
    """(target namespace, binding name, {operation: SOAPAction}) of the WSDL's SOAP 1.1 binding."""
    tree = etree.fromstring(wsdl)
    binding = tree.find(f"{{{WSDL_NS}}}binding")
    if binding is None:
        raise ValueError("the WSDL has no binding")
    actions = {}
    for operation in binding.findall(f"{{{WSDL_NS}}}operation"):
        soap = operation.find(f"{{{SOAP11_BINDING}}}operation")
        actions[operation.get("name", "")] = soap.get("soapAction", "") if soap is not None else ""
    return tree.get("targetNamespace", ""), binding.get("name", ""), actions


def build_project(wsdl: bytes, requests: dict[str, bytes], endpoint: str = DEFAULT_ENDPOINT) -> bytes:
    """The project document; ``requests`` maps an example name (``GetOrder-not-found``) to its envelope."""
    namespace, binding, actions = soap_actions(wsdl)
    definition = f"{endpoint}?wsdl"
    project = etree.Element(f"{{{CON}}}soapui-project", {
        "id": _id("project"), "activeEnvironment": "Default", "name": "soap_orders", "resourceRoot": "",
        "soapui-version": "5.7.0", "abortOnError": "false", "runType": "SEQUENTIAL",
    }, nsmap={"con": CON})
    _el(project, "settings")
    interface = _el(project, "interface", **{
        f"{{{XSI}}}type": "con:WsdlInterface", "id": _id("interface"), "wsaVersion": "NONE", "name": binding,
        "type": "wsdl", "bindingName": f"{{{namespace}}}{binding}", "soapVersion": "1_1", "anonymous": "optional",
        "definition": definition,
    })
    _el(interface, "settings")
    cache = _el(interface, "definitionCache", type="TEXT", rootPart=definition)
    part = _el(cache, "part")
    _el(part, "url", definition)
    content = _el(part, "content")
    content.text = etree.CDATA(wsdl.decode("utf-8").split("?>", 1)[-1].strip())
    _el(part, "type", WSDL_NS)
    _el(_el(interface, "endpoints"), "endpoint", endpoint)
    for operation, action in actions.items():
        node = _el(interface, "operation", id=_id("operation", operation), isOneWay="false", action=action,
                   name=operation, bindingOperationName=operation, type="Request-Response", inputName="",
                   receivesAttachments="false", sendsAttachments="false", anonymous="optional")
        _el(node, "settings")
        for name in sorted(n for n in requests if n.split("-", 1)[0] == operation):
            call = _el(node, "call", id=_id("call", name), name=name)
            _el(call, "settings")
            _el(call, "encoding", "UTF-8")
            _el(call, "endpoint", endpoint)
            body = _el(call, "request")
            body.text = etree.CDATA(requests[name].decode("utf-8").split("?>", 1)[-1].strip())
            credentials = _el(call, "credentials")
            _el(credentials, "username", "${#Project#client}")
            _el(credentials, "password", "${#Project#secret}")
            _el(credentials, "selectedAuthProfile", "Basic")
            _el(credentials, "addedBasicAuthenticationTypes", "Basic")
            _el(credentials, "preemptive", "true")
            _el(credentials, "authType", "Preemptive")
            _el(call, "jmsConfig", JMSDeliveryMode="PERSISTENT")
            _el(call, "jmsPropertyConfig")
            _el(call, "wsaConfig", mustUnderstand="NONE", version="200508", action=action)
            _el(call, "wsrmConfig", version="1.2")
    properties = _el(project, "properties")
    for key, value in (("client", "demo"), ("secret", "")):
        prop = _el(properties, "property")
        _el(prop, "name", key)
        _el(prop, "value", value)
    _el(project, "wssContainer")
    _el(project, "oAuth2ProfileContainer")
    _el(project, "sensitiveInformation")
    return etree.tostring(project, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def golden_requests(directory: Path = EXAMPLES) -> dict[str, bytes]:
    return {path.name.removesuffix("-request.xml"): path.read_bytes() for path in sorted(directory.glob("*-request.xml"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a SoapUI project for soap_orders.")
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help=f"service endpoint (default {DEFAULT_ENDPOINT})")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the project")
    args = parser.parse_args(argv)
    document = build_project(WSDL.read_bytes(), golden_requests(), args.endpoint)
    args.output.write_bytes(document)
    print(f"Wrote {args.output}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
