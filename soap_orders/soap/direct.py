"""Read operations answered without spyne's per-request machinery, when the request is plain.

Reads are most of the traffic (finding and fetching orders), and their requests are a handful of
scalar elements. For those, building spyne's method context, re-walking the envelope and
deserialising element by element costs more than the read itself. This path does the same steps
directly on the lxml tree: the same charset handling and safe parser, the same envelope checks,
validation of the operation element against the same schema spyne validates it with, spyne's own
conversion of each value from text, the same scope check, use case and answer writer.

It answers only what it is sure spyne would answer the same way: a call authenticated at the
HTTP layer, with no SOAP Header and no attribute anywhere (no ``xsi:type`` or ``xsi:nil`` to
interpret), whose operation element is valid, and whose use case succeeds. Anything else, every
fault included, is declined and goes through spyne, which then answers it as it always has. Reads
change nothing, so running one again there is harmless. Tests send the same requests both ways
and compare the answers byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lxml import etree

from .. import xmlsafe
from ..documents import Document, ListOf
from ..http.access_log import note
from ..operations import OPERATIONS, Call, Operation, outcome_of
from . import types as t
from .envelope import check_envelope
from .ns import SOAP11_ENV, TNS
from .writer import answer_envelope
from .xml import to_utf8

log = logging.getLogger("soap_orders.soap")

_BODY = f"{{{SOAP11_ENV}}}Body"
_Convert = Callable[[str], Any]


def direct_operations() -> tuple[Operation, ...]:
    """The operations this path may answer: those that change nothing and take scalar values."""
    return tuple(op for op in OPERATIONS if not op.writes
                 and not any(isinstance(f.kind, Document | ListOf) for f in op.request))


class DirectReads:
    """Answers plain read requests (see the module's doc); ``None`` means "let spyne answer"."""

    def __init__(self, app: Any, charset: Callable[[str], str | None]) -> None:
        protocol = app.in_protocol
        self.schema: etree.XMLSchema = protocol.validation_schema
        self.services = app.soap_orders
        self.charset = charset
        self.operations: dict[str, tuple[Operation, dict[str, tuple[str, _Convert]]]] = {}
        for operation in direct_operations():
            fields = {f"{{{TNS}}}{f.name}": (f.name, _converter(protocol, t.element(f)))
                      for f in operation.request}
            self.operations[f"{{{TNS}}}{operation.name}"] = (operation, fields)

    def __call__(self, environ: dict[str, Any], body: bytes) -> bytes | None:
        principal = environ.get("soap_orders.principal")
        if principal is None:  # WS-Security credentials are read by the full path
            return None
        request = self._request_element(environ, body)
        if request is None:
            return None
        known = self.operations.get(request.tag)
        if known is None:
            return None
        operation, fields = known
        if not operation.allows(principal.scopes) or not self.schema.validate(request):
            return None
        record: dict[str, Any] = {}
        for child in request:
            if not isinstance(child.tag, str):
                continue
            name, convert = fields[child.tag]  # the schema admits no other element
            if child.text is None:
                return None
            try:
                record[name] = convert(child.text)
            except Exception:  # noqa: BLE001 - e.g. an integer of more digits than int() reads: the full path refuses it
                return None
        note(environ, operation=operation.name)
        try:
            result = operation.invoke(Call.by(self.services, principal),
                                      {name: value for name, value in record.items() if value is not None})
        except Exception as error:  # noqa: BLE001 - the full path answers it, fault and all
            log.debug("request %s: %s declined by the direct path (%s)", environ.get("soap_orders.request_id"),
                      operation.name, type(error).__name__)
            return None
        note(environ, outcome=outcome_of(result))
        return answer_envelope(operation.answer_document, result)

    def _request_element(self, environ: dict[str, Any], body: bytes) -> etree._Element | None:
        try:
            root = xmlsafe.parse(to_utf8(body, self.charset(environ.get("CONTENT_TYPE", ""))))
            check_envelope(root, environ.get("HTTP_SOAPACTION"))
        except Exception:  # noqa: BLE001 - refusals are the full path's to answer
            return None
        if len(root) != 1 or root[0].tag != _BODY:  # a Header, or anything but the Body
            return None
        body_element = root[0]
        if root.attrib or body_element.attrib:
            return None
        request = next((child for child in body_element if isinstance(child.tag, str)), None)
        if request is None:
            return None
        for node in request.iter():
            if node.attrib:
                return None
        return request


def _converter(protocol: Any, spyne_type: Any) -> _Convert:
    """spyne's own conversion of an element's text to a value, as it deserialises requests (a
    scalar's plain-data form is the value itself: ``types.from_wire`` leaves it as it is)."""

    def convert(text: str) -> Any:
        return protocol.from_unicode(spyne_type, text)

    return convert
