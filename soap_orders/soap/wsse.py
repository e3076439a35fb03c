"""Reading a WS-Security UsernameToken (OASIS UsernameToken Profile 1.1) from a request envelope.
spyne has no WS-Security support; verification is the authenticator's job, this only reads."""

from __future__ import annotations

from lxml import etree

from ..service.auth import UsernameToken
from .faults import AuthenticationFailedFault
from .ns import SOAP11_ENV, WSSE, WSU

_DIGEST = "#PasswordDigest"
_BASE64 = "#Base64Binary"


def username_token(envelope: etree._Element) -> UsernameToken | None:
    """The UsernameToken in the envelope's Security header, or None when there is none."""
    token = envelope.find(f"{{{SOAP11_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return None
    username = _text(token, f"{{{WSSE}}}Username")
    password_node = token.find(f"{{{WSSE}}}Password")
    if not username or password_node is None or password_node.text is None:
        raise AuthenticationFailedFault("Authentication failed.")
    password_type = password_node.get("Type", "")
    nonce_node = token.find(f"{{{WSSE}}}Nonce")
    if nonce_node is not None and not nonce_node.get("EncodingType", _BASE64).endswith(_BASE64):
        raise AuthenticationFailedFault("Authentication failed.")
    return UsernameToken(
        username=username,
        password=password_node.text,
        digest=password_type.endswith(_DIGEST),
        nonce=(nonce_node.text or "").strip() if nonce_node is not None else None,
        created=_text(token, f"{{{WSU}}}Created"),
    )


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path)
    return None if found is None or found.text is None else found.text.strip()
