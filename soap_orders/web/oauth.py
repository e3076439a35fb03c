"""OAuth2 token endpoint (RFC 6749): the client credentials grant (section 4.4) and refresh
(section 6), with error bodies as in section 5.2. The form is read like every other request body:
within a size limit and a time limit (``http.body``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from ..domain.clients import Scope
from ..domain.errors import AuthenticationFailed, Forbidden, GrantRefused, RateLimited
from ..http.body import BodyError, BodyTruncated, describe, read_body
from ..http.connection import CONNECTION_CLOSE, closing
from ..http.credentials import basic_credentials
from ..service.auth import Authenticator, Principal, TokenPair

#: The largest form accepted, in bytes: a grant's few fields fit many times over.
MAX_FORM = 8 * 1024


class OAuthError(Exception):
    def __init__(self, status: str, error: str, description: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, list(headers)


class TokenRoute:
    """``POST /oauth/token``."""

    def __init__(self, authenticator: Authenticator, *, body_timeout: float, max_form: int = MAX_FORM) -> None:
        self.authenticator = authenticator
        self.body_timeout = body_timeout
        self.max_form = max_form

    def __call__(self, environ: dict[str, Any], respond: Callable[..., Any]) -> Iterable[bytes]:
        try:
            params = self._form(environ)
            pair = _grant(params, self.authenticator, environ.get("soap_orders.address"), _basic(environ, params))
        except OAuthError as error:
            return _json(respond, error.status, {"error": error.error, "error_description": error.description},
                         error.headers)
        except BodyError as error:
            description = describe(error, self.max_form, self.body_timeout)
            if isinstance(error, BodyTruncated):
                return _json(respond, error.status, {"error": "invalid_request", "error_description": description})
            # The rest of the body is unread (or unreadable): close the connection once the answer is sent.
            return closing(environ, _json(respond, error.status, {
                "error": "invalid_request", "error_description": description}, [CONNECTION_CLOSE]))
        return _json(respond, "200 OK", {
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
            "scope": " ".join(sorted(scope.value for scope in pair.scopes)),
        })

    def _form(self, environ: dict[str, Any]) -> dict[str, str]:
        """The form's parameters, each given once; the body is read within the limits."""
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            raise OAuthError("405 Method Not Allowed", "invalid_request", "Use POST.", [("Allow", "POST")])
        if environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise OAuthError("400 Bad Request", "invalid_request", "Send an application/x-www-form-urlencoded body.")
        body = read_body(environ, self.max_form, self.body_timeout)
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError("400 Bad Request", "invalid_request", "The form is not valid.") from None
        if any(len(values) > 1 for values in form.values()):
            raise OAuthError("400 Bad Request", "invalid_request", "A parameter was given more than once.")
        return {key: values[0] for key, values in form.items()}


def _basic(environ: dict[str, Any], params: dict[str, str]) -> tuple[str, str] | None:
    """The client's credentials from HTTP Basic, None when the form carries them instead."""
    try:
        basic = basic_credentials(environ)
    except AuthenticationFailed:
        basic = ("", "")  # a malformed Basic header fails client authentication
    if basic and ("client_id" in params or "client_secret" in params):
        raise OAuthError("400 Bad Request", "invalid_request", "Authenticate the client one way only.")
    return basic


def _grant(params: dict[str, str], authenticator: Authenticator, address: str | None,
           basic: tuple[str, str] | None) -> TokenPair:
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
            return authenticator.refresh(params["refresh_token"], principal)
        except GrantRefused as refused:
            raise OAuthError("400 Bad Request", "invalid_grant", refused.message) from None
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
