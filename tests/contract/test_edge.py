"""What every client meets at the HTTP edge, over real HTTP: the 401 challenge for calls without
credentials and faults on HTTP 500 for every other refusal; no lock-out of the real client; a
readable fault and a usable connection after a 413; absurd chunk sizes refused at once; only text
charsets; xsi:type naming the element's own built-in type accepted; the largest date accepted."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from soap_orders.cli import main
from tests.contract.test_auth import (
    WSSE,
    cancel_body,
    envelope,
    fault_of,
    unchanged,
    username_token,
)
from tests.records import order_record, store, unique
from tests.server import TEST_SECRET_KEY, Server, add_client

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:soap-orders:orders:v1"
CHALLENGES = ['Basic realm="soap_orders"', 'Bearer realm="soap_orders"']
MARKER = "ZQX-EDGE-MARKER"


def find(email: str = "nobody@example.com", extra: str = "") -> str:
    return envelope(f"<o:FindOrdersByEmail><o:Email>{email}</o:Email>{extra}</o:FindOrdersByEmail>")


@pytest.fixture
def order(server_deps):
    (number,) = store(server_deps, order_record())
    return number


# ---------------------------------------------------------------------- the challenge and R1126


def test_a_call_without_any_credentials_gets_the_challenge(server, server_deps, order):
    response = server.post(envelope(cancel_body(order)), auth=None)
    assert response.status_code == 401
    assert response.raw.headers.getlist("WWW-Authenticate") == CHALLENGES
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.AuthenticationFailed" and fault["Retryable"] == "false"
    unchanged(server_deps, order)


def test_a_challenge_based_client_retries_with_basic_and_is_served(server):
    """What suds and SOAP::Lite do: send without credentials, read the challenge, send again."""
    name, secret = server.credentials
    with requests.Session() as session:
        first = session.post(server.soap_url, data=find(), headers={"Content-Type": "text/xml"}, timeout=10)
        assert first.status_code == 401
        scheme = first.headers["WWW-Authenticate"].split()[0]
        assert scheme == "Basic"
        basic = base64.b64encode(f"{name}:{secret}".encode()).decode()
        second = session.post(server.soap_url, data=find(), timeout=10,
                              headers={"Content-Type": "text/xml", "Authorization": f"{scheme} {basic}"})
    assert second.status_code == 200 and b"FindOrdersByEmailResponse" in second.content


#: Bodies no operation can be read from, with their Content-Type and the fault each gets once the
#: caller is known.
UNREADABLE_BODIES = {
    "malformed": (f'<s:Envelope xmlns:s="{ENV}"><s:Body><o:GetOrder>', "text/xml; charset=utf-8", "MALFORMED_XML"),
    "empty": ("", "text/xml; charset=utf-8", "EMPTY_BODY"),
    "doctype": ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]>' + find("&e;"), "text/xml", "DTD_FORBIDDEN"),
    "unknown-charset": (find(), "text/xml; charset=x-no-such-charset", "UNSUPPORTED_CHARSET"),
    "not-utf-16": (find(), "text/xml; charset=utf-16", "INVALID_ENCODING"),
    "not-an-envelope": (f'<o:GetOrder xmlns:o="{TNS}"/>', "text/xml", "NOT_AN_ENVELOPE"),
    "soap-1.2": (find().replace(ENV, "http://www.w3.org/2003/05/soap-envelope"), "text/xml", "VERSION_MISMATCH"),
    "soapaction-mismatch": (find(), "text/xml", "SOAPACTION_MISMATCH"),
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE_BODIES))
def test_a_body_without_credentials_gets_the_challenge_before_it_is_read(server, kind):
    """A client that answers challenges sends its first call without credentials: whatever is wrong
    with the body, the answer is the challenge (a validation fault would end the exchange there);
    sent again with credentials, the body gets its own fault."""
    body, content_type, error_code = UNREADABLE_BODIES[kind]
    headers = {"Content-Type": content_type, "SOAPAction": '"GetOrder"' if kind == "soapaction-mismatch" else '""'}
    with requests.Session() as session:
        first = session.post(server.soap_url, data=body.encode(), headers=headers, timeout=10)
        assert first.status_code == 401, first.text[:500]
        assert first.raw.headers.getlist("WWW-Authenticate") == CHALLENGES
        fault = fault_of(first)
        assert fault["faultcode"] == "Client.AuthenticationFailed" and fault["ErrorCode"] == "AUTHENTICATION_FAILED"
        basic = base64.b64encode(":".join(server.credentials).encode()).decode()
        second = session.post(server.soap_url, data=body.encode(), headers={**headers, "Authorization": f"Basic {basic}"},
                              timeout=10)
    assert second.status_code == 500 and "WWW-Authenticate" not in second.headers
    assert fault_of(second)["ErrorCode"] == error_code


def test_ws_security_is_checked_before_the_envelope(server, server_deps, order):
    """A body that parses and carries wsse:Security is authenticated by it first: wrong credentials
    are refused as such (HTTP 500, no challenge), before any check of the envelope."""
    name, secret = server.credentials
    wrong = envelope(cancel_body(order), username_token(name, "wrong-secret", digest=False, with_nonce=False))
    response = server.post(wrong, auth=None, headers={"SOAPAction": '"GetOrder"'})
    assert response.status_code == 500 and "WWW-Authenticate" not in response.headers
    assert fault_of(response)["faultcode"] == "Client.AuthenticationFailed"
    right = envelope(cancel_body(order), username_token(name, secret, digest=False, with_nonce=False))
    response = server.post(right, auth=None, headers={"SOAPAction": '"GetOrder"'})
    assert response.status_code == 500 and fault_of(response)["ErrorCode"] == "SOAPACTION_MISMATCH"
    unchanged(server_deps, order)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_anyauth_gets_through(server):
    name, secret = server.credentials
    completed = subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20", "--anyauth", "--user", f"{name}:{secret}",
         "--header", "Content-Type: text/xml; charset=utf-8", "--data-binary", find(),
         "--write-out", "\n%{http_code}", server.soap_url],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    body, _, status = completed.stdout.rpartition("\n")
    assert status == "200" and "FindOrdersByEmailResponse" in body


@pytest.mark.parametrize("header", ["wrong-password", "security-without-token"])
def test_ws_security_refusals_are_faults_on_500(server, server_deps, order, header):
    name, _ = server.credentials
    if header == "wrong-password":
        security = username_token(name, "wrong-secret", digest=False, with_nonce=False)
    else:
        security = f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:Other/></wsse:Security>'
    response = server.post(envelope(cancel_body(order), security), auth=None)
    assert response.status_code == 500 and "WWW-Authenticate" not in response.headers
    assert fault_of(response)["faultcode"] == "Client.AuthenticationFailed"
    unchanged(server_deps, order)


def test_unsupported_authorization_scheme_is_a_fault_on_500(server):
    response = server.post(find(), auth=None, headers={"Authorization": "Negotiate abc"})
    assert response.status_code == 500 and fault_of(response)["faultcode"] == "Client.AuthenticationFailed"


def test_the_private_wsdl_and_the_token_endpoint_keep_their_http_statuses(server):
    name, _ = server.credentials
    assert server.token((name, "wrong")).status_code == 401


# ---------------------------------------------------------------------- no lock-out of the real client


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    """A server behind a trusted proxy (127.0.0.1) that throttles after 3 failures; each test uses
    addresses of its own in X-Forwarded-For."""
    from tests.conftest import _database

    directory = tmp_path_factory.mktemp("throttled")
    server = Server(_database("sqlite", directory, "throttled"), directory / "gunicorn.log", extra_env={
        "SOAP_ORDERS_TRUSTED_PROXIES": "127.0.0.1/32", "SOAP_ORDERS_AUTH_FAILURE_LIMIT": "3",
    })
    yield server
    server.stop()


def via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _cli(server: Server, *args: str):
    env = {"SOAP_ORDERS_DATABASE_URL": server.database_url, "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}
    return CliRunner().invoke(main, list(args), env=env)


def test_wrong_secrets_from_elsewhere_do_not_lock_out_the_real_client(throttled):
    name = unique("victim")
    secret = add_client(throttled.database_url, name, allow=("198.51.100.7/32",))
    attacker = via("203.0.113.50")
    codes = [fault_of(throttled.post(find(), auth=(name, "guess"), headers=attacker))["faultcode"] for _ in range(5)]
    assert codes == ["Client.AuthenticationFailed"] * 3 + ["Client.RateLimited"] * 2
    limited = throttled.post(find(), auth=(name, secret), headers=attacker)
    assert limited.status_code == 500 and int(limited.headers["Retry-After"]) > 0
    assert fault_of(limited)["faultcode"] == "Client.RateLimited" and fault_of(limited)["Retryable"] == "true"
    # A rate-limited WS-Security call: a fault on 500, with Retry-After too.
    wsse = throttled.post(envelope("<o:FindOrdersByEmail><o:Email>a@example.com</o:Email></o:FindOrdersByEmail>",
                                   username_token(name, secret, digest=False, with_nonce=False)), auth=None, headers=attacker)
    assert wsse.status_code == 500 and int(wsse.headers["Retry-After"]) > 0
    assert fault_of(wsse)["faultcode"] == "Client.RateLimited"
    # The real client, from its own address, with HTTP Basic and with WS-Security:
    own = via("198.51.100.7")
    assert throttled.post(find(), auth=(name, secret), headers=own).status_code == 200
    assert throttled.post(envelope("<o:FindOrdersByEmail><o:Email>a@example.com</o:Email></o:FindOrdersByEmail>",
                                   username_token(name, secret)), auth=None, headers=own).status_code == 200


def test_other_failures_at_the_clients_own_address_do_not_lock_it_out(throttled):
    name = unique("office")
    secret = add_client(throttled.database_url, name, allow=("198.51.100.8/32",))
    shared = via("198.51.100.8")  # e.g. one NAT address for a whole office
    for _ in range(4):
        throttled.post(find(), auth=(unique("sprayed"), "guess"), headers=shared)
    assert fault_of(throttled.post(find(), auth=(unique("sprayed"), "guess"), headers=shared))["faultcode"] == "Client.RateLimited"
    assert throttled.post(find(), auth=(name, secret), headers=shared).status_code == 200
    # A client without an allowlist of its own has no own address: the address's count applies.
    other = unique("roaming")
    other_secret = add_client(throttled.database_url, other)
    assert fault_of(throttled.post(find(), auth=(other, other_secret), headers=shared))["faultcode"] == "Client.RateLimited"


def test_clients_unlock_forgets_the_failures(throttled):
    name = unique("unlocked")
    secret = add_client(throttled.database_url, name, allow=("198.51.100.9/32",))
    own = via("198.51.100.9")
    for _ in range(3):  # a deployment with a stale secret, at the client's own address
        throttled.post(find(), auth=(name, "stale"), headers=own)
    assert fault_of(throttled.post(find(), auth=(name, secret), headers=own))["faultcode"] == "Client.RateLimited"
    result = _cli(throttled, "clients", "unlock", name)
    assert result.exit_code == 0, result.output
    assert f"Client {name} unlocked (3 recorded failures forgotten)" in result.output
    assert throttled.post(find(), auth=(name, secret), headers=own).status_code == 200
    # --address also forgets an address's own count.
    roaming = unique("roaming")
    roaming_secret = add_client(throttled.database_url, roaming)
    elsewhere = via("198.51.100.10")
    for _ in range(3):
        throttled.post(find(), auth=(roaming, "stale"), headers=elsewhere)
    assert _cli(throttled, "clients", "unlock", roaming).exit_code == 0
    assert fault_of(throttled.post(find(), auth=(roaming, roaming_secret), headers=elsewhere))["faultcode"] == "Client.RateLimited"
    result = _cli(throttled, "clients", "unlock", roaming, "--address", "198.51.100.10")
    assert result.exit_code == 0 and "(3 recorded failures forgotten)" in result.output, result.output
    assert throttled.post(find(), auth=(roaming, roaming_secret), headers=elsewhere).status_code == 200


def test_unlocking_an_unknown_client_says_so(throttled):
    result = _cli(throttled, "clients", "unlock", "no-such-client")
    assert result.exit_code == 1 and "No client named no-such-client." in result.output


# ---------------------------------------------------------------------- 413 and keep-alive


def _too_big() -> bytes:
    return envelope(f"<o:GetOrder><o:OrderNumber>{'x' * (300 * 1024)}</o:OrderNumber></o:GetOrder>").encode()


def test_a_keep_alive_client_reads_the_413_fault_and_its_next_request_works(server):
    big = _too_big()
    with requests.Session() as session:
        session.auth = server.credentials
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        for round_ in range(4):
            body = big if round_ % 2 == 0 else iter([big[i:i + 8192] for i in range(0, len(big), 8192)])  # chunked
            refused = session.post(server.soap_url, data=body, headers=headers, timeout=10)
            assert refused.status_code == 413
            assert refused.headers["Connection"].lower() == "close"
            assert fault_of(refused)["ErrorCode"] == "PAYLOAD_TOO_LARGE"
            served = session.post(server.soap_url, data=find(), headers=headers, timeout=10)
            assert served.status_code == 200 and b"FindOrdersByEmailResponse" in served.content


def _exchange(server: Server, head: bytes, body: bytes, *, wait: float = 10.0) -> bytes:
    """Send ``head`` and ``body`` on a raw socket, then read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):  # ConnectionResetError here would mean an unclean close
            answer += chunk
    return answer


def _basic(server: Server) -> str:
    name, secret = server.credentials
    return base64.b64encode(f"{name}:{secret}".encode()).decode()


def test_after_a_413_the_connection_is_closed_cleanly(server):
    """The server reads what the client sends after the answer (a bounded amount) and closes with
    a FIN, so the client reads the whole fault and then the end of the stream, not a reset."""
    body = _too_big()
    head = (f"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nAuthorization: Basic {_basic(server)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    answer = _exchange(server, head, body)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Payload Too Large"
    headers, _, content = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    assert etree.fromstring(content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault") is not None


def test_an_absurd_chunk_size_is_refused_at_once(server):
    head = (f"POST /soap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nAuthorization: Basic {_basic(server)}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    # The server's body timeout is 20 s; the answer must come well before it.
    answer = _exchange(server, head, b"FFFFFFFFFFFFFFFFFFFF\r\n<s:Envelope", wait=10.0)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:200]
    assert b"BAD_HTTP_REQUEST" in answer and b"FFFFFFFFFFFFFFFFFFFF" not in answer


# ---------------------------------------------------------------------- faults that tell the truth


@pytest.mark.parametrize("charset", [
    "base64", "hex", "zlib", "bz2", "uu", "quopri", "rot13", "punycode", "utf-7", "unicode_escape",
    "raw_unicode_escape", "idna", "charmap", "undefined",
])
def test_only_text_encodings_are_accepted_as_charsets(server, charset):
    response = server.post(find(), headers={"Content-Type": f"text/xml; charset={charset}"})
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.ValidationError" and fault["Retryable"] == "false"
    assert fault["ErrorCode"] == "UNSUPPORTED_CHARSET" and "charset" in fault["Message"]


def test_a_body_that_decodes_to_lone_surrogates_is_invalid_encoding(server):
    body = find().replace("nobody@example.com", "a@example.com").encode("utf-16-le")
    lone = body.replace("a@".encode("utf-16-le"), b"\x00\xd8@\x00", 1)  # a high surrogate with no low one
    response = server.post(lone, headers={"Content-Type": "text/xml; charset=utf-16-le"})
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.ValidationError" and fault["ErrorCode"] == "INVALID_ENCODING"


def test_the_widest_search_dates_are_served_and_dates_beyond_them_are_refused(server, server_deps):
    email = f"{unique('far')}@example.com"
    store(server_deps, order_record(email=email))
    found = server.post(find(email, "<o:PlacedFrom>1900-01-01</o:PlacedFrom><o:PlacedTo>9999-12-30</o:PlacedTo>"))
    assert found.status_code == 200, found.text[:500]
    assert b"TotalCount>1<" in found.content
    late = server.post(find(email, "<o:PlacedFrom>9999-12-30</o:PlacedFrom><o:PlacedTo>9999-12-30</o:PlacedTo>"))
    assert late.status_code == 200 and b"TotalCount>0<" in late.content
    beyond = fault_of(server.post(find(email, "<o:PlacedTo>9999-12-31</o:PlacedTo>")))
    assert (beyond["faultcode"], beyond["ErrorCode"]) == ("Client.ValidationError", "SCHEMA_VIOLATION")
    assert beyond["Message"] == "PlacedTo must be at most 9999-12-30."
    before = fault_of(server.post(find(email, "<o:PlacedFrom>0001-01-01</o:PlacedFrom>")))
    assert before["Message"] == "PlacedFrom must be at least 1900-01-01."


# ---------------------------------------------------------------------- xsi:type


XSD_NS = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def typed(body: str) -> str:
    """An envelope declaring xsd and xsi on the Envelope, as SOAP::Lite and Axis 1 do."""
    return (f'<s:Envelope xmlns:s="{ENV}" xmlns:o="{TNS}" {XSD_NS}>'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def test_xsi_type_naming_the_elements_own_built_in_type_is_accepted(server, server_deps):
    email = f"{unique('typed')}@example.com"
    (number,) = store(server_deps, order_record(email=email))
    found = server.post(typed(
        f'<o:FindOrdersByEmail><o:Email xsi:type="xsd:string">{email}</o:Email>'
        '<o:Status xsi:type="xsd:string">PROCESSING</o:Status>'
        '<o:PlacedFrom xsi:type="xsd:date">2026-01-01</o:PlacedFrom>'
        '<o:PageSize xsi:type="xsd:int">5</o:PageSize><o:PageNumber xsi:type="xsd:integer">1</o:PageNumber>'
        "</o:FindOrdersByEmail>"))
    assert found.status_code == 200, found.text[:800]
    assert number.encode() in found.content
    got = server.post(typed(f'<o:GetOrder><o:OrderNumber xsi:type="xsd:string">{number}</o:OrderNumber>'
                            f'<o:Email xsi:type="xsd:string">{email}</o:Email></o:GetOrder>'))
    assert got.status_code == 200, got.text[:800]
    refund = server.post(typed(
        f'<o:IssueRefund><o:OrderNumber xsi:type="xsd:string">{number}</o:OrderNumber>'
        f'<o:RequestId xsi:type="xsd:string">{unique("typed-refund")}</o:RequestId><o:Reason xsi:type="xsd:string">DAMAGED</o:Reason>'
        '<o:Amount xsi:type="xsd:decimal">1.50</o:Amount></o:IssueRefund>'))
    assert refund.status_code == 200, refund.text[:800]


@pytest.mark.parametrize(("body", "says"), [
    ('<o:GetOrder><o:OrderNumber xsi:type="xsd:int">12</o:OrderNumber></o:GetOrder>', "OrderNumber"),
    ('<o:FindOrdersByEmail><o:Email>a@example.com</o:Email><o:PageSize xsi:type="xsd:string">5</o:PageSize>'
     "</o:FindOrdersByEmail>", "PageSize"),
    ('<o:FindOrdersByEmail><o:Email>a@example.com</o:Email><o:PlacedFrom xsi:type="xsd:dateTime">2026-01-01</o:PlacedFrom>'
     "</o:FindOrdersByEmail>", "PlacedFrom"),
    ('<o:GetOrder><o:OrderNumber xsi:type="o:Order">12</o:OrderNumber></o:GetOrder>', "OrderNumber"),
    (f'<o:GetOrder><o:OrderNumber xsi:type="{MARKER}:string">12</o:OrderNumber></o:GetOrder>', "OrderNumber"),
    ('<o:FindOrdersByEmail><o:Email>a@example.com</o:Email><o:PageSize xsi:type="xsd:int">5.5</o:PageSize>'
     "</o:FindOrdersByEmail>", "PageSize is not a valid whole number"),
])
def test_any_other_xsi_type_is_refused_with_a_clear_message(server, body, says):
    response = server.post(typed(body))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.ValidationError" and fault["ErrorCode"] == "SCHEMA_VIOLATION", fault
    assert says in fault["Message"] and MARKER not in response.text
    if "valid" not in says:
        assert "xsi:type" in fault["Message"], fault["Message"]
