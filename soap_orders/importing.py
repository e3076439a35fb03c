"""``soap-orders import``: upsert orders (and, from JSON Lines, subscriptions) from a JSON Lines file or an
XML document of Order elements.

Bad records are reported with their line number and a reason that names the field and the rule,
never the raw value; good records are stored in batches, one transaction per batch. XML is parsed
as a stream (files may be tens of megabytes) with entities, DTDs and network access disabled; a
document type declaration refuses the whole file. Each Order element is validated against the
published schema, the same one the SOAP endpoint uses.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from . import __version__, xmlsafe
from .documents import Document, ListOf
from .documents.fields import TNS
from .documents.orders import ORDER, ORDER_INPUT
from .documents.records import (
    NumberOutOfRange,
    RecordError,
    order_from_record,
    read_json,
)
from .documents.rendered import RENDER_VERSION
from .domain.errors import DomainError
from .domain.orders import Order
from .domain.subscriptions import MAX_UPSERT_BATCH
from .domain.upserts import UpsertOutcome, UpsertReasonCode
from .service.orders import unchanged_records, upsert_orders
from .service.subscription_upserts import upsert_subscriptions

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
XML_SUFFIXES = frozenset({".xml"})
#: Bytes read from the file at a time when streaming XML.
CHUNK = 64 * 1024
#: Wrapper elements whose children become a list (``Lines/Line`` -> ``Lines: [...]``).

_ORDER = f"{{{TNS}}}Order"
_ORDERS = f"{{{TNS}}}Orders"

_NOTHING_IMPORTED = "; nothing was imported."

#: The published schema, compiled on first use, and the same with a global Order element of the
#: type the ERP sends (the only module-level state).
_schema: etree.XMLSchema | None = None
_input_schema: etree.XMLSchema | None = None


#: The reasons of refusals that are not an upsert's reason code: a line or part of the file that
#: is no record (not UTF-8, not JSON, not well-formed XML, not an Order), and a batch refused whole.
UNREADABLE = "UNREADABLE"
BATCH_REFUSED = "BATCH_REFUSED"
INVALID_DOCUMENT = UpsertReasonCode.INVALID_DOCUMENT.value


@dataclass
class ImportProblem:
    """One record that was not stored: where it starts in the file, why, and the reason's code
    (an upsert's reason code, or ``UNREADABLE`` / ``BATCH_REFUSED``)."""

    line: int
    message: str
    #: Not part of a problem's identity: two reports of the same line and message are the same.
    reason: str = field(default=UNREADABLE, compare=False)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportProblem] = field(default_factory=list)
    #: Records stored with part of them set aside, and why (the personal data of a forgotten
    #: customer: ``PERSONAL_DATA_FORGOTTEN``); they are not failures.
    notices: list[ImportProblem] = field(default_factory=list)
    #: Nothing was written: the counts say what an import would have done.
    dry_run: bool = False
    #: The import stopped early (an interrupt) after the batches counted here.
    stopped: bool = False

    def refused_by_reason(self) -> list[tuple[str, int]]:
        """How many records were refused for each reason, the commonest first (ties by name)."""
        counts = Counter(problem.reason for problem in self.errors)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def summary(self) -> str:
        """The last line of an import: what it did (or, in a dry run, would do)."""
        counts = (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                  f"{len(self.errors)} failed")
        if self.dry_run:
            return f"Dry run, nothing was written: {counts}."
        return counts + (" (stopped early; run the import again to go on)." if self.stopped else ".")


class _Refused(Exception):
    """The whole file is refused (a DOCTYPE, a wrong root element): nothing is imported."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


# ---------------------------------------------------------------------- entry point


def import_file(
    deps: Any, path: Path, *, fmt: str = "auto", batch_size: int = 200, progress: bool = False,
    dry_run: bool = False, progress_every: float | None = None, interruptible: bool = False,
) -> ImportReport:
    """Upsert every valid order of ``path`` and report the ones that were not valid.

    ``fmt`` is ``"jsonl"``, ``"xml"`` or ``"auto"`` (decided by the suffix, else by the first
    non-blank byte). When ``progress`` is true a progress line (records, rate, ETA) is kept up to
    date on stderr (a terminal); with ``progress_every`` a one-line summary is written to stderr
    every that many seconds instead (a log). With ``dry_run`` every batch is checked and merged as
    for real, then rolled back: the report says what an import would create, update, leave
    unchanged and refuse, and nothing is written (an order number that occurs in two batches of the
    file is judged against the stored order each time). With ``interruptible`` (the main thread
    only) a first SIGINT (Ctrl-C) stops reading: the records read are written as usual and the
    report says it stopped (``stopped``); a second one interrupts at once, rolling back the
    batch being written."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    kind = detect_format(path) if fmt == "auto" else fmt
    if kind not in ("jsonl", "xml"):
        raise ValueError("fmt must be 'auto', 'jsonl' or 'xml'")
    report = ImportReport(dry_run=dry_run)
    batcher = _Batcher(deps, batch_size, report)
    tracker = _Progress(report, path.stat().st_size, terminal=progress, every=progress_every)
    with path.open("rb") as stream, _stop_on_interrupt(tracker, interruptible):
        if kind == "jsonl":
            _read_jsonl(stream, batcher, report, tracker)
        else:
            _read_xml(stream, batcher, report, tracker)
        batcher.flush()
    tracker.finish()
    report.errors.sort(key=lambda problem: problem.line)
    report.notices.sort(key=lambda problem: problem.line)
    return report


def detect_format(path: Path) -> str:
    """``"jsonl"`` or ``"xml"``, from the file's suffix or else its first non-blank byte."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in XML_SUFFIXES:
        return "xml"
    with path.open("rb") as stream:
        head = stream.read(4096)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "xml" if head.startswith(b"<") else "jsonl"


class _Progress:
    """Where an import stands: bytes read, records done, rate and ETA, shown on stderr (a line kept
    up to date on a terminal, or a line every ``every`` seconds); and whether to stop reading."""

    def __init__(self, report: ImportReport, total: int, *, terminal: bool, every: float | None,
                 out: IO[str] | None = None) -> None:
        self.report = report
        self.total = max(total, 1)
        self.read = 0
        self.stopping = False
        self.terminal = terminal
        self.every = 0.2 if terminal else every
        self.out = out or sys.stderr
        self.started = self.shown = time.monotonic()

    def done(self) -> int:
        report = self.report
        return report.created + report.updated + report.unchanged + len(report.errors)

    def advance(self, size: int) -> None:
        self.read += size
        if self.every is not None and time.monotonic() - self.shown >= self.every:
            self.show()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done, fraction = self.done(), min(self.read / self.total, 1.0)
        rate = done / elapsed
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        return (f"import: {done:,} records ({fraction:.0%} of the file), {rate:,.0f}/s, "
                f"{len(self.report.errors):,} failed, ETA {_duration(eta)}")

    def show(self) -> None:
        self.shown = time.monotonic()
        if self.terminal:
            self.out.write("\r" + self.line() + "\x1b[K")
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()

    def finish(self) -> None:
        """On a terminal, the line as it ends (with the whole import's rate) stays on the screen."""
        if self.terminal:
            self.show()
            self.out.write("\n")
            self.out.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@contextmanager
def _stop_on_interrupt(tracker: _Progress, enabled: bool) -> Iterator[None]:
    """While enabled (in the main thread), a first SIGINT asks the import to stop after what it has
    read; the next one interrupts as usual."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: Any) -> None:
        tracker.stopping = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------- batches


@dataclass
class _Pending:
    """A record waiting for its batch: where it starts, the record, its order number (when it has
    one) and its fingerprint."""

    line: int
    record: Any
    number: str | None
    fingerprint: str | None
    #: A JSON line read only roughly so far (``record`` is None): it is read exactly (every number
    #: checked) only if its fingerprint does not show it unchanged.
    raw: bytes | None = None


class _Batcher:
    """Collects valid orders and upserts them ``size`` at a time, one transaction per batch.

    Every record goes through the upsert (merge, never erase) with its own result: a refused record
    is reported at its line and the others are kept. An order number seen twice is merged twice, in
    the file's order, so the later record wins where the two differ."""

    def __init__(self, deps: Any, size: int, report: ImportReport) -> None:
        self.deps = deps
        self.size = size
        self.report = report
        self.pending: list[_Pending] = []
        #: Records whose fingerprint did not show them unchanged, to be merged ``size`` at a time:
        #: when few records change, their transactions are not one per batch read.
        self.to_merge: list[_Pending] = []
        #: Subscription records (a record with a SubscriptionId), with their lines.
        self.subscriptions: list[tuple[int, dict[str, Any]]] = []

    def add(self, item: _Pending) -> None:
        self.pending.append(item)
        if len(self.pending) >= self.size:
            self.flush(final=False)

    def add_subscription(self, line: int, record: dict[str, Any]) -> None:
        """Queue a subscription record; the use case checks it and answers for it alone. A
        SubscriptionId seen again writes the batch first, so that the later record wins."""
        sid = record.get("SubscriptionId")
        if any(queued.get("SubscriptionId") == sid for _, queued in self.subscriptions):
            self.flush_subscriptions()
        self.subscriptions.append((line, record))
        if len(self.subscriptions) >= min(self.size, MAX_UPSERT_BATCH):
            self.flush_subscriptions()

    def flush_subscriptions(self) -> None:
        if not self.subscriptions:
            return
        batch, self.subscriptions = self.subscriptions, []
        try:
            results = upsert_subscriptions(self.deps.uow(), [record for _, record in batch], self.deps.clock,
                                           dry_run=self.report.dry_run)
        except DomainError as error:
            self.report.errors.append(ImportProblem(batch[0][0], _clean(error.message), BATCH_REFUSED))
            return
        for (line, _), result in zip(batch, results, strict=True):
            if result.outcome is UpsertOutcome.CREATED:
                self.report.created += 1
            elif result.outcome is UpsertOutcome.REJECTED:
                why = result.message or result.reason_code.value
                self.report.errors.append(ImportProblem(line, _clean(f"{result.reason_code.value}: {why}"),
                                                        result.reason_code.value))
            else:
                self.report.updated += 1
            if result.outcome is not UpsertOutcome.REJECTED and result.reason_code is not UpsertReasonCode.NONE:
                why = result.message or result.reason_code.value
                self.report.notices.append(ImportProblem(line, _clean(f"{why} ({result.reason_code.value})"),
                                                         result.reason_code.value))

    def discard(self) -> None:
        """Forget the orders not yet written."""
        self.pending = []
        self.to_merge = []

    def flush(self, *, final: bool = True) -> None:
        """Sort out the records read: the unchanged ones are counted, the others merged once
        ``size`` of them wait (or, ``final``, now)."""
        self.flush_subscriptions()
        if self.pending:
            self._sort_out()
        if self.to_merge and (final or len(self.to_merge) >= self.size):
            self._merge()

    def _sort_out(self) -> None:
        batch, self.pending = self.pending, []
        # A record whose fingerprint is stored beside its order, which nothing has changed since,
        # would merge to no change: it is counted unchanged without being read into an order. An
        # order number that occurs twice in the batch, or has a record still waiting to be merged,
        # is merged in full, in the file's order (the later record wins).
        counts = Counter(item.number for item in batch)
        waiting = {item.number for item in self.to_merge}
        wanted = {item.number: item.fingerprint for item in batch
                  if item.number is not None and item.fingerprint is not None and counts[item.number] == 1
                  and item.number not in waiting}
        try:
            unchanged = unchanged_records(self.deps.uow(), wanted)
        except DomainError as error:
            self.report.errors.append(ImportProblem(batch[0].line, _clean(error.message), BATCH_REFUSED))
            return
        for item in batch:
            if item.number in unchanged:
                self.report.unchanged += 1
            else:
                self.to_merge.append(item)

    def _merge(self) -> None:
        batch, self.to_merge = self.to_merge, []
        lines: list[int] = []
        orders: list[Order] = []
        fingerprints: list[str | None] = []
        for item in batch:
            record = item.record if item.raw is None else _read_exact(item.line, item.raw, self.report)
            if record is _UNREADABLE:
                continue
            try:
                order = order_from_record(record)
            except RecordError as error:
                self.report.errors.append(ImportProblem(item.line, _clean(error.message), INVALID_DOCUMENT))
                continue
            lines.append(item.line)
            orders.append(order)
            fingerprints.append(item.fingerprint)
        if not orders:
            return
        try:
            upserted = upsert_orders(self.deps.uow(), orders, self.deps.clock, fingerprints=fingerprints,
                                     dry_run=self.report.dry_run)
        except DomainError as error:
            self.report.errors.append(ImportProblem(lines[0], _clean(error.message), BATCH_REFUSED))
            return
        self.report.created += upserted.created
        self.report.updated += upserted.updated
        self.report.unchanged += upserted.unchanged
        for line, result in zip(lines, upserted.results, strict=True):
            message = f"{result.message} ({result.reason_code.value})"
            if result.outcome is UpsertOutcome.REJECTED:
                self.report.errors.append(ImportProblem(line, _clean(message), result.reason_code.value))
            elif result.reason_code is not UpsertReasonCode.NONE:
                self.report.notices.append(ImportProblem(line, _clean(message), result.reason_code.value))


def record_fingerprint(data: bytes) -> str:
    """The fingerprint of one record as the file holds it, under the rules of this release (a
    release may check or merge differently, so its fingerprints never match an earlier one's)."""
    return hashlib.sha256(_FINGERPRINT_SALT + data).hexdigest()


_FINGERPRINT_SALT = f"soap-orders {__version__} document {RENDER_VERSION}\n".encode()


def _load(line: int, record: Any, batcher: _Batcher, report: ImportReport, fingerprint: str | None = None) -> None:
    """Queue one record (turned into an order when the batch is written, unless it is unchanged),
    or report why it cannot be one. A record with a SubscriptionId is a subscription."""
    if isinstance(record, dict) and "SubscriptionId" in record:
        batcher.add_subscription(line, record)
        return
    number = record.get("OrderNumber") if isinstance(record, dict) else None
    batcher.add(_Pending(line, record, number if isinstance(number, str) else None, fingerprint))


def _clean(message: str) -> str:
    """One printable line: a message must not break the ``file:line: message`` output."""
    return "".join(ch if ch.isprintable() else "?" for ch in message)


# ---------------------------------------------------------------------- JSON Lines


def _read_jsonl(
    stream: IO[bytes], batcher: _Batcher, report: ImportReport, progress: _Progress
) -> None:
    for number, raw in enumerate(stream, 1):
        if progress.stopping:
            report.stopped = True
            return
        progress.advance(len(raw))
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        raw = raw.strip()
        if not raw:
            continue
        # An order is first read roughly, for its number: a record whose fingerprint shows it
        # unchanged costs no more than this; the others are read exactly when their batch is written.
        try:
            preview = json.loads(raw)
        except (ValueError, RecursionError):
            preview = None
        if isinstance(preview, dict) and "SubscriptionId" not in preview and isinstance(preview.get("OrderNumber"), str):
            batcher.add(_Pending(number, None, preview["OrderNumber"], record_fingerprint(raw), raw))
            continue
        record = _read_exact(number, raw, report)
        if record is not _UNREADABLE:
            _load(number, record, batcher, report, record_fingerprint(raw))


#: What ``_read_exact`` returns for a line it could not read (and reported).
_UNREADABLE = object()


def _read_exact(number: int, raw: bytes, report: ImportReport) -> Any:
    """The record of a JSON line, every number read exactly; or, reported, ``_UNREADABLE``."""
    try:
        return read_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        report.errors.append(ImportProblem(number, "not valid UTF-8 text"))
    except NumberOutOfRange:
        report.errors.append(ImportProblem(number, "holds a number too large or too small for any field"))
    except (ValueError, RecursionError):
        report.errors.append(ImportProblem(number, "not valid JSON"))
    return _UNREADABLE


# ---------------------------------------------------------------------- XML


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
    the WSDL. Also tells ``soap.faults`` the schema's names, the only names an error message may
    repeat."""
    global _schema
    if _schema is None:
        _schema = _compiled(ORDER)
    return _schema


def _compiled(order: Document) -> etree.XMLSchema:
    from .documents.xsd import schema
    from .soap import faults

    node = schema({"Order": order})
    faults.add_schema_names({name for element in node.iter() if (name := element.get("name"))})
    return etree.XMLSchema(node)


def _parser() -> etree.XMLPullParser:
    return xmlsafe.pull_parser()


def _read_xml(
    stream: IO[bytes], batcher: _Batcher, report: ImportReport, progress: _Progress
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
    element: etree._Element, schema: etree.XMLSchema, batcher: _Batcher, report: ImportReport
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
    line: int, element: etree._Element, schema: etree.XMLSchema, batcher: _Batcher, report: ImportReport
) -> None:
    """Validate one Order element against the schema, then load it as a record."""
    if not schema.validate(element):
        from .soap import (
            faults,  # the XML path only: spyne is not needed to read JSON Lines
        )

        first = next(iter(schema.error_log), None)
        message = "The Order does not match the schema."
        if first is not None:
            message = faults.describe_schema_error(str(first))
        report.errors.append(ImportProblem(line, _clean(message), INVALID_DOCUMENT))
        return
    record = element_to_record(element)
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    _load(line, record, batcher, report, record_fingerprint(canonical.encode()))


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
