"""The spyne Application for the v1 contract, and the WSGI endpoint that serves it."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

import spyne.const as spyne_const
from lxml import etree
from spyne import Application, DateTime
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from ..documents import schema_errors
from ..domain.errors import DomainError, RateLimited
from ..http.access_log import note, note_fault
from ..http.connection import no_credentials, soap_refusal
from . import faults
from .direct import DirectReads
from .envelope import check_envelope
from .faults import AuthenticationFailedFault, OrdersFault, ValidationFault
from .leniency import XsiTypes
from .ns import SOAP11_ENV, SOAP12_ENV, TNS, WSSE
from .services import OrdersService, SoapServices
from .wsse import username_token
from .xml import parse_xml, to_utf8

log = logging.getLogger("soap_orders.soap")


def _timestamp(_cls: Any, value: datetime) -> str:
    """UTC with a ``Z``, to the second or microsecond as stored."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a response")
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _charset(content_type: str) -> str | None:
    found = re.search(r";\s*charset\s*=\s*\"?([^\";\s]*)", content_type, re.IGNORECASE)
    return found.group(1) if found else None


class OrdersSoap11(Soap11):
    """SOAP 1.1 with the service's own XML parser and ``Z`` timestamps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._to_unicode_handlers[DateTime] = _timestamp

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        """The request envelope, its caller known first. A call without an Authorization header
        is authenticated by its WS-Security header, so the body is parsed to find it; when it
        cannot be (or there is none), the call carried no credentials at all and gets the HTTP
        challenge, never the validation fault: a client that answers challenges sends its
        credentials only after a 401. The envelope is checked once the caller is known."""
        environ = ctx.transport.req_env
        unauthenticated = environ.get("soap_orders.principal") is None
        try:
            body = to_utf8(b"".join(ctx.in_string), _charset(environ.get("CONTENT_TYPE", "")))
            root = parse_xml(body)
        except ValidationFault:
            if unauthenticated:
                raise _challenge(environ) from None
            raise
        if unauthenticated:
            environ["soap_orders.principal"] = _authenticate_envelope(ctx, root)
        check_envelope(root, environ.get("HTTP_SOAPACTION"))
        leniency = getattr(self, "xsi_types", None)
        if leniency is not None:
            leniency.strip(root)
        ctx.in_document = (root, {})


_CREDENTIALS_REQUIRED = "Authentication is required: HTTP Basic, an OAuth2 bearer token or a WS-Security UsernameToken."


def _challenge(environ: dict[str, Any]) -> AuthenticationFailedFault:
    """The refusal of a call that carried no credentials at all, answered with the HTTP challenge."""
    environ["soap_orders.refusal"] = no_credentials()
    return AuthenticationFailedFault(_CREDENTIALS_REQUIRED)


def _authenticate_envelope(ctx: Any, root: Any) -> Any:
    """The caller proven by a WS-Security UsernameToken; a call with no credentials at all (no
    Authorization header, no wsse:Security in a SOAP 1.1 Header) gets the challenge."""
    environ = ctx.transport.req_env
    token = username_token(root)
    if token is None:
        if root.find(f"{{{SOAP11_ENV}}}Header/{{{WSSE}}}Security") is None:
            raise _challenge(environ)
        raise AuthenticationFailedFault(_CREDENTIALS_REQUIRED)
    try:
        return ctx.app.soap_orders.authenticator.username_token(token, environ.get("soap_orders.address"))
    except DomainError as error:
        if isinstance(error, RateLimited):
            environ["soap_orders.refusal"] = soap_refusal(error)
        raise (faults.fault_for(error) or AuthenticationFailedFault("Authentication failed.")) from None


def build_application(dependencies: SoapServices | None) -> Application:
    """The Application, with ``dependencies`` reachable from every operation as ``ctx.app.soap_orders``
    (None: an Application for its WSDL alone, that serves no call)."""
    # spyne runs a full gc.collect() from the request path once a second per process, to close
    # file attachments promptly; this service takes none, and the collection stalls every thread
    # of the worker for tens of milliseconds. Python's own generational collector does the work
    # (see wsgi.py, which freezes the long-lived objects so its full collections stay cheap).
    spyne_const.MIN_GC_INTERVAL = float("inf")
    app = Application(
        [OrdersService],
        tns=TNS,
        name="OrdersService",
        in_protocol=OrdersSoap11(validator="lxml"),
        out_protocol=OrdersSoap11(cleanup_namespaces=True),
    )
    app.soap_orders = dependencies
    return app


class SoapEndpoint(WsgiApplication):
    """spyne's WSGI server with the WSDL built once, from configuration, and every error turned
    into a contract fault."""

    def __init__(self, app: Application, public_url: str) -> None:
        super().__init__(app)
        _publish_soap11_only(app.interface)
        self.doc.wsdl11.build_interface_document(public_url)
        document = etree.fromstring(self.doc.wsdl11.get_interface_document())
        _declare_faults(document)
        _sort_schema_declarations(document)
        self.wsdl: bytes = etree.tostring(document, pretty_print=True, xml_declaration=True, encoding="UTF-8")
        schema_errors.set_schema_names(schema_names(self.wsdl))
        app.in_protocol.xsi_types = XsiTypes(self.wsdl)
        #: Plain read requests, answered without spyne's per-request machinery (None: all through spyne).
        self.direct: DirectReads | None = DirectReads(app, _charset)

    def handle_error(self, p_ctx: Any, others: Any, error: Any, start_response: Any) -> Any:
        if not isinstance(error, OrdersFault):
            log.info("request %s: protocol fault %s", p_ctx.transport.req_env.get("soap_orders.request_id"),
                     getattr(error, "faultcode", type(error).__name__))
            error = faults.from_protocol_fault(error)
        environ = p_ctx.transport.req_env
        note(environ, operation=getattr(p_ctx.descriptor, "name", None) or None)
        note_fault(error, environ)
        p_ctx.out_error = error
        p_ctx.transport.resp_code = "500 Internal Server Error"
        refusal = p_ctx.transport.req_env.get("soap_orders.refusal")
        if refusal is not None and isinstance(error, faults.AuthenticationFailedFault | faults.RateLimitedFault):
            status, headers = refusal
            p_ctx.transport.resp_code = status
            for name, value in headers:
                p_ctx.transport.resp_headers.setdefault(name, []).append(value)
        return super().handle_error(p_ctx, others, error, start_response)


_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_FAULT_MESSAGE = "OrdersFault"
#: The SOAP 1.2 namespaces spyne declares on every WSDL it writes (WSDL's SOAP 1.2 binding, the
#: 1.2 envelope and encoding), although it binds only SOAP 1.1 here.
SOAP12_NAMESPACES = frozenset({
    "http://schemas.xmlsoap.org/wsdl/soap12/", SOAP12_ENV, "http://www.w3.org/2003/05/soap-encoding"})


def _publish_soap11_only(interface: Any) -> None:
    """Leave spyne's SOAP 1.2 namespace declarations out of the WSDL (and out of answers). They are
    unused, yet gSOAP's wsdl2h reads the WSDL ``soap12`` declaration as a SOAP 1.2 service and
    generates a client that sends SOAP 1.2, which this SOAP 1.1 endpoint refuses (spyne's SOAP 1.2
    is partial and unsupported)."""
    for prefix, namespace in list(interface.nsmap.items()):
        if namespace in SOAP12_NAMESPACES:
            del interface.nsmap[prefix]


def _declare_faults(document: etree._Element) -> None:
    """Declare the contract's fault on every operation, with its typed detail, so generated
    clients (JAX-WS, .NET, CXF) get a typed exception carrying ErrorCode, Message and Retryable.
    spyne publishes no typed faults of its own."""
    xs, wsdl, soap = (lambda name, ns=ns: f"{{{ns}}}{name}" for ns in (_XS, _WSDL, _WSDL_SOAP))
    schema = document.find(f"{wsdl('types')}/{xs('schema')}[@targetNamespace='{TNS}']")
    assert schema is not None
    detail = etree.SubElement(schema, xs("complexType"), name="FaultDetail")
    sequence = etree.SubElement(detail, xs("sequence"))
    for name, kind in (("ErrorCode", "xs:string"), ("Message", "xs:string"), ("Retryable", "xs:boolean")):
        etree.SubElement(sequence, xs("element"), name=name, type=kind)
    etree.SubElement(schema, xs("element"), name="FaultDetail", type="tns:FaultDetail")
    first_message = document.find(wsdl("message"))
    assert first_message is not None
    message = etree.Element(wsdl("message"), name=_FAULT_MESSAGE)
    etree.SubElement(message, wsdl("part"), name="FaultDetail", element="tns:FaultDetail")
    first_message.addprevious(message)
    for operation in document.iterfind(f"{wsdl('portType')}/{wsdl('operation')}"):
        etree.SubElement(operation, wsdl("fault"), name=_FAULT_MESSAGE, message=f"tns:{_FAULT_MESSAGE}")
    for operation in document.iterfind(f"{wsdl('binding')}/{wsdl('operation')}"):
        fault = etree.SubElement(operation, wsdl("fault"), name=_FAULT_MESSAGE)
        etree.SubElement(fault, soap("fault"), name=_FAULT_MESSAGE, use="literal")


_DECLARATION_ORDER = {f"{{{_XS}}}{kind}": rank for rank, kind in enumerate(
    ("import", "simpleType", "complexType", "element"))}


def _sort_schema_declarations(document: etree._Element) -> None:
    """spyne emits schema declarations in hash order, which changes between runs; their order
    carries no meaning, so sort them by kind and name to publish the same WSDL every time."""
    for schema in document.iter(f"{{{_XS}}}schema"):
        children = list(schema)
        children.sort(key=lambda node: (_DECLARATION_ORDER.get(node.tag, 9), node.get("name") or node.get("namespace") or ""))
        schema[:] = children


def schema_names(wsdl: bytes) -> set[str]:
    """Every element and type name the WSDL declares."""
    tree = etree.fromstring(wsdl)
    xs = "http://www.w3.org/2001/XMLSchema"
    return {
        node.get("name")
        for node in tree.iter(f"{{{xs}}}element", f"{{{xs}}}complexType", f"{{{xs}}}simpleType")
        if node.get("name")
    } | {"Envelope", "Body", "Header"}


def fault_envelope(fault: OrdersFault) -> bytes:
    """A SOAP 1.1 fault envelope built without spyne, for answers given before spyne is reached."""
    env = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap11env": SOAP11_ENV})
    body = etree.SubElement(env, f"{{{SOAP11_ENV}}}Body")
    node = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap11env:{fault.faultcode}"
    etree.SubElement(node, "faultstring").text = fault.faultstring
    typed = etree.SubElement(etree.SubElement(node, "detail"), faults.DETAIL, nsmap={"tns": TNS})
    for key, value in fault.fields.items():
        etree.SubElement(typed, f"{{{TNS}}}{key}").text = value
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
