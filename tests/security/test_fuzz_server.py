"""Fuzzing a real server over HTTP with mutations of the golden envelopes in wsdl/examples/.

A seeded generator (the same requests on every run) mutates the examples' elements, values,
attributes, bytes, charsets and SOAPAction headers, injecting marker strings. Every answer must be
a SOAP 1.1 envelope (never HTML or another body), never ``Server.InternalError``, every client
fault must say ``Retryable`` false (but for throttling), no fault may repeat a marker, and a refused
request must leave the store as it was.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree
from sqlalchemy import func, select

from soap_orders.adapters.orm import (
    audit_records,
    idempotency_records,
    order_events,
    orders,
    refunds,
)
from soap_orders.bootstrap import build_dependencies
from soap_orders.operations import OPERATIONS
from tests.records import (
    order_record,
    store,
    store_example_orders,
    store_example_subscriptions,
)
from tests.server import Server, settings_for_tests
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:soap-orders:orders:v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
SEED = 20260512
REQUESTS = 2000
CLIENT_FAULTS = {"Client.ValidationError", "Client.OrderNotFound", "Client.SubscriptionNotFound",
                 "Client.IdempotencyConflict", "Client.Forbidden", "Client.AuthenticationFailed", "VersionMismatch",
                 "MustUnderstand"}
WRITES = tuple(operation.name for operation in OPERATIONS if operation.writes)

HOSTILE_VALUES = [
    "", " ", "9999-12-31", "0001-01-01", "10000-01-01", "-0001-01-01", "2026-02-30", "2026-01-01T00:00:00Z",
    "2026-01-01+14:00", "0", "-1", "1E2", "NaN", "INF", "99999999999999999999999", "0.00001", "1.5", "true",
    "'; DROP TABLE orders; --", "\u202e", "\U0001f600", "a@b", "@", "x" * 300, "SO-100001", "SO-100002",
    "CUSTOMER", "DAMAGED", "<![CDATA[x]]>", "&amp;", "\t\n",
]
XSI_TYPES = ["xsd:string", "xsd:int", "xsd:integer", "xsd:decimal", "xsd:date", "xsd:dateTime", "xsd:boolean",
             "xsd:long", "xsd:float", "xsd:anyType", "o:Order", "nope:string", "xsd:{marker}"]
CHARSETS = ["UTF-8", "iso-8859-1", "utf-16", "utf-16-le", "windows-1252", "us-ascii", "base64", "hex",
                             "zlib", "bz2", "uu", "quopri", "rot13", "punycode", "utf-7", "unicode_escape",
                             "raw_unicode_escape", "idna", "x-unknown", "", '"utf-8"']
SOAP_ACTIONS = ["", '""', "{operation}", '"{operation}"', f'"{TNS}#{{operation}}"', f"{TNS}/{{operation}}",
                             "GetOrder", "::#/"]
SNIPPETS = [b"<!DOCTYPE x>", b"&e;", b"<", b">", b"&", b"\x00", b"\xff", b"\xc0\xbc", b"\xed\xa0\x80", b"]]>",
            b' href="#a"', b' id="a"', b"<s:Header/>", b"</soapenv:Body>", b'<?xml version="1.0" encoding="UTF-16"?>',
            b' xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope"', b"<!-- c -->", b"<?pi x?>"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[Server]:
    from tests.conftest import _database

    directory = tmp_path_factory.mktemp("fuzz-server")
    server = Server(_database("sqlite", directory, "fuzz"), directory / "gunicorn.log")
    deps = build_dependencies(settings_for_tests(server.database_url))
    try:
        store_example_orders(deps)
        store_example_subscriptions(deps)
        store(deps, *(order_record(f"SO-2000{i:02d}", "ann.lee@example.com", CreatedAt=f"2026-04-{i + 1:02d}T10:00:00Z")
                      for i in range(20)))
    finally:
        deps.engine.dispose()
    yield server
    server.stop()


def state(server: Server, engine) -> str:
    """A digest of everything a request may change."""
    with engine.connect() as connection:
        counts = [connection.scalar(select(func.count()).select_from(table))
                  for table in (order_events, idempotency_records, audit_records, refunds)]
        rows = connection.execute(select(orders.c.order_number, orders.c.status, orders.c.financial_status)
                                  .order_by(orders.c.order_number)).all()
    return hashlib.sha256(repr((counts, rows)).encode()).hexdigest()


# ---------------------------------------------------------------------- the mutations


class Mutator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.examples = [(path.name.split("-")[0], path.read_bytes()) for path in sorted(EXAMPLES.glob("*-request.xml"))]
        self.count = 0

    def marker(self) -> str:
        self.count += 1
        return f"ZQXM{self.count:05d}Q"

    def request(self) -> tuple[str, bytes, dict[str, str], list[str]]:
        """(operation, body, headers, injected markers)."""
        operation, golden = self.random.choice(self.examples)
        root = etree.fromstring(golden)
        markers: list[str] = []
        for _ in range(self.random.choice([0, 1, 1, 1, 2, 2, 3])):  # 0: the golden request, maybe re-encoded
            self.random.choice([self.value, self.value, self.structure, self.xsi_type, self.attribute, self.fresh_id])(
                root, markers)
        body = etree.tostring(root, xml_declaration=self.random.random() < 0.5, encoding="UTF-8")
        if self.random.random() < 0.25:
            body = self.bytes(body)
        charset = self.random.choice(CHARSETS) if self.random.random() < 0.15 else "utf-8"
        if charset in ("utf-16", "utf-16-le", "iso-8859-1", "windows-1252", "us-ascii") and self.random.random() < 0.7:
            body = re.sub(rb"^<\?xml[^>]*\?>", b"", body).decode("utf-8", "replace").encode(charset, "replace")
        headers = {"Content-Type": f"text/xml; charset={charset}" if charset else "text/xml"}
        action = self.random.choice(SOAP_ACTIONS) if self.random.random() < 0.3 else None
        if action is not None:
            headers["SOAPAction"] = action.replace("{operation}", operation)
        return operation, body, headers, markers

    def _leaves(self, root: etree._Element) -> list[etree._Element]:
        body = root.find(f"{{{ENV}}}Body")
        return [node for node in (body.iter() if body is not None else []) if isinstance(node.tag, str) and len(node) == 0]

    def value(self, root: etree._Element, markers: list[str]) -> None:
        leaves = self._leaves(root)
        if not leaves:
            return
        node = self.random.choice(leaves)
        if self.random.random() < 0.5:
            marker = self.marker()
            markers.append(marker)
            node.text = self.random.choice(["{m}", "{m}@example.com", "SO-{m}", "<{m}>", "{m}" * 40, " {m} "]).format(m=marker)
        else:
            node.text = self.random.choice(HOSTILE_VALUES)

    def structure(self, root: etree._Element, markers: list[str]) -> None:
        leaves = self._leaves(root)
        if not leaves:
            return
        node = self.random.choice(leaves)
        parent = node.getparent()
        if parent is None:
            return
        kind = self.random.choice(["delete", "duplicate", "swap", "rename", "unknown-child"])
        if kind == "delete":
            parent.remove(node)
        elif kind == "duplicate":
            parent.insert(parent.index(node), etree.fromstring(etree.tostring(node)))
        elif kind == "swap" and len(parent) > 1:
            first = parent[0]
            parent.remove(first)
            parent.append(first)
        elif kind == "rename":
            marker = self.marker()
            markers.append(marker)
            node.tag = f"{{{TNS}}}{marker}"
        else:
            marker = self.marker()
            markers.append(marker)
            etree.SubElement(parent, f"{{{self.random.choice([TNS, 'urn:other'])}}}{marker}").text = marker

    def xsi_type(self, root: etree._Element, markers: list[str]) -> None:
        leaves = self._leaves(root)
        if not leaves:
            return
        node = self.random.choice(leaves)
        kind = self.random.choice(XSI_TYPES)
        if "{marker}" in kind:
            marker = self.marker()
            markers.append(marker)
            kind = kind.format(marker=marker)
        # Declare the prefixes on a fresh copy of the element, as SOAP::Lite and Axis 1 do.
        copy = etree.Element(node.tag, nsmap={"xsd": XS, "xsi": XSI, "o": TNS})
        copy.text = node.text
        copy.set(f"{{{XSI}}}type", kind)
        node.getparent().replace(node, copy)

    def attribute(self, root: etree._Element, markers: list[str]) -> None:
        nodes = [node for node in root.iter() if isinstance(node.tag, str)]
        node = self.random.choice(nodes)
        kind = self.random.choice(["href", "id", "nil", "must", "marker"])
        if kind == "href":
            node.set("href", "#a")
        elif kind == "id":
            node.set("id", "a")
        elif kind == "nil":
            node.set(f"{{{XSI}}}nil", "true")
        elif kind == "must":
            header = root.find(f"{{{ENV}}}Header")
            if header is None:
                header = etree.Element(f"{{{ENV}}}Header")
                root.insert(0, header)
            marker = self.marker()
            markers.append(marker)
            child = etree.SubElement(header, f"{{urn:other}}{marker}")
            child.set(f"{{{ENV}}}mustUnderstand", "1")
        else:
            marker = self.marker()
            markers.append(marker)
            node.set(f"{{urn:other}}{marker}", marker)

    def fresh_id(self, root: etree._Element, markers: list[str]) -> None:
        """A fresh RequestId, so mutated writes reach the use cases instead of replaying."""
        for node in root.iter(f"{{{TNS}}}RequestId"):
            node.text = f"fuzz-{self.random.getrandbits(48):012x}"

    def bytes(self, body: bytes) -> bytes:
        data = bytearray(body)
        for _ in range(self.random.choice([1, 1, 2, 3])):
            position = self.random.randrange(len(data) + 1)
            kind = self.random.choice(["insert", "delete", "replace", "truncate"])
            snippet = self.random.choice(SNIPPETS) if self.random.random() < 0.7 else self.random.randbytes(4)
            if kind == "insert":
                data[position:position] = snippet
            elif kind == "delete":
                del data[position:position + self.random.randint(1, 16)]
            elif kind == "replace":
                data[position:position + len(snippet)] = snippet
            else:
                del data[position:]
        return bytes(data)


# ---------------------------------------------------------------------- the run


def check(response: requests.Response, markers: list[str]) -> str:
    """The answer is a SOAP envelope with a response or a truthful fault; returns a summary."""
    assert response.headers.get("Content-Type", "").startswith("text/xml"), (response.status_code, response.text[:300])
    content = response.content
    assert b"<html" not in content.lower() and b"Traceback" not in content, content[:300]
    root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{ENV}}}Envelope", content[:300]
    body = root.find(f"{{{ENV}}}Body")
    assert body is not None and len(body) == 1, content[:300]
    answer = body[0]
    if response.status_code == 200:
        assert answer.tag.startswith(f"{{{TNS}}}") and answer.tag.endswith("Response"), content[:300]
        return "200"
    assert answer.tag == f"{{{ENV}}}Fault", (response.status_code, content[:300])
    faultcode = (answer.findtext("faultcode") or "").split(":", 1)[-1]
    assert faultcode in CLIENT_FAULTS, (faultcode, response.status_code, content[:600])
    assert fault_detail(answer.find("detail"))["Retryable"] == "false", content[:600]
    text = response.text
    for marker in markers:
        assert marker not in text, (marker, text[:600])
    return f"{response.status_code} {fault_detail(answer.find('detail'))['ErrorCode']}"


def test_mutated_golden_envelopes_get_truthful_answers_and_refusals_change_nothing(fuzz_server):
    mutator = Mutator(SEED)
    seen: Counter[str] = Counter()
    deps = build_dependencies(settings_for_tests(fuzz_server.database_url))
    try:
        before = state(fuzz_server, deps.engine)
        with requests.Session() as session:
            session.auth = fuzz_server.credentials
            for index in range(REQUESTS):
                operation, body, headers, markers = mutator.request()
                try:
                    response = session.post(fuzz_server.soap_url, data=body, headers=headers, timeout=15)
                except requests.ConnectionError as error:  # pragma: no cover - a failure, reported with its request
                    raise AssertionError(f"request {index} ({operation}) lost its answer: {error!r}\n{body[:500]!r}") from None
                try:
                    summary = check(response, markers)
                except AssertionError as failure:
                    raise AssertionError(f"request {index} ({operation}, {headers}):\n{body[:800]!r}\n{failure}") from None
                seen[summary] += 1
                if operation in WRITES:
                    after = state(fuzz_server, deps.engine)
                    if response.status_code != 200:
                        assert after == before, f"refused request {index} changed the store: {summary}\n{body[:800]!r}"
                    before = after
    finally:
        deps.engine.dispose()
    # The run reached the use cases, not only the parser: answers of each kind were seen.
    assert seen["200"] >= REQUESTS // 10, seen
    assert sum(count for key, count in seen.items() if "SCHEMA_VIOLATION" in key) >= REQUESTS // 20, seen
    assert any("ORDER_NOT_FOUND" in key for key in seen) and any("UNSUPPORTED_CHARSET" in key for key in seen), seen
