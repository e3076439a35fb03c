"""OAuth2 token endpoint (RFC 6749): the client credentials grant (section 4.4) and refresh
(section 6), with error bodies as in section 5.2."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from ..domain.clients import Scope
from ..domain.errors import AuthenticationFailed, Forbidden, RateLimited
from ..service.auth import Authenticator, Principal, TokenPair

MAX_FORM = 8 * 1024


class OAuthError(Exception):
    def __init__(self, status: str, error: str, description: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, list(headers)


def token_endpoint(
    environ: dict[str, Any],
    respond: Callable[..., Any],
    authenticator: Authenticator,
    address: str | None,
    basic: tuple[str, str] | None,
) -> list[bytes]:
    try:
        pair = _grant(environ, authenticator, address, basic)
    except OAuthError as error:
        return _json(respond, error.status, {"error": error.error, "error_description": error.description}, error.headers)
    return _json(respond, "200 OK", {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "scope": " ".join(sorted(scope.value for scope in pair.scopes)),
    })


def _grant(environ: dict[str, Any], authenticator: Authenticator, address: str | None,
           basic: tuple[str, str] | None) -> TokenPair:
    if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
        raise OAuthError("405 Method Not Allowed", "invalid_request", "Use POST.", [("Allow", "POST")])
    if environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError("400 Bad Request", "invalid_request", "Send an application/x-www-form-urlencoded body.")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= MAX_FORM:
        raise OAuthError("400 Bad Request", "invalid_request", f"The form must be at most {MAX_FORM} bytes.")
    try:
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8"), strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("400 Bad Request", "invalid_request", "The form is not valid.") from None
    if any(len(values) > 1 for values in form.values()):
        raise OAuthError("400 Bad Request", "invalid_request", "A parameter was given more than once.")
    params = {key: values[0] for key, values in form.items()}
    if basic and ("client_id" in params or "client_secret" in params):
        raise OAuthError("400 Bad Request", "invalid_request", "Authenticate the client one way only.")
    name, secret = basic or (params.get("client_id"), params.get("client_secret"))
    grant = params.get("grant_type")
    if grant not in ("client_credentials", "refresh_token"):
        raise OAuthError("400 Bad Request", "unsupported_grant_type", "Use client_credentials or refresh_token.")
    try:
        if not name or secret is None:
            raise AuthenticationFailed("no client credentials")
        principal = authenticator.password(name, secret, address, "oauth-client")
        if grant == "client_credentials":
            return authenticator.issue_tokens(principal, _scopes(params.get("scope"), principal))
        if not params.get("refresh_token"):
            raise OAuthError("400 Bad Request", "invalid_request", "refresh_token is required.")
        try:
            return authenticator.refresh(params["refresh_token"], address, client_name=principal.client)
        except AuthenticationFailed:
            raise OAuthError("400 Bad Request", "invalid_grant", "The refresh token is invalid, expired or already used.") from None
    except AuthenticationFailed:
        raise OAuthError("401 Unauthorized", "invalid_client", "Client authentication failed.",
                         [("WWW-Authenticate", 'Basic realm="soap_orders"')]) from None
    except RateLimited as limited:
        raise OAuthError("429 Too Many Requests", "invalid_client", limited.message,
                         [("Retry-After", str(limited.retry_after))]) from None
    except Forbidden as forbidden:
        raise OAuthError("403 Forbidden", "unauthorized_client", forbidden.message) from None


def _scopes(requested: str | None, principal: Principal) -> frozenset[Scope] | None:
    if requested is None:
        return None
    try:
        scopes = frozenset(Scope(value) for value in requested.split())
    except ValueError:
        raise OAuthError("400 Bad Request", "invalid_scope", "Unknown scope requested.") from None
    if not scopes or not scopes <= principal.scopes:
        raise OAuthError("400 Bad Request", "invalid_scope", "The client does not have every requested scope.")
    return scopes


def _json(respond: Callable[..., Any], status: str, body: dict[str, Any],
          headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    data = json.dumps(body).encode()
    respond(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                     ("Cache-Control", "no-store"), ("Pragma", "no-cache"), *headers])
    return [data]
