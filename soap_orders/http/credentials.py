"""Credentials carried in HTTP headers: Basic and Bearer (RFC 7617, RFC 6750)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..domain.errors import AuthenticationFailed
from ..service.auth import Authenticator, Principal

#: The challenges a 401 carries, so challenge-based clients know to send credentials.
CHALLENGES = [("WWW-Authenticate", 'Basic realm="soap_orders"'), ("WWW-Authenticate", 'Bearer realm="soap_orders"')]


def basic_credentials(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(name, secret) from an HTTP Basic Authorization header, None when there is none."""
    header = environ.get("HTTP_AUTHORIZATION", "").strip()
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    name, sep, secret = decoded.partition(":")
    if not sep:
        raise AuthenticationFailed("malformed Basic credentials")
    return name, secret


def http_principal(
    environ: dict[str, Any], authenticator: Authenticator, address: str | None, *, required: bool
) -> Principal | None:
    """The caller proven by an Authorization header (Basic or Bearer); None when there is no
    header and none is required (a SOAP call may still carry a WS-Security UsernameToken)."""
    header = environ.get("HTTP_AUTHORIZATION", "").strip()
    scheme = header.split(" ", 1)[0].lower()
    if scheme == "basic":
        name, secret = basic_credentials(environ) or ("", "")
        return authenticator.password(name, secret, address, "basic")
    if scheme == "bearer":
        return authenticator.bearer(header[len("bearer"):].strip(), address)
    if header or required:
        raise AuthenticationFailed("unsupported or missing Authorization header")
    return None
