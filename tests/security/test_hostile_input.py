"""Hostile input, one class at a time, against the real server (SQLite and PostgreSQL).

Every test checks the same five things: the HTTP status; the faultcode and ErrorCode; that nothing
leaked (no marker from the input, no traceback, no HTML, no file content, no local path); that
nothing changed in the store (each hostile body carries an IssueRefund for an arranged, paid order,
so a request that slipped through would show as a refund); and that the next normal request is
served. The values that must be accepted (SQL metacharacters, bidi controls) are stored and
returned intact.
"""

from __future__ import annotations

import base64
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import inspect, text

from tests.records import order_record, store, unique
from tests.server import ROOT, Server
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TNS = "urn:soap-orders:orders:v1"
MARKER = "ZQX-HOSTILE-MARKER"
#: The largest body the dedicated "big body" server accepts, so that the XML parser's own limits
#: (libxml2's depth of 256, the service's MAX_ELEMENTS) are reached instead of the body limit.
BIG_BODY = 4 * 1024 * 1024
#: A hostile request is answered at once: nothing is expanded, fetched or retried.
FAST = 5.0


# ---------------------------------------------------------------------- what must never leak


def _file_lines(path: str) -> list[str]:
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []
    # Whole lines only, and not trivially short ones: a two-letter host name such as "vm" could
    # appear by chance in any XML answer, a passwd line ("root:x:0:0:...") cannot.
    return [line.strip() for line in lines if len(line.strip()) >= 6][:5]


LEAKS = [
    MARKER,
    "Traceback",
    "<html",
    'File "',
    "site-packages",
    str(ROOT),
    "/etc/",
    "/tmp/",
    "root:x:0",
    *_file_lines("/etc/passwd"),
    *_file_lines("/etc/hostname"),
]


def assert_nothing_leaked(response: Any) -> None:
    text_ = response.content.decode("utf-8", "replace")
    headers = str(dict(response.headers))
    for leak in LEAKS:
        assert leak.lower() not in text_.lower(), f"{leak!r} leaked into the answer:\n{text_[:2000]}"
        assert leak.lower() not in headers.lower(), f"{leak!r} leaked into the headers: {headers}"


def fault(response: Any, status: int) -> dict[str, str]:
    """The fault's faultcode (local part), faultstring and detail, after the common checks."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    assert response.headers.get("X-Request-Id")
    assert_nothing_leaked(response)
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{ENV}}}Envelope"
    node = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert node is not None, response.content[:2000]
    code = node.findtext("faultcode") or ""
    found = {"faultcode": code.split(":", 1)[-1], "faultstring": node.findtext("faultstring") or ""}
    found.update(fault_detail(node.find("detail")))
    assert set(found) == {"faultcode", "faultstring", "ErrorCode", "Message", "Retryable"}, found
    assert found["Retryable"] == "false", found
    return found


# ---------------------------------------------------------------------- requests


def envelope(body: str, header: str | None = None, namespace: str = ENV) -> str:
    head = f"<s:Header>{header}</s:Header>" if header is not None else ""
    return f'<s:Envelope xmlns:s="{namespace}" xmlns:o="{TNS}">{head}<s:Body>{body}</s:Body></s:Envelope>'


def refund(number: str, *, note: str | None = None, amount: str | None = None, extra: str = "",
           request_id: str | None = None) -> str:
    """An IssueRefund for ``number``: the request that would change the store if it got through."""
    parts = [f"<o:OrderNumber>{number}</o:OrderNumber>",
             f"<o:RequestId>{request_id or unique(MARKER)}</o:RequestId>",
             "<o:Reason>OTHER</o:Reason>"]
    if amount is not None:
        parts.append(f"<o:Amount>{amount}</o:Amount>")
    parts.append(extra)
    if note is not None:
        parts.append(f"<o:Note>{note}</o:Note>")
    return "<o:IssueRefund>" + "".join(parts) + "</o:IssueRefund>"


def get_order(number: str) -> str:
    return f"<o:GetOrder><o:OrderNumber>{number}</o:OrderNumber></o:GetOrder>"


def post(server: Server, body: bytes | str, *, content_type: str = "text/xml; charset=utf-8",
         headers: dict[str, str] | None = None) -> requests.Response:
    return server.post(body, headers={"Content-Type": content_type, **(headers or {})})


def assert_next_request_is_served(server: Server) -> None:
    ok = server.post(envelope("<o:FindOrdersByEmail><o:Email>next@example.com</o:Email></o:FindOrdersByEmail>"))
    assert ok.status_code == 200, ok.content[:2000]
    assert b"FindOrdersByEmailResponse" in ok.content


# ---------------------------------------------------------------------- the store


def arrange(server_deps: Any) -> str:
    """A paid, processing EUR order of 30.00 with nothing refunded."""
    (number,) = store(server_deps, order_record(unique("HOSTILE")))
    return number


def state(server_deps: Any, number: str) -> dict[str, Any]:
    with server_deps.uow() as uow:
        order = uow.orders.get(number)
        assert order is not None
        return {
            "status": order.status.value,
            "financial_status": order.financial_status.value,
            "refunds": [(r.refund_id, r.amount, r.note) for r in order.refunds],
            "lines": [(line.line_number, line.quantity_refunded, line.quantity_cancelled, line.status.value)
                      for line in order.lines],
            "updated_at": order.updated_at,
        }


def assert_unchanged(server_deps: Any, number: str, before: dict[str, Any]) -> None:
    after = state(server_deps, number)
    assert after == before
    assert after["refunds"] == [] and after["status"] == "PROCESSING" and after["financial_status"] == "PAID"


def check_refused(server: Server, server_deps: Any, number: str, before: dict[str, Any], response: Any, *,
                  status: int, faultcode: str, error_code: str, says: str = "") -> dict[str, str]:
    found = fault(response, status)
    assert found["faultcode"] == faultcode, found
    assert found["ErrorCode"] == error_code, found
    assert says in found["Message"], found
    assert found["faultstring"] == found["Message"]
    assert response.elapsed.total_seconds() < FAST
    assert_unchanged(server_deps, number, before)
    assert_next_request_is_served(server)
    return found


# ---------------------------------------------------------------------- hostile bodies, one class each

LOL = ("<!DOCTYPE lolz [<!ENTITY lol0 \"" + MARKER + "\">"
       + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
       + "]>")
#: A comment that pushes whatever follows past the first 4 KiB the parser's DOCTYPE check reads.
PROLOGUE_4K = "<!--" + "p" * 5000 + "-->"
PASSWD_ENTITY = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@dataclass(frozen=True)
class Hostile:
    body: Callable[[str], bytes]  # order number -> request body
    status: int
    faultcode: str
    error_code: str
    says: str = ""
    content_type: str = "text/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _utf8(make: Callable[[str], str]) -> Callable[[str], bytes]:
    return lambda number: make(number).encode("utf-8")


def _with_bytes(make: Callable[[str], str], placeholder: str, raw: bytes) -> Callable[[str], bytes]:
    """The envelope in UTF-8 with ``placeholder`` replaced by raw bytes (not representable in XML)."""
    return lambda number: make(number).encode("utf-8").replace(placeholder.encode(), raw)


def _lying_utf16(parity: int) -> Callable[[str], bytes]:
    """A UTF-8 body labelled UTF-16. Whether it decodes as (garbage) UTF-16 depends on its length:
    an odd number of bytes cannot be UTF-16 at all."""
    def make(number: str) -> bytes:
        body = ('<?xml version="1.0" encoding="UTF-8"?>' + envelope(refund(number))).encode()
        return body if len(body) % 2 == parity else body + b" "
    return make


VALIDATION = "Client.ValidationError"

HOSTILE = [
    # -- entity expansion: any DOCTYPE is refused before the parser sees it
    pytest.param(Hostile(_utf8(lambda n: '<?xml version="1.0"?>' + LOL + envelope(refund(n, note="&lol9;"))),
                         500, VALIDATION, "DTD_FORBIDDEN", "Document type declarations are not allowed"),
                 id="billion-laughs"),
    pytest.param(Hostile(_utf8(lambda n: '<!DOCTYPE r [<!ENTITY big "' + MARKER + "A" * 50_000 + '">]>'
                               + envelope(refund(n, note="&big;" * 4000))),
                         500, VALIDATION, "DTD_FORBIDDEN", "not allowed"),
                 id="quadratic-blowup"),
    pytest.param(Hostile(_utf8(lambda n: PASSWD_ENTITY + envelope(refund(n, note="&xxe;"))),
                         500, VALIDATION, "DTD_FORBIDDEN", "not allowed"),
                 id="external-entity-file"),
    pytest.param(Hostile(_utf8(lambda n: '<!DOCTYPE r [<!ENTITY % pe "<!ENTITY inner \'' + MARKER + '\'>"> %pe;]>'
                               + envelope(refund(n, note="&inner;"))),
                         500, VALIDATION, "DTD_FORBIDDEN", "not allowed"),
                 id="parameter-entity-internal"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(
                     n, note='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'))),
                         500, VALIDATION, "XINCLUDE_FORBIDDEN", "XInclude is not allowed"),
                 id="xinclude-file"),
    # -- size and shape
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, note="<a/>" * 6000))),
                         500, VALIDATION, "TOO_MANY_ELEMENTS", "more than 5000 elements"),
                 id="elements-over-cap-under-body-limit"),
    pytest.param(Hostile(lambda n: b"", 500, VALIDATION, "EMPTY_BODY", "empty"), id="empty-body"),
    pytest.param(Hostile(lambda n: b"  \r\n\t ", 500, VALIDATION, "EMPTY_BODY", "empty"), id="whitespace-body"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n)).replace("</o:IssueRefund>", f"<o:{MARKER}></o:IssueRefund>")),
                         500, VALIDATION, "MALFORMED_XML", "not well-formed"),
                 id="malformed-xml"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n))[:-len("</s:Body></s:Envelope>")]),
                         500, VALIDATION, "MALFORMED_XML", "ends before the XML is complete"),
                 id="unterminated-xml"),
    # -- characters and encodings
    pytest.param(Hostile(_with_bytes(lambda n: envelope(refund(n, note=f"{MARKER}CTRL")), "CTRL", b"\x01\x02"),
                         500, VALIDATION, "MALFORMED_XML", "character XML does not allow"),
                 id="control-character-raw"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, note=f"{MARKER}&#x1;"))),
                         500, VALIDATION, "MALFORMED_XML", "not well-formed"),
                 id="control-character-reference"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n))), 500, VALIDATION, "UNSUPPORTED_CHARSET",
                         "charset is not a supported", content_type="text/xml; charset=x-unknown"),
                 id="bad-charset"),
    pytest.param(Hostile(_lying_utf16(1), 500, VALIDATION, "INVALID_ENCODING", "not valid utf-16",
                         content_type="text/xml; charset=utf-16"),
                 id="lying-charset-utf16-odd-length"),
    # An even-length UTF-8 body decodes as (CJK) UTF-16 text, which is then not XML at all.
    pytest.param(Hostile(_lying_utf16(0), 500, VALIDATION, "MALFORMED_XML", "not well-formed",
                         content_type="text/xml; charset=utf-16"),
                 id="lying-charset-utf16-even-length"),
    pytest.param(Hostile(_utf8(lambda n: '<?xml version="1.0" encoding="ISO-8859-1"?>' + envelope(refund(n))),
                         500, VALIDATION, "CHARSET_MISMATCH", "disagrees with the Content-Type charset"),
                 id="charset-disagrees-with-declaration"),
    pytest.param(Hostile(_with_bytes(lambda n: envelope(refund(n, note=f"{MARKER}BAD")), "BAD", b"\xff\xfe\xc3"),
                         500, VALIDATION, "INVALID_ENCODING", "not valid utf-8"),
                 id="invalid-utf8-with-charset"),
    pytest.param(Hostile(_with_bytes(lambda n: envelope(refund(n, note=f"{MARKER}BAD")), "BAD", b"\xff\xfe\xc3"),
                         500, VALIDATION, "MALFORMED_XML", "not valid in its character encoding", content_type="text/xml"),
                 id="invalid-utf8-without-charset"),
    # An overlong "<" (C0 BC) is how filters that look at characters, not bytes, are bypassed.
    pytest.param(Hostile(_with_bytes(lambda n: envelope(refund(n, note=f"{MARKER}BAD")), "BAD", b"\xc0\xbcscript"),
                         500, VALIDATION, "INVALID_ENCODING", "not valid utf-8"),
                 id="overlong-utf8"),
    pytest.param(Hostile(_with_bytes(lambda n: envelope(refund(n, note=f"{MARKER}BAD")), "BAD", b"\xed\xa0\x80"),
                         500, VALIDATION, "INVALID_ENCODING", "not valid utf-8"),
                 id="utf8-encoded-surrogate"),
    # -- the envelope
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n), namespace=SOAP12)),
                         500, "VersionMismatch", "VERSION_MISMATCH", "SOAP 1.1 only",
                         content_type="text/xml; charset=utf-8"),
                 id="soap12-envelope"),
    # SOAP 1.2's own media type is refused at the HTTP edge, before the body is read.
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n), namespace=SOAP12)),
                         415, VALIDATION, "UNSUPPORTED_MEDIA_TYPE", "text/xml",
                         content_type="application/soap+xml; charset=utf-8"),
                 id="soap12-media-type"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n), namespace=f"urn:{MARKER}")),
                         500, "VersionMismatch", "VERSION_MISMATCH", "SOAP 1.1 only"),
                 id="wrong-envelope-namespace"),
    pytest.param(Hostile(_utf8(lambda n: f'<{MARKER} xmlns:o="{TNS}">{refund(n)}</{MARKER}>'),
                         500, VALIDATION, "NOT_AN_ENVELOPE", "not a SOAP Envelope"),
                 id="not-an-envelope"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n) + refund(n))),
                         500, VALIDATION, "INVALID_BODY", "exactly one operation"),
                 id="two-operations-in-body"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n), header=f'<x:{MARKER} xmlns:x="urn:x" s:mustUnderstand="1">v</x:{MARKER}>')),
                         500, "MustUnderstand", "MUST_UNDERSTAND", "mustUnderstand"),
                 id="unknown-header-must-understand-1"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n), header=f'<x:{MARKER} xmlns:x="urn:x" s:mustUnderstand="true">v</x:{MARKER}>')),
                         500, "MustUnderstand", "MUST_UNDERSTAND", "mustUnderstand"),
                 id="unknown-header-must-understand-true"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, extra=f"<o:{MARKER}>1</o:{MARKER}>"))),
                         500, VALIDATION, "SCHEMA_VIOLATION", "not expected"),
                 id="unknown-element-in-operation"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, extra=f'<e:Amount xmlns:e="urn:{MARKER}">1.00</e:Amount>'))),
                         500, VALIDATION, "SCHEMA_VIOLATION", "not expected"),
                 id="foreign-namespace-element-in-operation"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n)).replace("IssueRefund", MARKER)),
                         500, VALIDATION, "UNKNOWN_OPERATION", "does not name an operation"),
                 id="unknown-operation"),
    pytest.param(Hostile(_utf8(lambda n: envelope(
                     f'<o:IssueRefund><o:OrderNumber href="#r1"/><o:RequestId>{unique(MARKER)}</o:RequestId>'
                     '<o:Reason>OTHER</o:Reason></o:IssueRefund>'
                     f'<o:Ref id="r1">{n}<o:Loop href="#r1"/></o:Ref>')),
                         500, VALIDATION, "MULTIREF_FORBIDDEN", "href/id"),
                 id="multiref-href-id-cycle"),
    # -- types and values
    pytest.param(Hostile(_utf8(lambda n: envelope(f"<o:FindOrdersByEmail><o:Email>ann.lee@example.com</o:Email>"
                                                  f"<o:PageSize>{MARKER}</o:PageSize></o:FindOrdersByEmail>")),
                         500, VALIDATION, "SCHEMA_VIOLATION", "PageSize is not a valid whole number"),
                 id="letters-in-page-size"),
    pytest.param(Hostile(_utf8(lambda n: envelope("<o:FindOrdersByEmail><o:Email>ann.lee@example.com</o:Email>"
                                                  "<o:PageSize>99999999999999999999999</o:PageSize></o:FindOrdersByEmail>")),
                         500, VALIDATION, "SCHEMA_VIOLATION", "PageSize must be at most 100"),
                 id="integer-out-of-range"),
    pytest.param(Hostile(_utf8(lambda n: envelope("<o:FindOrdersByEmail><o:Email>ann.lee@example.com</o:Email>"
                                                  "<o:PlacedFrom>2026-02-30</o:PlacedFrom></o:FindOrdersByEmail>")),
                         500, VALIDATION, "SCHEMA_VIOLATION", "PlacedFrom is not a valid date"),
                 id="bad-date"),
    *[
        pytest.param(Hostile(_utf8(lambda n, a=amount: envelope(refund(n, amount=a))), 500, VALIDATION, code, says),
                     id=f"amount-{name}")
        for name, amount, code, says in [
            ("nan", "NaN", "SCHEMA_VIOLATION", "Amount is not a valid decimal number"),
            ("infinity", "Infinity", "SCHEMA_VIOLATION", "Amount is not a valid decimal number"),
            ("inf", "INF", "SCHEMA_VIOLATION", "Amount is not a valid decimal number"),
            ("exponent", "1E2", "SCHEMA_VIOLATION", "Amount is not a valid decimal number"),
            ("negative", "-5.00", "SCHEMA_VIOLATION", "Amount must be greater than 0"),
            ("zero", "0", "SCHEMA_VIOLATION", "Amount must be greater than 0"),
            ("negative-zero", "-0.00", "SCHEMA_VIOLATION", "Amount must be greater than 0"),
            ("five-decimals", "1.00001", "SCHEMA_VIOLATION", "Amount has too many decimal places"),
            ("too-many-digits", "1234567890123456789", "SCHEMA_VIOLATION", "Amount has too many digits"),
            # 4 fraction digits pass the schema (some currencies have 3 or 4); EUR has 2.
            ("three-decimals-for-eur", "10.001", "INVALID_AMOUNT", "Amount has more than 2 decimal places for EUR"),
            ("fifteen-integer-digits", "100000000000000.00", "INVALID_AMOUNT", "Amount is too large"),
        ]
    ],
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, note=MARKER + "n" * 1001))),
                         500, VALIDATION, "SCHEMA_VIOLATION", "Note is longer than 1000 characters"),
                 id="string-just-over-max-length"),
    pytest.param(Hostile(_utf8(lambda n: envelope(refund(n, request_id=MARKER + "r" * (65 - len(MARKER)))))
                         , 500, VALIDATION, "SCHEMA_VIOLATION", "RequestId is longer than 64 characters"),
                 id="request-id-one-over-max-length"),
]


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_request_is_refused_and_changes_nothing(server, server_deps, case: Hostile):
    number = arrange(server_deps)
    before = state(server_deps, number)
    response = post(server, case.body(number), content_type=case.content_type, headers=case.headers)
    check_refused(server, server_deps, number, before, response, status=case.status, faultcode=case.faultcode,
                  error_code=case.error_code, says=case.says)


# ---------------------------------------------------------------------- DTDs the 4 KiB check does not see

#: DOCTYPEs a byte check of the first 4 KiB would not see: after a long comment, or in UTF-16
#: without an HTTP charset (the body would reach libxml2 undecoded). libxml2 runs with no entity
#: resolution, no DTD loading and no network in any case.
HIDDEN_DTD = {
    "billion-laughs-after-4k-prologue":
        lambda n: ('<?xml version="1.0"?>' + PROLOGUE_4K + LOL + envelope(refund(n, note="&lol9;"))).encode(),
    "billion-laughs-in-attribute-after-4k-prologue":
        lambda n: (PROLOGUE_4K + LOL + envelope(refund(n)).replace("<o:IssueRefund>", '<o:IssueRefund a="&lol9;">')).encode(),
    "billion-laughs-utf16-without-charset":
        lambda n: ('<?xml version="1.0" encoding="UTF-16"?>' + LOL + envelope(refund(n, note="&lol9;"))).encode("utf-16"),
    "quadratic-blowup-after-4k-prologue":
        lambda n: (PROLOGUE_4K + '<!DOCTYPE r [<!ENTITY big "' + "A" * 50_000 + '">]>'
                   + envelope(refund(n, note="&big;" * 4000))).encode(),
    "external-entity-file-after-4k-prologue":
        lambda n: (PROLOGUE_4K + PASSWD_ENTITY + envelope(refund(n, note="&xxe;"))).encode(),
    "external-entity-file-utf16-without-charset":
        lambda n: ('<?xml version="1.0" encoding="UTF-16"?>' + PASSWD_ENTITY + envelope(refund(n, note="&xxe;"))).encode("utf-16"),
}


#: DOCTYPEs after a comment or processing instruction that holds something like a tag: a search
#: for the first "<" not followed by "?" or "!" would take it for the root element and stop there.
BEHIND_MARKUP = {
    "billion-laughs-after-comment-holding-a-tag":
        lambda n: ("<!-- <a> -->" + LOL + envelope(refund(n, note="&lol9;"))).encode(),
    "billion-laughs-after-processing-instruction-holding-a-tag":
        lambda n: ("<?note <a>?>" + LOL + envelope(refund(n, note="&lol9;"))).encode(),
}
DISGUISED_DTD = {**HIDDEN_DTD, **BEHIND_MARKUP}


@pytest.mark.parametrize("name", sorted(DISGUISED_DTD))
def test_a_disguised_dtd_is_still_refused_as_a_dtd(server, server_deps, name):
    number = arrange(server_deps)
    before = state(server_deps, number)
    response = post(server, DISGUISED_DTD[name](number), content_type="text/xml")
    found = fault(response, 500)
    assert found["faultcode"] == VALIDATION
    # The whole prologue is walked (decoded when it is UTF-16, past comments and processing
    # instructions), so the DOCTYPE is refused before libxml2 reads it: never expanded or fetched.
    assert found["ErrorCode"] == "DTD_FORBIDDEN", found
    assert response.elapsed.total_seconds() < FAST
    assert_unchanged(server_deps, number, before)
    assert_next_request_is_served(server)


# ---------------------------------------------------------------------- nothing is fetched


class _Trap(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every connection it is offered."""

    daemon_threads = True

    def __init__(self) -> None:
        self.connections: list[Any] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f'<!ENTITY fetched "{MARKER}">'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml-dtd")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections.append(client_address)
        return True


@pytest.fixture
def trap() -> Iterator[tuple[str, _Trap]]:
    httpd = _Trap()
    thread = threading.Thread(target=httpd.serve_forever, name="dtd-trap", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


FETCHING = {
    "external-dtd-http": (lambda url, n: f'<!DOCTYPE s:Envelope SYSTEM "{url}/evil.dtd">' + envelope(refund(n, note="&fetched;")),
                          "utf-8", "DTD_FORBIDDEN"),
    "external-dtd-http-after-4k-prologue": (
        lambda url, n: PROLOGUE_4K + f'<!DOCTYPE s:Envelope SYSTEM "{url}/evil.dtd">' + envelope(refund(n, note="&fetched;")),
        "utf-8", "DTD_FORBIDDEN"),
    "external-dtd-http-utf16-without-charset": (
        lambda url, n: f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s:Envelope SYSTEM "{url}/evil.dtd">'
                       + envelope(refund(n, note="&fetched;")),
        "utf-16", "DTD_FORBIDDEN"),
    "external-entity-http": (lambda url, n: f'<!DOCTYPE r [<!ENTITY fetched SYSTEM "{url}/entity">]>' + envelope(refund(n, note="&fetched;")),
                             "utf-8", "DTD_FORBIDDEN"),
    "parameter-entity-http": (lambda url, n: f'<!DOCTYPE r [<!ENTITY % remote SYSTEM "{url}/p.dtd"> %remote;]>'
                                             + envelope(refund(n, note="&fetched;")),
                              "utf-8", "DTD_FORBIDDEN"),
    "parameter-entity-http-after-4k-prologue": (
        lambda url, n: PROLOGUE_4K + f'<!DOCTYPE r [<!ENTITY % remote SYSTEM "{url}/p.dtd"> %remote;]>'
                       + envelope(refund(n, note="&fetched;")),
        "utf-8", "DTD_FORBIDDEN"),
    "xinclude-http": (lambda url, n: envelope(refund(n, note=f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/x" parse="text"/>')),
                      "utf-8", "XINCLUDE_FORBIDDEN"),
}


@pytest.mark.parametrize("name", sorted(FETCHING))
def test_nothing_is_fetched_over_the_network(server, server_deps, trap, name):
    url, httpd = trap
    make, encoding, error_code = FETCHING[name]
    number = arrange(server_deps)
    before = state(server_deps, number)
    response = post(server, make(url, number).encode(encoding), content_type="text/xml")
    check_refused(server, server_deps, number, before, response, status=500, faultcode=VALIDATION, error_code=error_code)
    assert httpd.connections == [], "the server fetched a URL named in the request"
    # The trap works: a direct request is recorded (so the empty list above means something).
    assert requests.get(url + "/probe", timeout=5).status_code == 200
    assert len(httpd.connections) == 1


# ---------------------------------------------------------------------- limits: which one answers


@pytest.fixture(scope="module")
def big_body_server(server, tmp_path_factory) -> Iterator[Server]:
    """A second server on the same database whose body limit is 4 MiB instead of 256 KiB, so that a
    huge document reaches the XML parser and its own limits answer."""
    directory = tmp_path_factory.mktemp("big-body")
    running = Server(server.database_url, directory / "gunicorn.log", workers=1, client_name="big-body",
                     extra_env={"SOAP_ORDERS_MAX_BODY": str(BIG_BODY)})
    yield running
    running.stop()


def _deep(n: str) -> str:
    # 100,000 levels take 700 KB ("<a>" + "</a>"), more than the 256 KiB body limit.
    return envelope(refund(n, note="<a>" * 100_000 + MARKER + "</a>" * 100_000))


def _many(n: str) -> str:
    # 300,000 elements take 1.2 MB ("<a/>"), more than the 256 KiB body limit.
    return envelope(refund(n, note=("<a/>" * 300_000) + MARKER))


@pytest.mark.parametrize(
    ("make", "big", "status", "error_code", "says"),
    [
        # Default server: the body limit answers first, before a byte is parsed.
        pytest.param(_deep, False, 413, "PAYLOAD_TOO_LARGE", "larger than the limit of 262144 bytes", id="deep-nesting-100k-body-limit"),
        pytest.param(_many, False, 413, "PAYLOAD_TOO_LARGE", "larger than the limit of 262144 bytes", id="elements-300k-body-limit"),
        # 4 MiB body limit: libxml2's depth limit (256 levels, huge_tree off) answers for nesting...
        pytest.param(_deep, True, 500, "MALFORMED_XML", "nested too deeply", id="deep-nesting-100k-depth-limit"),
        # ... and the service's MAX_ELEMENTS (5,000) for the element count.
        pytest.param(_many, True, 500, "TOO_MANY_ELEMENTS", "more than 5000 elements", id="elements-300k-element-cap"),
    ],
)
def test_huge_document_is_refused_by_the_first_limit_it_reaches(server, server_deps, request, make, big, status,
                                                                 error_code, says):
    target = request.getfixturevalue("big_body_server") if big else server
    number = arrange(server_deps)
    before = state(server_deps, number)
    body = make(number).encode()
    assert (len(body) > 256 * 1024) and (len(body) < BIG_BODY)
    response = post(target, body)
    check_refused(target, server_deps, number, before, response, status=status, faultcode=VALIDATION,
                  error_code=error_code, says=says)
    assert_next_request_is_served(server)


def _chunks(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize(
    ("how", "size"),
    [
        pytest.param("content-length", 300 * 1024, id="oversize-content-length"),
        pytest.param("chunked", 300 * 1024, id="oversize-chunked"),
        pytest.param("content-length", 1024 * 1024, id="one-megabyte-string"),
    ],
)
def test_oversize_body_is_refused_with_413(server, server_deps, how, size):
    number = arrange(server_deps)
    before = state(server_deps, number)
    body = envelope(refund(number, note=MARKER + "x" * size)).encode()
    # requests sends a generator body with Transfer-Encoding: chunked and no Content-Length.
    response = post(server, _chunks(body) if how == "chunked" else body)  # type: ignore[arg-type]
    found = check_refused(server, server_deps, number, before, response, status=413, faultcode=VALIDATION,
                          error_code="PAYLOAD_TOO_LARGE", says="262144 bytes")
    assert found["ErrorCode"] == "PAYLOAD_TOO_LARGE"


# ---------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    elapsed_seconds: float

    @property
    def elapsed(self) -> Any:
        import datetime

        return datetime.timedelta(seconds=self.elapsed_seconds)


def basic_auth(server: Server) -> str:
    name, secret = server.credentials
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode("ascii")


def raw_exchange(port: int, data: bytes) -> RawResponse:
    """Send ``data``, shut the write side (the client has nothing more), read the answer to EOF."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return RawResponse(int(lines[0].split()[1]), headers, content, time.monotonic() - started)


@pytest.mark.parametrize(
    ("declared_extra", "status", "error_code"),
    [
        pytest.param(1000, 400, "TRUNCATED_BODY", id="truncated-body"),
        # A Content-Length over the limit is refused from the header alone, without reading.
        pytest.param(10**12, 413, "PAYLOAD_TOO_LARGE", id="declared-length-over-limit"),
    ],
)
def test_body_shorter_than_its_content_length(server, server_deps, declared_extra, status, error_code):
    number = arrange(server_deps)
    before = state(server_deps, number)
    body = envelope(refund(number, note=MARKER)).encode()
    head = (f"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
            f"Authorization: {basic_auth(server)}\r\n"
            f"Content-Length: {len(body) + declared_extra}\r\nConnection: close\r\n\r\n").encode()
    response = raw_exchange(server.port, head + body)
    check_refused(server, server_deps, number, before, response, status=status, faultcode=VALIDATION,
                  error_code=error_code)


# ---------------------------------------------------------------------- refused vs served


@pytest.mark.parametrize(
    ("header", "served"),
    [
        pytest.param('<x:Audit xmlns:x="urn:x" s:mustUnderstand="1">v</x:Audit>', False, id="must-understand-1-refused"),
        pytest.param('<x:Audit xmlns:x="urn:x">v</x:Audit>', True, id="same-header-without-must-understand-served"),
        pytest.param('<x:Audit xmlns:x="urn:x" s:mustUnderstand="0">v</x:Audit>', True, id="must-understand-0-served"),
    ],
)
def test_must_understand_header_is_refused_but_an_optional_one_is_ignored(server, server_deps, header, served):
    number = arrange(server_deps)
    before = state(server_deps, number)
    response = post(server, envelope(get_order(number), header=header))
    if served:
        assert response.status_code == 200, response.content[:2000]
        assert_nothing_leaked(response)
        assert etree.fromstring(response.content).findtext(f".//{{{TNS}}}OrderNumber") == number
        assert_unchanged(server_deps, number, before)
    else:
        check_refused(server, server_deps, number, before, response, status=500, faultcode="MustUnderstand",
                      error_code="MUST_UNDERSTAND")


@pytest.mark.parametrize(
    ("action", "operation", "served"),
    [
        pytest.param("CancelOrder", "GetOrder", False, id="spoofed-cancel-action-get-body"),
        pytest.param(f'"{TNS}/CancelOrder"', "GetOrder", False, id="spoofed-qualified-action-get-body"),
        # The dangerous direction: a gateway that allows read-only actions must not let a write through.
        pytest.param('"GetOrder"', "IssueRefund", False, id="spoofed-get-action-refund-body"),
        pytest.param('"GetOrder"', "GetOrder", True, id="matching-action-served"),
        pytest.param(f'"{TNS}#GetOrder"', "GetOrder", True, id="matching-qualified-action-served"),
        pytest.param('""', "GetOrder", True, id="empty-quoted-action-served"),
        pytest.param("", "GetOrder", True, id="empty-action-served"),
        pytest.param(None, "GetOrder", True, id="no-action-header-served"),
    ],
)
def test_soap_action_must_agree_with_the_body(server, server_deps, action, operation, served):
    number = arrange(server_deps)
    before = state(server_deps, number)
    body = get_order(number) if operation == "GetOrder" else refund(number)
    response = post(server, envelope(body), headers={} if action is None else {"SOAPAction": action})
    if served:
        assert response.status_code == 200, response.content[:2000]
        assert_nothing_leaked(response)
        assert etree.fromstring(response.content).find(f".//{{{TNS}}}GetOrderResponse") is not None
        assert_unchanged(server_deps, number, before)
        assert_next_request_is_served(server)
    else:
        check_refused(server, server_deps, number, before, response, status=500, faultcode=VALIDATION,
                      error_code="SOAPACTION_MISMATCH", says="SOAPAction")


# ---------------------------------------------------------------------- accepted, stored, returned intact


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize(
    "note",
    [
        pytest.param("'; DROP TABLE orders; --", id="sql-drop-table"),
        pytest.param("x' OR '1'='1\" OR \"1\"=\"1 /* */ UNION SELECT * FROM orders -- % _ \\ ;", id="sql-metacharacters"),
        pytest.param("Refund \u202egnp.exe\u202c \u2066isolate\u2069 \u200f\u200e \u061c", id="bidi-controls"),
        pytest.param("<script>alert(1)</script> & &amp; ]]> \"quoted\" 'single'", id="xml-and-html-metacharacters"),
        pytest.param("\U0001F600" * 1000, id="max-length-of-astral-characters"),
        pytest.param("line one\nline two\ttabbed", id="newline-and-tab"),
    ],
)
def test_metacharacters_are_stored_and_returned_intact(server, server_deps, note):
    number = arrange(server_deps)
    response = post(server, envelope(refund(number, amount="1.00", note=_escape(note))))
    assert response.status_code == 200, response.content[:2000]
    assert_nothing_leaked(response)
    answer = etree.fromstring(response.content)
    assert answer.findtext(f".//{{{TNS}}}Outcome") == "REFUNDED"

    read = post(server, envelope(get_order(number)))
    assert read.status_code == 200
    refunds = etree.fromstring(read.content).findall(f".//{{{TNS}}}Refunds/{{{TNS}}}Refund")
    assert [r.findtext(f"{{{TNS}}}Note") for r in refunds] == [note]

    with server_deps.uow() as uow:
        stored = uow.orders.get(number)
        assert stored is not None and [r.note for r in stored.refunds] == [note]
    assert inspect(server_deps.engine).has_table("orders")
    with server_deps.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM orders WHERE order_number = :n"), {"n": number}).scalar() == 1
    assert_next_request_is_served(server)
