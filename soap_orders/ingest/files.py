"""``soap-orders import``: upsert orders (and, from JSON Lines, subscriptions) from a JSON Lines file or an
XML document of Order elements.

Bad records are reported with their line number and a reason that names the field and the rule,
never the raw value; good records are stored in batches, one transaction per batch (see
``batches``). JSON Lines is read by ``jsonl``, XML by ``xml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .batches import Batcher
from .jsonl import read_jsonl
from .progress import Progress, stop_on_interrupt
from .report import ImportReport

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
XML_SUFFIXES = frozenset({".xml"})
#: How many JSON lines are read before the fingerprints of their orders are asked for, in one
#: query (their merges still go ``batch_size`` at a time). An XML document's Orders go a batch at a
#: time: one that stops being well-formed keeps the batches written before.
LOOK_UP = 1000


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
    batcher = Batcher(deps, batch_size, report, look_up=LOOK_UP if kind == "jsonl" else 0)
    tracker = Progress(report, path.stat().st_size, terminal=progress, every=progress_every)
    with path.open("rb") as stream, stop_on_interrupt(tracker, interruptible):
        if kind == "jsonl":
            read_jsonl(stream, batcher, report, tracker)
        else:
            # lxml and the published schema are loaded only for an XML document.
            from .xml import read_xml

            read_xml(stream, batcher, report, tracker)
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
