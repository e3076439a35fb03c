"""Who may call: every refusal gets the right fault, and nothing in the store changes."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
from datetime import datetime, timedelta, timezone

import pytest
import requests
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select, update

from soap_orders.adapters.orm import audit_records, oauth_tokens
from soap_orders.cli import main
from soap_orders.service.auth import token_digest
from tests.records import order_record, store, unique
from tests.server import TEST_SECRET_KEY, Server, add_client
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def cancel_body(number: str, request_id: str | None = None) -> str:
    return (f"<o:CancelOrder><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>{request_id or unique('rq')}</o:RequestId>"
            "<o:Reason>CUSTOMER</o:Reason></o:CancelOrder>")


def envelope(body: str, header: str = "") -> str:
    return (f'<s:Envelope xmlns:s="{ENV}" xmlns:o="urn:soap-orders:orders:v1">'
            f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>")


def username_token(name: str, secret: str, *, digest: bool = True, nonce: bytes | None = None,
                   created: str | None = None, with_nonce: bool = True) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    created = created or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if digest:
        password = base64.b64encode(hashlib.sha1(nonce + created.encode() + secret.encode()).digest()).decode()
        kind = "PasswordDigest"
    else:
        password, kind = secret, "PasswordText"
    extra = (f'<wsse:Nonce EncodingType="{PROFILE.replace("username-token-profile", "soap-message-security")}#Base64Binary">'
             f"{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>") if with_nonce else ""
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" s:mustUnderstand="1"><wsse:UsernameToken>'
            f"<wsse:Username>{name}</wsse:Username><wsse:Password Type=\"{PROFILE}#{kind}\">{password}</wsse:Password>"
            f"{extra}</wsse:UsernameToken></wsse:Security>")


def fault_of(response: requests.Response) -> dict[str, str]:
    assert response.headers["Content-Type"].startswith("text/xml"), response.text[:300]
    node = etree.fromstring(response.content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert node is not None, response.text[:500]
    found = {"faultcode": node.findtext("faultcode").split(":")[-1]}
    found.update(fault_detail(node.find("detail")))
    return found


@pytest.fixture
def order(server_deps):
    (number,) = store(server_deps, order_record())
    return number


def unchanged(server_deps, number: str) -> None:
    with server_deps.uow() as uow:
        stored = uow.orders.get(number)
    assert stored is not None and stored.status.value == "PROCESSING" and stored.refunds == []
    with server_deps.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(audit_records)
                                 .where(audit_records.c.order_number == number)) == 1  # the import only


# ---------------------------------------------------------------------- credentials


@pytest.mark.parametrize("credentials", ["wrong-secret", "unknown-client", "no-credentials", "garbage-header"])
def test_bad_http_credentials_are_refused(server, server_deps, order, credentials):
    name, secret = server.credentials
    if credentials == "garbage-header":
        response = server.post(envelope(cancel_body(order)), auth=None, headers={"Authorization": "Basic !!!"})
    else:
        auth = {"wrong-secret": (name, secret + "x"), "unknown-client": ("nobody", secret), "no-credentials": None}[credentials]
        response = server.post(envelope(cancel_body(order)), auth=auth)
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.AuthenticationFailed"
    assert fault["ErrorCode"] == "AUTHENTICATION_FAILED" and fault["Retryable"] == "false"
    if credentials == "no-credentials":  # the challenge, so challenge-based clients send credentials
        assert response.status_code == 401
        assert response.raw.headers.getlist("WWW-Authenticate") == ['Basic realm="soap_orders"', 'Bearer realm="soap_orders"']
    else:  # refused credentials: a fault on HTTP 500 (WS-I BP R1126), which every client reads
        assert response.status_code == 500 and "WWW-Authenticate" not in response.headers
    unchanged(server_deps, order)


def test_unknown_client_and_wrong_secret_get_the_same_answer(server):
    name, secret = server.credentials
    wrong = server.post(envelope(cancel_body("X")), auth=(name, "nope"))
    unknown = server.post(envelope(cancel_body("X")), auth=("no-such-client", "nope"))
    assert wrong.status_code == unknown.status_code == 500
    assert fault_of(wrong)["Message"] == fault_of(unknown)["Message"] == "Authentication failed."


def test_disabled_client_is_refused_everywhere(server, server_deps, order):
    name = unique("disabled")
    secret = add_client(server.database_url, name)
    token = server.token((name, secret)).json()["access_token"]
    result = CliRunner().invoke(main, ["clients", "disable", name], env=_cli_env(server))
    assert result.exit_code == 0, result.output
    for way in ("basic", "text", "bearer"):
        if way == "basic":
            response = server.post(envelope(cancel_body(order)), auth=(name, secret))
        elif way == "text":
            response = server.post(envelope(cancel_body(order), username_token(name, secret, digest=False)), auth=None)
        else:
            response = server.post(envelope(cancel_body(order)), auth=None, headers={"Authorization": f"Bearer {token}"})
        assert fault_of(response)["faultcode"] == "Client.AuthenticationFailed", way
    assert server.token((name, secret)).status_code == 401
    unchanged(server_deps, order)


def test_missing_scope_is_forbidden(server, server_deps, order):
    name = unique("reader")
    secret = add_client(server.database_url, name, ("orders:read",))
    assert server.post(envelope(f"<o:GetOrder><o:OrderNumber>{order}</o:OrderNumber></o:GetOrder>"), auth=(name, secret)).status_code == 200
    response = server.post(envelope(cancel_body(order)), auth=(name, secret))
    fault = fault_of(response)
    assert fault["faultcode"] == "Client.Forbidden" and "orders:act" in fault["Message"]
    unchanged(server_deps, order)


def test_client_allowlist_refuses_other_addresses(server, server_deps, order):
    name = unique("office")
    secret = add_client(server.database_url, name, allow=("10.0.0.0/8",))
    response = server.post(envelope(cancel_body(order)), auth=(name, secret))
    assert response.status_code == 500 and fault_of(response)["faultcode"] == "Client.Forbidden"
    unchanged(server_deps, order)


# ---------------------------------------------------------------------- WS-Security


def test_password_text_and_digest_are_accepted_in_both_created_forms(server, order):
    name, secret = server.credentials
    get = f"<o:GetOrder><o:OrderNumber>{order}</o:OrderNumber></o:GetOrder>"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for header in (
        username_token(name, secret, digest=False, with_nonce=False),
        username_token(name, secret, created=now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        username_token(name, secret, created=now.isoformat()),  # +00:00, digested as sent
    ):
        assert server.post(envelope(get, header), auth=None).status_code == 200


def test_replayed_nonce_is_refused_also_by_another_instance(server, server_deps, order, tmp_path):
    name, secret = server.credentials
    header = username_token(name, secret)
    get = f"<o:GetOrder><o:OrderNumber>{order}</o:OrderNumber></o:GetOrder>"
    assert server.post(envelope(get, header), auth=None).status_code == 200
    assert fault_of(server.post(envelope(cancel_body(order), header), auth=None))["faultcode"] == "Client.AuthenticationFailed"
    other = Server(server.database_url, tmp_path / "other.log", client_name=unique("other"))
    try:
        replay = other.post(envelope(cancel_body(order), header), auth=None)
        assert fault_of(replay)["faultcode"] == "Client.AuthenticationFailed"
    finally:
        other.stop()
    unchanged(server_deps, order)


@pytest.mark.parametrize("shift", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "future"])
def test_created_outside_five_minutes_is_refused(server, server_deps, order, shift):
    name, secret = server.credentials
    created = (datetime.now(timezone.utc) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = server.post(envelope(cancel_body(order), username_token(name, secret, created=created)), auth=None)
    assert fault_of(response)["faultcode"] == "Client.AuthenticationFailed"
    unchanged(server_deps, order)


def test_digest_without_nonce_is_refused(server, server_deps, order):
    name, secret = server.credentials
    header = username_token(name, secret, with_nonce=False)
    assert fault_of(server.post(envelope(cancel_body(order), header), auth=None))["faultcode"] == "Client.AuthenticationFailed"
    unchanged(server_deps, order)


def test_digest_of_a_hash_only_client_is_refused(server, server_deps, order):
    name = unique("hashonly")
    secret = add_client(server.database_url, name, digest=False)
    assert server.post(envelope(cancel_body(order), username_token(name, secret, digest=False)), auth=None).status_code == 200
    (other,) = store(server_deps, order_record())
    response = server.post(envelope(cancel_body(other), username_token(name, secret)), auth=None)
    assert fault_of(response)["faultcode"] == "Client.AuthenticationFailed"
    unchanged(server_deps, other)


# ---------------------------------------------------------------------- OAuth2


def test_token_endpoint_issues_and_rotates_tokens(server):
    first = server.token()
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == "erp orders:act orders:read privacy"  # the server's client has every scope
    refreshed = server.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != body["refresh_token"]
    again = server.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    form_auth = requests.post(f"{server.base_url}/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": server.credentials[0], "client_secret": server.credentials[1]})
    assert form_auth.status_code == 200


def test_token_endpoint_errors_follow_rfc_6749(server):
    name, secret = server.credentials
    wrong = server.token((name, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert server.token(grant_type="password").json()["error"] == "unsupported_grant_type"
    actor = ("token-actor", add_client(server.database_url, "token-actor"))  # orders:read and orders:act
    assert server.token(actor, scope="erp").json()["error"] == "invalid_scope"
    narrowed = server.token(scope="orders:read").json()
    assert narrowed["scope"] == "orders:read"


def test_narrowed_token_cannot_act(server, server_deps, order):
    token = server.token(scope="orders:read").json()["access_token"]
    response = server.post(envelope(cancel_body(order)), auth=None, headers={"Authorization": f"Bearer {token}"})
    assert fault_of(response)["faultcode"] == "Client.Forbidden"
    unchanged(server_deps, order)


def test_expired_and_unknown_access_tokens_are_refused(server, server_deps, order):
    token = server.token().json()["access_token"]
    with server_deps.engine.begin() as connection:
        connection.execute(update(oauth_tokens).where(oauth_tokens.c.digest == token_digest(token))
                           .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    for bearer in (token, "not-a-token"):
        response = server.post(envelope(cancel_body(order)), auth=None, headers={"Authorization": f"Bearer {bearer}"})
        assert response.status_code == 500 and fault_of(response)["faultcode"] == "Client.AuthenticationFailed"
    unchanged(server_deps, order)


def test_rotating_a_secret_ends_the_old_secret_and_tokens(server, order):
    name = unique("rotated")
    secret = add_client(server.database_url, name)
    token = server.token((name, secret)).json()["access_token"]
    result = CliRunner().invoke(main, ["clients", "rotate", name], env=_cli_env(server))
    assert result.exit_code == 0, result.output
    new_secret = result.output.strip().splitlines()[-1]
    get = envelope(f"<o:GetOrder><o:OrderNumber>{order}</o:OrderNumber></o:GetOrder>")
    assert server.post(get, auth=(name, secret)).status_code == 500
    assert server.post(get, auth=None, headers={"Authorization": f"Bearer {token}"}).status_code == 500
    assert server.post(get, auth=(name, new_secret)).status_code == 200
    assert server.post(envelope(f"<o:GetOrder><o:OrderNumber>{order}</o:OrderNumber></o:GetOrder>",
                                username_token(name, new_secret)), auth=None).status_code == 200


# ---------------------------------------------------------------------- audit


def test_every_change_is_audited_with_the_client_and_address(server, server_deps, order):
    request_id = unique("audited")
    assert server.post(envelope(cancel_body(order, request_id))).status_code == 200
    result = CliRunner().invoke(main, ["audit", "--order", order], env=_cli_env(server))
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "UpsertOrder\tCREATED" in lines[0]
    assert f"CancelOrder\tCANCELLED/NONE\tclient={server.credentials[0]}\taddress=127.0.0.1\trequest={request_id}" in lines[1]


def test_logs_never_contain_secrets_or_tokens(server, order):
    name, secret = server.credentials
    token = server.token().json()["access_token"]
    server.post(envelope(cancel_body(order)), auth=(name, secret + "wrong"))
    server.post(envelope(cancel_body(order)), auth=None, headers={"Authorization": f"Bearer {token}"})
    log = server.log()
    for needle in (secret, token, base64.b64encode(f"{name}:{secret}".encode()).decode()):
        assert needle not in log


def _cli_env(server: Server) -> dict[str, str]:
    return {"SOAP_ORDERS_DATABASE_URL": server.database_url, "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}


# ---------------------------------------------------------------------- addresses and throttling


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A server behind a trusted proxy (127.0.0.1) that accepts only DG's US and EU addresses,
    keeps its WSDL private, and throttles after 3 failures."""
    from tests.conftest import _database

    directory = tmp_path_factory.mktemp("guarded")
    server = Server(_database("sqlite", directory, "guarded"), directory / "gunicorn.log", extra_env={
        "SOAP_ORDERS_ALLOWLIST": "dg-eu,dg-us", "SOAP_ORDERS_TRUSTED_PROXIES": "127.0.0.1/32",
        "SOAP_ORDERS_WSDL_PUBLIC": "false", "SOAP_ORDERS_AUTH_FAILURE_LIMIT": "3",
    })
    yield server
    server.stop()


EU, US = "18.197.240.87", "35.167.19.246"
FIND = envelope("<o:FindOrdersByEmail><o:Email>a@example.com</o:Email></o:FindOrdersByEmail>")


def test_global_allowlist_refuses_other_addresses(guarded):
    direct = guarded.post(FIND)
    assert direct.status_code == 500 and fault_of(direct)["faultcode"] == "Client.Forbidden"
    assert guarded.post(FIND, headers={"X-Forwarded-For": f"203.0.113.9, {EU}"}).status_code == 200
    spoofed_chain = guarded.post(FIND, headers={"X-Forwarded-For": f"{EU}, 203.0.113.9"})
    assert spoofed_chain.status_code == 500 and fault_of(spoofed_chain)["faultcode"] == "Client.Forbidden"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(guarded):
    connection = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=10, source_address=("127.0.0.2", 0))
    try:
        name, secret = guarded.credentials
        basic = base64.b64encode(f"{name}:{secret}".encode()).decode()
        connection.request("POST", "/soap", body=FIND, headers={
            "Content-Type": "text/xml", "Authorization": f"Basic {basic}", "X-Forwarded-For": EU})
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status == 500 and b"Client.Forbidden" in body


def test_private_wsdl_needs_credentials(guarded):
    via_proxy = {"X-Forwarded-For": EU}
    assert requests.get(guarded.wsdl_url, headers=via_proxy, timeout=10).status_code == 401
    assert requests.get(guarded.wsdl_url, headers=via_proxy, auth=guarded.credentials, timeout=10).status_code == 200


def test_private_wsdl_keeps_the_openapi_document_private_too(guarded):
    via_proxy = {"X-Forwarded-For": EU}
    url = f"{guarded.base_url}/openapi.json"
    refused = requests.get(url, headers=via_proxy, timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/json"
    assert refused.json()["ErrorCode"] == "AUTHENTICATION_FAILED" and b'"paths"' not in refused.content
    assert 'Basic realm="soap_orders"' in refused.headers["WWW-Authenticate"]
    wrong = requests.get(url, headers=via_proxy, auth=(guarded.credentials[0], "not-the-secret"), timeout=10)
    assert wrong.status_code == 401 and b'"paths"' not in wrong.content
    served = requests.get(url, headers=via_proxy, auth=guarded.credentials, timeout=10)
    assert served.status_code == 200 and "/json/GetOrder" in served.json()["paths"]
    token = requests.post(f"{guarded.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=guarded.credentials, headers=via_proxy, timeout=10)
    bearer = requests.get(url, headers={**via_proxy, "Authorization": "Bearer " + token.json()["access_token"]},
                          timeout=10)
    assert bearer.status_code == 200 and bearer.json()["openapi"].startswith("3.")


def test_repeated_failures_are_rate_limited(guarded):
    name = unique("throttled")
    secret = add_client(guarded.database_url, name)
    via_us = {"X-Forwarded-For": US}
    for _ in range(3):
        assert guarded.post(FIND, auth=(name, "wrong"), headers=via_us).status_code == 500
    limited = guarded.post(FIND, auth=(name, secret), headers=via_us)
    assert limited.status_code == 500 and int(limited.headers["Retry-After"]) > 0
    fault = fault_of(limited)
    assert fault["faultcode"] == "Client.RateLimited" and fault["Retryable"] == "true"
