"""Plain read requests answered without spyne's per-request machinery (``soap.direct``) get the
very bytes spyne's path gives them: the same requests, valid or not, are sent through the whole
web application with the direct path on and off, and status, headers and body must be equal."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap_orders.bootstrap import build_dependencies, create_wsgi_app
from soap_orders.soap.direct import direct_operations
from soap_orders.soap.ns import SOAP11_ENV, TNS
from tests.records import (
    order_record,
    shipped,
    store,
    store_subscriptions,
    subscription_record,
)
from tests.server import ALL_SCOPES, add_client, settings_for_tests

DIRECT = {operation.name: operation for operation in direct_operations()}
ORDERS = ("DR-1", "DR-2", "DR-3")
EMAILS = ("ann.lee@example.com", "bob@example.com")
SUBSCRIPTIONS = ("SUB-DR-1", "SUB-DR-2")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A web application over a SQLite file with orders, subscriptions and their events, and the
    credentials of a client with every scope and of one that may only read orders."""
    url = f"sqlite:///{tmp_path_factory.mktemp('direct')}/orders.sqlite3"
    from soap_orders.adapters import migrate
    from soap_orders.adapters.database import create_database_engine

    engine = create_database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    # One moment for the whole module: an answer that says when it was written (an export's
    # GeneratedAt) is then the same both ways.
    moment = datetime.now(timezone.utc)
    deps = build_dependencies(settings_for_tests(url), clock=lambda: moment)
    store(deps, order_record(ORDERS[0], EMAILS[0]), shipped(order_record(ORDERS[1], EMAILS[0])),
          order_record(ORDERS[2], EMAILS[1], Status="CANCELLED", FinancialStatus="REFUNDED"))
    store_subscriptions(deps, subscription_record(SUBSCRIPTIONS[0], EMAILS[0]),
                        subscription_record(SUBSCRIPTIONS[1], EMAILS[1]))
    full = add_client(url, "direct-all", ALL_SCOPES, digest=False)
    reader = add_client(url, "direct-reader", ("orders:read",), digest=False)
    app = create_wsgi_app(settings_for_tests(url), dependencies=deps)
    yield app, {"all": _basic("direct-all", full), "reader": _basic("direct-reader", reader)}
    deps.engine.dispose()


def _basic(name: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def endpoint_of(app: Any) -> Any:
    return app.app.soap.endpoint


def call(app: Any, body: bytes, headers: dict[str, str], *, path: str = "/soap",
         method: str = "POST") -> tuple[str, list[tuple[str, str]], bytes]:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "HTTP_X_REQUEST_ID": "direct-test",
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, response_headers

    chunks = app(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return seen["status"], seen["headers"], data


def both_ways(app: Any, body: bytes, headers: dict[str, str]) -> tuple[Any, Any, bool]:
    """The answer with the direct path on, whether it answered, and the answer through spyne."""
    endpoint = endpoint_of(app)
    direct = endpoint.direct
    answered: list[bool] = []

    def watched(environ: dict[str, Any], data: bytes) -> bytes | None:
        answer = direct(environ, data)
        answered.append(answer is not None)
        return answer

    endpoint.direct = watched
    try:
        fast = call(app, body, headers)
        endpoint.direct = None
        slow = call(app, body, headers)
    finally:
        endpoint.direct = direct
    return fast, slow, any(answered)


def envelope(inner: str, *, header: str | None = None, body_attrs: str = "") -> bytes:
    head = f"<s:Header>{header}</s:Header>" if header is not None else ""
    return (f'<s:Envelope xmlns:s="{SOAP11_ENV}" xmlns:o="{TNS}" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{head}<s:Body{body_attrs}>{inner}</s:Body>'
            "</s:Envelope>").encode()


#: The site's stored values, by request field: each read's plain request is derived from its
#: declaration, with these for its fields (a field without one is left out; a required one must have one).
STORED = {
    "OrderNumber": ORDERS[1],
    "Email": EMAILS[0],
    "TrackingNumber": "RM123456789GB",
    "AfterEventId": "0",
    "SubscriptionId": SUBSCRIPTIONS[0],
}


def plain_request(operation: Any) -> str:
    """The operation's request element with a stored value for each field that has one."""
    missing = [f.name for f in operation.request if f.required and f.name not in STORED]
    assert not missing, f"{operation.name}: give STORED a value for {missing}"
    children = "".join(f"<o:{f.name}>{STORED[f.name]}</o:{f.name}>" for f in operation.request if f.name in STORED)
    return f"<o:{operation.name}>{children}</o:{operation.name}>"


PLAIN = {name: plain_request(operation) for name, operation in DIRECT.items()}
SOAP_TYPE = {"Content-Type": "text/xml; charset=utf-8"}


def test_every_read_operation_is_answered_directly_and_alike(site):
    app, auth = site
    assert {"GetOrder", "GetOrderEvents", "ExportCustomerData"} <= set(PLAIN)  # what the tests below rely on
    for name, inner in PLAIN.items():
        fast, slow, answered = both_ways(app, envelope(inner), {**SOAP_TYPE, "Authorization": auth["all"]})
        assert answered, name
        assert fast[0] == "200 OK", (name, fast[2][:300])
        assert fast == slow, name
        if "Find" in name:  # the searches find what was stored, so found documents are compared too
            assert b"<tns:TotalCount>0</tns:TotalCount>" not in fast[2], name
        if name == "ExportCustomerData":  # both orders and the subscription of the email
            assert all(f"<tns:OrderNumber>{n}</tns:OrderNumber>".encode() in fast[2] for n in ORDERS[:2]), name
            assert f"<tns:SubscriptionId>{SUBSCRIPTIONS[0]}</tns:SubscriptionId>".encode() in fast[2], name


def test_what_the_direct_path_declines_is_answered_by_spyne(site):
    app, auth = site
    cases = [  # (request, headers, answered directly)
        (envelope(PLAIN["GetOrder"], header=""), SOAP_TYPE, False),  # a Header, even empty
        (envelope(PLAIN["GetOrder"].replace("<o:OrderNumber>", '<o:OrderNumber xsi:type="xs:string">')),
         SOAP_TYPE, False),
        (envelope(PLAIN["GetOrder"].replace(ORDERS[1], "DR-NOPE")), SOAP_TYPE, False),  # a fault
        (envelope(PLAIN["GetOrderEvents"]), SOAP_TYPE, False),  # the reader lacks the erp scope
        # ISO-8859-1 of ASCII text is answered directly, like any other
        (envelope(PLAIN["GetOrder"]), {"Content-Type": "text/xml; charset=iso-8859-1"}, True),
    ]
    for body, headers, direct in cases:
        fast, slow, answered = both_ways(app, body, {**headers, "Authorization": auth["reader"]})
        assert fast == slow
        assert answered is direct, body


# ---------------------------------------------------------------------- arbitrary requests

VALUES = {
    "OrderNumber": st.sampled_from(ORDERS + ("DR-NOPE", " DR-1 ", "dr-1", "")),
    "Email": st.sampled_from(EMAILS + ("ANN.LEE@EXAMPLE.COM", " bob@example.com ", "nobody@example.com",
                                       "not-an-email", "")),
    "Status": st.sampled_from(("PROCESSING", "SHIPPED", "CANCELLED", "ACTIVE", "PAUSED", "processing", "")),
    "PlacedFrom": st.sampled_from(("2026-01-01", "2026-03-01", "2026-13-01", "yesterday", " 2026-01-01 ")),
    "PlacedTo": st.sampled_from(("2026-12-31", "2026-02-28", "2025-01-01", "9999-12-31", "2026-02-30")),
    "PageSize": st.sampled_from(("1", "2", "20", "100", "101", "0", "-1", " 5 ", "abc", "99999999999999999999")),
    "PageNumber": st.sampled_from(("1", "2", "3", "0", "-4", "1.5")),
    "TrackingNumber": st.sampled_from(("RM123456789GB", " rm123456789gb ", "NOPE", "")),
    "AfterEventId": st.sampled_from(("0", "1", "3", "-1", "x", "1000000")),
    "MaxEvents": st.sampled_from(("1", "2", "500", "501", "0")),
    "SubscriptionId": st.sampled_from(SUBSCRIPTIONS + ("SUB-NOPE", "")),
}
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    operation = DIRECT[draw(st.sampled_from(sorted(DIRECT)))]
    children = []
    for field in operation.request:
        if draw(st.integers(0, 19)) < (19 if field.required else 8):
            value = draw(VALUES.get(field.name, TEXT) if draw(st.integers(0, 19)) else TEXT)
            children.append(f"<o:{field.name}>{_escape(value)}</o:{field.name}>")
    twist = draw(st.integers(0, 30))  # above 11: none
    if twist == 1 and children:
        children.append(children[0])  # repeated
    elif twist == 2 and len(children) > 1:
        children.reverse()  # out of order
    elif twist == 3:
        children.append("<o:Unknown>1</o:Unknown>")
    elif twist == 4 and children:
        children[0] = children[0].replace("<o:", "<x:", 1).replace("</o:", "</x:", 1).replace(
            ">", ' xmlns:x="urn:other">', 1)
    elif twist == 5 and children:
        children[0] = children[0].replace(">", ' xsi:nil="true">', 1)
    elif twist == 6 and children:
        children[0] = children[0].replace(">", "><o:Inner>1</o:Inner>", 1)
    elif twist == 7 and children:
        children[0] = children[0].split(">")[0] + "/>"  # empty
    inner = f"<o:{operation.name}>{''.join(children)}</o:{operation.name}>"
    if twist == 8:
        inner += f"<o:{operation.name}/>"  # two operations
    header = draw(st.sampled_from((None, "", '<w:Other xmlns:w="urn:x" s:mustUnderstand="1"/>'))) if twist == 9 else None
    body = envelope(inner, header=header, body_attrs=' Id="b"' if twist == 10 else "")
    headers = {"Content-Type": draw(st.sampled_from(("text/xml; charset=utf-8", "text/xml", "text/xml; charset=UTF-8",
                                                     'text/xml; charset="utf-8"', "application/xml")))}
    if twist == 11:
        headers["SOAPAction"] = draw(st.sampled_from((f'"{operation.name}"', '"GetOrder"', "", f"urn:x#{operation.name}")))
    return body, headers


def test_any_read_request_gets_the_same_answer_both_ways(site):
    app, auth = site
    seen = {"sent": 0, "direct": 0}

    @settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(request=requests(), who=st.sampled_from(("all", "all", "reader")))
    def same_answer(request: tuple[bytes, dict[str, str]], who: str) -> None:
        body, headers = request
        fast, slow, answered = both_ways(app, body, {**headers, "Authorization": auth[who]})
        seen["sent"] += 1
        seen["direct"] += answered
        assert fast == slow, body

    same_answer()
    # The comparison is worth something only if both paths answered many of the requests (a
    # sixth at least: a third of the requests come from the reader, who may call only some).
    assert 0.15 * seen["sent"] <= seen["direct"] <= 0.8 * seen["sent"], seen
