"""Reading an XML document of Order elements (an ``Orders`` root, or a lone ``Order``).

The file is parsed as a stream (files may be tens of megabytes) with entities, DTDs and network
access disabled; a document type declaration refuses the whole file. Each Order element is
validated against the published schema, the same one the SOAP endpoint uses, written from the
documents' declarations (neither spyne nor zeep is needed).
"""

from __future__ import annotations

import json
from typing import IO, Any

from lxml import etree

from .. import xmlsafe
from ..documents import Document, ListOf
from ..documents.fields import TNS
from ..documents.orders import ORDER, ORDER_INPUT
from ..documents.schema_errors import add_schema_names, describe_schema_error
from ..documents.xsd import schema as xsd_schema
from .batches import Batcher, record_fingerprint
from .progress import Progress
from .report import INVALID_DOCUMENT, ImportProblem, ImportReport, clean

#: Bytes read from the file at a time when streaming XML.
CHUNK = 64 * 1024

_ORDER = f"{{{TNS}}}Order"
_ORDERS = f"{{{TNS}}}Orders"

_NOTHING_IMPORTED = "; nothing was imported."

#: The published schema, compiled on first use, and the same with a global Order element of the
#: type the ERP sends (the only module-level state).
_schema: etree.XMLSchema | None = None
_input_schema: etree.XMLSchema | None = None


class _Refused(Exception):
    """The whole file is refused (a DOCTYPE, a wrong root element): nothing is imported."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def order_input_schema() -> etree.XMLSchema:
    """The published schema's types with a global ``Order`` element of the type UpsertOrders takes
    (``OrderInput``: what the service computes or defaults may be left out), for imported Orders."""
    global _input_schema
    if _input_schema is None:
        _input_schema = _compiled(ORDER_INPUT)
    return _input_schema


def order_schema() -> etree.XMLSchema:
    """The published schema's types with a global ``Order`` element of the answers' ``Order`` type,
    compiled once.

    Written from the documents' declarations (the same types the WSDL publishes), without building
    the WSDL. Also registers the schema's names, the only names an error message may
    repeat (see ``documents.schema_errors``)."""
    global _schema
    if _schema is None:
        _schema = _compiled(ORDER)
    return _schema


def _compiled(order: Document) -> etree.XMLSchema:
    node = xsd_schema({"Order": order})
    add_schema_names({name for element in node.iter() if (name := element.get("name"))})
    return etree.XMLSchema(node)


def _parser() -> etree.XMLPullParser:
    return xmlsafe.pull_parser()


def read_xml(
    stream: IO[bytes], batcher: Batcher, report: ImportReport, progress: Progress
) -> None:
    """Stream Order elements (children of an ``Orders`` root, or a lone ``Order`` root).

    An Order is imported only once its end tag has really been read. lxml's pull parser reports
    an end when libxml2 reads an end tag, but since lxml 6.2 a failed ``close()`` also reports ends
    for the elements still open when the data stopped, and older versions report none; so what a
    failing call reports is judged by what it proves, never by the order of its events:

    - a ``feed()`` that succeeds reports only tags it read (an end tag is read with its ``>``);
    - a ``close()`` that fails (the file ends inside the document) has no end tag left to read,
      so the ends it reports close elements the file never closed: none of them is imported;
    - a ``feed()`` that fails reports what it read before the error, and at most what a closing
      of the open elements adds; that closing would end the root while libxml2 places the error
      inside the document, so then the last Order it ended is uncertain: reported, not imported.
    """
    schema = order_input_schema()
    parser = _parser()
    checked = False

    def take(events: list[tuple[str, etree._Element]], error: etree.XMLSyntaxError | None = None) -> None:
        nonlocal checked
        closed_open = error is not None and error.code != _DOCUMENT_END and any(
            element.getparent() is None for _event, element in events
        )
        for _event, element in events:
            if not checked:
                _check_document(element)
                checked = True
            if not _top_level(element):
                continue
            if closed_open and element.getnext() is None:
                report.errors.append(ImportProblem(element.sourceline or 1, _UNCERTAIN))
                continue
            _on_end(element, schema, batcher, report)

    try:
        while chunk := stream.read(CHUNK):
            if progress.stopping:
                report.stopped = True
                return
            progress.advance(len(chunk))
            if not checked and xmlsafe.declares_a_dtd(chunk):
                raise xmlsafe.DoctypeRefused()
            try:
                parser.feed(chunk)
            except etree.XMLSyntaxError as error:
                take(list(parser.read_events()), error)  # the Orders completed before it are kept
                _not_well_formed(error, report)
                return
            take(list(parser.read_events()))
        try:
            parser.close()
        except etree.XMLSyntaxError as error:
            _not_well_formed(error, report)  # nothing that close() reports ending is taken
            return
        take(list(parser.read_events()))
    except xmlsafe.XmlRefused as refused:
        batcher.discard()
        report.errors.append(ImportProblem(1, refused.message.rstrip(".") + _NOTHING_IMPORTED))
    except _Refused as refused:
        batcher.discard()
        report.errors.append(ImportProblem(refused.line, refused.message))


#: libxml2's code for content after the root element: the document itself was complete.
_DOCUMENT_END = etree.ErrorTypes.ERR_DOCUMENT_END
_UNCERTAIN = "The Order was not imported: the file stops being well-formed XML at or right after it."


def _not_well_formed(error: etree.XMLSyntaxError, report: ImportReport) -> None:
    message = f"The file is not well-formed XML ({_where(error)})."
    report.errors.append(ImportProblem(error.lineno or 1, message))


def _where(error: etree.XMLSyntaxError) -> str:
    line, column = error.position if error.position else (error.lineno or 1, 0)
    return f"line {line}, column {column}"


def _check_document(element: etree._Element) -> None:
    """Refuse a document type declaration or a root other than Orders / Order."""
    tree = element.getroottree()
    xmlsafe.check_tree(tree)
    root = tree.getroot()
    if root.tag not in (_ORDERS, _ORDER):
        raise _Refused(
            root.sourceline or 1,
            f"The root element must be Orders or Order in the namespace {TNS}; nothing was imported.",
        )


def _top_level(element: etree._Element) -> bool:
    """Whether ``element`` is one the importer handles: a child of the root, or an Order root."""
    parent = element.getparent()
    if parent is None:
        return element.tag == _ORDER  # else the end of the Orders root
    return parent.getparent() is None and parent.tag == _ORDERS  # else inside an Order: handled with it


def _on_end(
    element: etree._Element, schema: etree.XMLSchema, batcher: Batcher, report: ImportReport
) -> None:
    """Handle a finished top-level element: import an Order, then let it go."""
    parent = element.getparent()
    line = element.sourceline or 1
    if element.tag == _ORDER:
        _import_element(line, element, schema, batcher, report)
    else:
        message = f"Orders may contain only Order elements of the namespace {TNS}."
        report.errors.append(ImportProblem(line, message))
    # Release what has been handled so that memory stays flat however long the file is.
    element.clear()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _import_element(
    line: int, element: etree._Element, schema: etree.XMLSchema, batcher: Batcher, report: ImportReport
) -> None:
    """Validate one Order element against the schema, then load it as a record."""
    if not schema.validate(element):
        first = next(iter(schema.error_log), None)
        message = "The Order does not match the schema."
        if first is not None:
            message = describe_schema_error(str(first))
        report.errors.append(ImportProblem(line, clean(message), INVALID_DOCUMENT))
        return
    record = element_to_record(element)
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    batcher.load(line, record, record_fingerprint(canonical.encode()))


def element_to_record(element: etree._Element, document: Document = ORDER) -> dict[str, Any]:
    """The record form of a (schema-valid) element of ``document``, read by its description:
    nested documents become dicts, list wrappers lists of their items, and leaves their text."""
    record: dict[str, Any] = {}
    for child in _children(element):
        name = _local(child)
        try:
            kind = document.field(name).kind
        except KeyError:
            record[name] = child.text  # not a field: the record loader says so
            continue
        if isinstance(kind, ListOf):
            item = kind.item
            record[name] = [element_to_record(i, item) if isinstance(item, Document) else i.text
                            for i in _children(child)]
        elif isinstance(kind, Document):
            record[name] = element_to_record(child, kind)
        else:
            record[name] = child.text
    return record


def _children(element: etree._Element) -> list[etree._Element]:
    """Child elements only (no comments or processing instructions)."""
    return [child for child in element if isinstance(child.tag, str)]


def _local(element: etree._Element) -> str:
    """The element's name without its namespace (all of them are in the orders namespace)."""
    return str(element.tag).rpartition("}")[2]
