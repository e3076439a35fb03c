"""Property-based fuzzing of the whole WSGI application, in-process (no server, SQLite).

Whatever the request, the answer is a well-formed SOAP 1.1 envelope: a 200 with an operation's
response, or a fault (HTTP 500 or 4xx) whose faultcode is one of the contract's client codes and
whose detail is ErrorCode, Message and Retryable. Never HTML, never a traceback, never
Server.InternalError. Runs are derandomized (the same examples every time) and use no example
database, so CI is reproducible and nothing is written to the working tree.
"""

from __future__ import annotations

import base64
import io
import itertools
import logging
import os
import string
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from lxml import etree

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine
from soap_orders.bootstrap import build_dependencies, create_wsgi_app
from soap_orders.domain import orders as model
from tests import (
    server as test_server,  # not "import settings_for_tests": pytest would collect it as a test
)
from tests.records import order_record, shipped, store
from tests.xmltools import fault_detail

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:soap-orders:orders:v1"
KNOWN_FAULTCODES = {
    "Client.ValidationError",
    "Client.OrderNotFound",
    "Client.IdempotencyConflict",
    "VersionMismatch",
    "MustUnderstand",
}
#: Orders that exist in the fuzz database, so that generated requests also reach the use cases.
PAID_ORDERS = tuple(f"FZ-PAID-{i:02d}" for i in range(24))
#: CancelOrder and IssueRefund act on separate paid orders, so one does not use up the other's.
CANCEL_ORDERS = (*PAID_ORDERS[:12], "FZ-SHIPPED", "FZ-JPY", "FZ-BHD")
REFUND_ORDERS = (*PAID_ORDERS[12:], "FZ-SHIPPED", "FZ-JPY", "FZ-BHD")
KNOWN_ORDERS = (*PAID_ORDERS, "FZ-SHIPPED", "FZ-JPY", "FZ-BHD")
KNOWN_EMAIL = "fuzz.customer@example.com"

#: SOAP_ORDERS_FUZZ_SCALE=10 runs ten times as many examples (a longer local or nightly run).
SCALE = max(1, int(os.environ.get("SOAP_ORDERS_FUZZ_SCALE", "1") or "1"))
FUZZ = settings(
    max_examples=120 * SCALE,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# ---------------------------------------------------------------------- the application under test


class Client:
    """Calls the WSGI application with hand-built environs, as gunicorn would (minus its socket)."""

    def __init__(self, app: Any, authorization: str) -> None:
        self.app = app
        self.authorization = authorization

    def post(self, body: bytes, *, content_type: str = "text/xml; charset=utf-8",
             soap_action: str | None = None) -> tuple[int, dict[str, str], bytes]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/soap",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": self.authorization,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if soap_action is not None:
            environ["HTTP_SOAPACTION"] = soap_action
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return int(seen["status"].split()[0]), dict(seen["headers"]), content


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    directory = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{directory}/fuzz.sqlite3"
    engine = create_database_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    secret = test_server.add_client(url, "fuzz")
    configured = test_server.settings_for_tests(url)
    deps = build_dependencies(configured)
    store(
        deps,
        *(order_record(number, email=KNOWN_EMAIL) for number in PAID_ORDERS),
        shipped(order_record("FZ-SHIPPED", email=KNOWN_EMAIL)),
        order_record("FZ-JPY", email=KNOWN_EMAIL, Currency="JPY", Subtotal="2550", ShippingTotal="450", Total="3000",
                     Lines=[{"LineNumber": 1, "Sku": "MUG-RED", "Name": "Red mug", "Quantity": 2, "UnitPrice": "1000",
                             "Status": "PROCESSING"},
                            {"LineNumber": 2, "Sku": "TEA-001", "Name": "Green tea", "Quantity": 1, "UnitPrice": "550",
                             "Status": "PROCESSING"}]),
        order_record("FZ-BHD", email=KNOWN_EMAIL, Currency="BHD"),
    )
    app = create_wsgi_app(configured, dependencies=deps)
    # spyne logs every client fault with a traceback (bootstrap silences it under gunicorn too);
    # the answers are what is checked here.
    quiet = ["spyne", "spyne.application", "spyne.application.client", "spyne.protocol", "spyne.server"]
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield Client(app, "Basic " + base64.b64encode(f"fuzz:{secret}".encode()).decode("ascii"))
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        deps.engine.dispose()


# ---------------------------------------------------------------------- what every answer must be


def check_answer(status: int, headers: dict[str, str], content: bytes, *, echoed: tuple[str, ...] = ()) -> etree._Element:
    """The answer is a well-formed SOAP 1.1 envelope: a response (200) or a contract fault."""
    assert status == 200 or status == 500 or 400 <= status < 500, (status, content[:500])
    assert headers.get("Content-Type", "").startswith("text/xml"), headers
    lowered = content.lower()
    assert b"<html" not in lowered and b"<!doctype" not in lowered, content[:500]
    assert b"Traceback" not in content and b'File "' not in content, content[:500]
    root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{ENV}}}Envelope", content[:500]
    body = root.find(f"{{{ENV}}}Body")
    assert body is not None and len(body) == 1, content[:500]
    answer = body[0]
    if status == 200:
        assert answer.tag.startswith(f"{{{TNS}}}") and answer.tag.endswith("Response"), content[:500]
        _event(f"200 {answer.findtext(f'{{{TNS}}}Outcome') or 'served'}")
        return answer
    assert answer.tag == f"{{{ENV}}}Fault", (status, content[:500])
    _event(f"{status} {fault_detail(answer.find('detail')).get('ErrorCode', '?')}")
    faultcode = (answer.findtext("faultcode") or "").split(":", 1)[-1]
    assert faultcode in KNOWN_FAULTCODES, (faultcode, content[:1000])
    detail = fault_detail(answer.find("detail"))
    assert list(detail) == ["ErrorCode", "Message", "Retryable"], content[:1000]
    error_code, message, retryable = detail["ErrorCode"], detail["Message"], detail["Retryable"]
    assert error_code and error_code.replace("_", "").isalnum() and error_code.isupper(), error_code
    assert message and len(message) <= 300, message
    assert answer.findtext("faultstring") == message
    assert retryable in ("true", "false")
    text = content.decode("utf-8")
    for value in echoed:
        # A fault never repeats the input. Only distinctive values are checked: a short one such
        # as "a" or "1" appears in any answer by chance.
        if len(value.strip()) >= 16 and len(set(value)) >= 4:
            assert _escape(value) not in text and value not in text, (value, message)
    return answer


def _event(name: str) -> None:
    """Counted in --hypothesis-show-statistics, to see how deep the generated requests get."""
    if currently_in_test_context():
        event(name)


# ---------------------------------------------------------------------- rendering values into XML


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(value: str) -> bytes:
    """``value`` as element content: escaped where XML can carry it; otherwise the raw bytes
    (control characters, surrogates, U+FFFE/U+FFFF), which the parser must refuse."""
    out = bytearray()
    for ch in value:
        if _xml_char(ch):
            out += _escape(ch).encode("utf-8")
        else:
            out += ch.encode("utf-8", "surrogatepass")
    return bytes(out)


def element(name: str, value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    inner = value if isinstance(value, bytes) else render(value)
    return b"<o:" + name.encode() + b">" + inner + b"</o:" + name.encode() + b">"


def envelope(operation: str, inner: bytes) -> bytes:
    return (f'<s:Envelope xmlns:s="{ENV}" xmlns:o="{TNS}"><s:Body><o:{operation}>'.encode()
            + inner + f"</o:{operation}></s:Body></s:Envelope>".encode())


# ---------------------------------------------------------------------- generated values

ANY_CHAR = st.characters(codec=None) | st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"])
HOSTILE_STRINGS = st.sampled_from([
    "'; DROP TABLE orders; --", "\u202egnp.exe", "]]>", "&amp;", "<x/>", "%s%s%n", "\\x00", "../../etc/passwd",
    "file:///etc/passwd", "\ufeff", "\ufffe", "\uffff", "\x00", "\x1b[31m", " ", "", "\u00a0", "\r\n", "\U0001F600",
    "1E2", "NaN", "-0", "9" * 40, "ann.lee@example.com", "a@b", "@", "x" * 65, "y" * 255, "z" * 1001,
])
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=ANY_CHAR, max_size=40),
    st.tuples(st.text(alphabet=ANY_CHAR, min_size=1, max_size=3), st.integers(20, 3000)).map(lambda t: t[0] * t[1]),
    HOSTILE_STRINGS,
)
INTEGERS = st.one_of(
    st.integers(-5, 200).map(str),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["2147483648", "-2147483649", "9223372036854775808", "1000001", "0x10", "1e3", "+1", " 7 ", "1.0"]),
    TEXT,
)
DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(min_value=0, max_value=40, places=2).map(str),
    st.sampled_from(["1.00001", "10.001", "1E2", "-1", "0", "INF", "-INF", "NaN", "1" * 30, "0.0000", ".5", "5."]),
    TEXT,
)
DATES = st.one_of(st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()),
                  st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "2026-01-01Z", "2026-01-01+14:00"]), TEXT)


def enum_values(kind: Any) -> Any:
    return st.sampled_from([member.value for member in kind])


XML_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff")
                   | st.sampled_from("\t\n"), min_size=1, max_size=300)
#: Mostly fresh request ids, now and then one used before (for IdempotencyConflict and replays).
#: (Hypothesis leans towards small values, so the reused id is the largest choice, and fresh ids
#: come from a counter rather than st.uuids(), whose simplest value repeats.)
_fresh = itertools.count(1)
REQUEST_ID = st.integers(0, 9).map(lambda k: "fz-reused" if k == 9 else f"fz-{next(_fresh):06d}")
OPTIONAL, REQUIRED = False, True


@st.composite
def refund_lines(draw: Any, hostile: bool) -> list[dict[str, str | None]]:
    """Refund lines: valid ones (existing line numbers and SKUs), or wild ones (any value, up to
    110 lines where the schema allows 100)."""
    if hostile:
        line = st.fixed_dictionaries({"LineNumber": st.none() | INTEGERS,
                                      "Sku": st.none() | st.sampled_from(["MUG-RED", "TEA-001"]) | TEXT,
                                      "Quantity": INTEGERS})
        return draw(st.lists(line, max_size=110))
    line = st.fixed_dictionaries({"LineNumber": st.none() | st.sampled_from(["1", "2"]),
                                  "Sku": st.none() | st.sampled_from(["MUG-RED", "TEA-001"]),
                                  "Quantity": st.sampled_from(["1", "2"])})
    return draw(st.lists(line, min_size=1, max_size=3))


#: Each operation's fields in schema order: (valid values, hostile values, required).
FIELDS: dict[str, list[tuple[str, Any, Any, bool]]] = {
    "FindOrdersByEmail": [
        ("Email", st.sampled_from([KNOWN_EMAIL, KNOWN_EMAIL.upper(), f"  {KNOWN_EMAIL} "]) | st.emails(), TEXT, REQUIRED),
        ("Status", enum_values(model.OrderStatus), TEXT, OPTIONAL),
        ("PlacedFrom", st.dates().map(str), DATES, OPTIONAL),
        ("PlacedTo", st.dates().map(str), DATES, OPTIONAL),
        ("PageSize", st.integers(1, 100).map(str), INTEGERS, OPTIONAL),
        ("PageNumber", st.integers(1, 1_000_000).map(str), INTEGERS, OPTIONAL),
    ],
    "GetOrder": [
        ("OrderNumber", st.sampled_from(KNOWN_ORDERS + ("NOPE", " FZ-PAID-00 ")) | XML_TEXT, TEXT, REQUIRED),
        ("Email", st.sampled_from([KNOWN_EMAIL, "other@example.com"]), TEXT, OPTIONAL),
    ],
    "CancelOrder": [
        ("OrderNumber", st.sampled_from(CANCEL_ORDERS), TEXT, REQUIRED),
        ("RequestId", REQUEST_ID, TEXT, REQUIRED),
        ("Reason", enum_values(model.Reason), TEXT, REQUIRED),
        ("Note", XML_TEXT, TEXT, OPTIONAL),
    ],
    "IssueRefund": [
        ("OrderNumber", st.sampled_from(REFUND_ORDERS), TEXT, REQUIRED),
        ("RequestId", REQUEST_ID, TEXT, REQUIRED),
        ("Reason", enum_values(model.Reason), TEXT, REQUIRED),
        ("Amount", st.decimals(min_value=Decimal("0.001"), max_value=Decimal(40), places=3).map(str), DECIMALS, OPTIONAL),
        ("Lines", refund_lines(False), refund_lines(True), OPTIONAL),
        ("Note", XML_TEXT, TEXT, OPTIONAL),
    ],
}


@st.composite
def operation_fields(draw: Any, operation: str) -> dict[str, Any]:
    """Field values for ``operation``: all valid, valid but one, or wild (every field may be
    hostile). Optional fields may be left out, required ones sometimes too."""
    fields = FIELDS[operation]
    mode = draw(st.sampled_from(["valid", "one-hostile", "one-hostile", "wild"]), label="mode")
    target = draw(st.integers(0, len(fields) - 1), label="hostile field")
    values: dict[str, Any] = {}
    for index, (name, valid, hostile, required) in enumerate(fields):
        if mode == "wild":
            hostile_here = draw(st.booleans())
        else:
            hostile_here = mode == "one-hostile" and index == target
        if hostile_here:
            leave_out = draw(st.integers(0, 9)) == 0  # a missing field is hostile too
            values[name] = None if leave_out else draw(hostile)
        elif required or draw(st.booleans()):
            values[name] = draw(valid)
        else:
            values[name] = None
    return values


def render_lines(lines: list[dict[str, str | None]]) -> bytes:
    return b"".join(
        b"<o:Line>" + b"".join(element(name, line[name]) for name in ("LineNumber", "Sku", "Quantity")) + b"</o:Line>"
        for line in lines
    )


def render_operation(operation: str, fields: dict[str, Any]) -> bytes:
    inner = b""
    for name, value in fields.items():
        inner += element(name, render_lines(value) if name == "Lines" and value is not None else value)
    return envelope(operation, inner)


def strings_in(fields: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in fields.values():
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for line in value for v in line.values() if isinstance(v, str))
    return tuple(found)


# ---------------------------------------------------------------------- (a) operation arguments


@pytest.mark.parametrize("operation", sorted(FIELDS))
@FUZZ
@given(data=st.data())
def test_any_operation_arguments_get_a_response_or_a_contract_fault(client, operation, data):
    fields = data.draw(operation_fields(operation), label="fields")
    status, headers, content = client.post(render_operation(operation, fields), soap_action=operation)
    answer = check_answer(status, headers, content, echoed=strings_in(fields) if status != 200 else ())
    if status == 200:
        assert answer.tag == f"{{{TNS}}}{operation}Response"


# ---------------------------------------------------------------------- (b) raw request bytes

VALID = [
    render_operation("FindOrdersByEmail", {"Email": KNOWN_EMAIL, "PageSize": "5"}),
    render_operation("GetOrder", {"OrderNumber": "FZ-PAID-00"}),
    render_operation("CancelOrder", {"OrderNumber": "FZ-SHIPPED", "RequestId": "fz-cancel", "Reason": "OTHER"}),
    render_operation("IssueRefund", {"OrderNumber": "FZ-PAID-23", "RequestId": "fz-refund", "Reason": "OTHER",
                                     "Lines": [{"LineNumber": "1", "Sku": None, "Quantity": "1"}],
                                     "Note": "fuzz"}),
]
INTERESTING = [
    b"<!DOCTYPE x>", b'<!DOCTYPE x [<!ENTITY e "zz">]>', b"&e;", b"&lt;", b"&#0;", b"&#x1;", b"<", b">", b"&", b"\x00",
    b"\xff", b"\xc0\xbc", b"\xed\xa0\x80", b"]]>", b"<![CDATA[x]]>", b"<?pi x?>", b"<!-- c -->",
    b' xmlns:s="http://www.w3.org/2003/05/soap-envelope"', b' xmlns:o="urn:other"', b' href="#a"', b' id="a"',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
    b' s:mustUnderstand="1"', b"<s:Header/>", b"</s:Body>", b"<s:Body>", b"</o:GetOrder>",
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"',
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="o:Order"',
    b' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:int"',
    b"<o:Amount>1.00</o:Amount>", b"<o:Line><o:Quantity>1</o:Quantity></o:Line>", b'<?xml version="1.0" encoding="UTF-16"?>',
]
CONTENT_TYPES = st.sampled_from([
    # The usual content type, more often than the odd ones, so that mutations reach the parser.
    *["text/xml; charset=utf-8"] * 8, "text/xml", "application/xml", "text/xml; charset=iso-8859-1", "text/xml; charset=utf-16",
    "text/xml; charset=x-unknown", 'text/xml; charset="utf-8"', "text/xml; charset=", "application/soap+xml",
])
SOAP_ACTIONS = st.sampled_from([None, "", '""', "GetOrder", "IssueRefund", '"urn:soap-orders:orders:v1/CancelOrder"', "::#/"])


@st.composite
def mutated(draw: Any) -> bytes:
    doc = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3, 6]))):
        position = draw(st.integers(0, len(doc)))
        chunk = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=8)
                     | st.text(alphabet=string.printable, min_size=1, max_size=8).map(str.encode))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert":
            doc[position:position] = chunk
        elif kind == "delete":
            del doc[position:position + draw(st.integers(1, 16))]
        else:
            doc[position:position + len(chunk)] = chunk
    return bytes(doc)


@FUZZ
@given(body=st.binary(max_size=4096), content_type=CONTENT_TYPES)
def test_any_bytes_get_a_contract_fault(client, body, content_type):
    status, headers, content = client.post(body, content_type=content_type)
    check_answer(status, headers, content)


@settings(FUZZ, max_examples=400 * SCALE)
@given(body=mutated(), content_type=CONTENT_TYPES, soap_action=SOAP_ACTIONS)
def test_mutated_envelopes_get_a_response_or_a_contract_fault(client, body, content_type, soap_action):
    status, headers, content = client.post(body, content_type=content_type, soap_action=soap_action)
    check_answer(status, headers, content)


def test_the_valid_envelopes_are_served(client):
    """The seeds of the mutations are themselves valid requests (so mutations start from a 200)."""
    for body in VALID:
        status, headers, content = client.post(body)
        assert status == 200, content[:1000]
        check_answer(status, headers, content)
