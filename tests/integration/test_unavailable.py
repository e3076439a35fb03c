"""When the database cannot be reached, callers get a retryable Server.Unavailable fault."""

from __future__ import annotations

import base64
import io

from lxml import etree

from soap_orders.bootstrap import build_dependencies, create_wsgi_app
from tests.server import settings_for_tests
from tests.xmltools import fault_detail

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BODY = (f'<s:Envelope xmlns:s="{ENV}" xmlns:o="urn:soap-orders:orders:v1"><s:Body>'
        "<o:GetOrder><o:OrderNumber>SO-1</o:OrderNumber></o:GetOrder></s:Body></s:Envelope>").encode()


def call(app, path: str = "/soap") -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST" if path == "/soap" else "GET", "PATH_INFO": path, "QUERY_STRING": "",
        "CONTENT_TYPE": "text/xml", "CONTENT_LENGTH": str(len(BODY)), "wsgi.input": io.BytesIO(BODY),
        "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"someone:secret").decode(),
    }
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def test_an_unreachable_database_is_a_retryable_unavailable_fault():
    # Port 1 on the loopback address: the connection is refused at once.
    settings = settings_for_tests("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    deps = build_dependencies(settings)
    try:
        app = create_wsgi_app(settings, dependencies=deps)
        status, body = call(app)
        health, _ = call(app, "/health")
    finally:
        deps.engine.dispose()
    assert status.startswith("503")
    fault = etree.fromstring(body).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault.findtext("faultcode").endswith("Server.Unavailable")
    assert fault_detail(fault.find("detail"))["Retryable"] == "true"
    assert b"Traceback" not in body and b"127.0.0.1:1" not in body
    assert health.startswith("503")
