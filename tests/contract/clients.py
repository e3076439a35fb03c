"""zeep clients the way DG configures them: one per way in."""

from __future__ import annotations

from typing import Any

import requests
import zeep
from zeep.wsse.username import UsernameToken

WAYS_IN = ("basic", "wsse-text", "wsse-digest", "bearer")


def make_client(server: Any, way_in: str, credentials: tuple[str, str] | None = None) -> zeep.Client:
    name, secret = credentials or server.credentials
    session = requests.Session()
    wsse = None
    if way_in == "basic":
        session.auth = (name, secret)
    elif way_in == "wsse-text":
        wsse = UsernameToken(name, secret)
    elif way_in == "wsse-digest":
        wsse = UsernameToken(name, secret, use_digest=True)
    elif way_in == "bearer":
        answer = server.token((name, secret))
        answer.raise_for_status()
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    else:
        raise ValueError(way_in)
    transport = zeep.Transport(session=session, timeout=10, operation_timeout=20)
    return zeep.Client(server.wsdl_url, transport=transport, wsse=wsse, settings=zeep.Settings(strict=True))
