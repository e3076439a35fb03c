"""Reading a JSON Lines file: one record (an order, or a subscription) per line."""

from __future__ import annotations

import json
import re
from typing import IO

from .batches import UNREADABLE_RECORD, Batcher, Pending, read_exact, record_fingerprint
from .progress import Progress
from .report import ImportReport


def read_jsonl(stream: IO[bytes], batcher: Batcher, report: ImportReport, progress: Progress) -> None:
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
        order_number = number_in_line(raw)
        if order_number is not None:
            batcher.add(Pending(number, None, order_number, record_fingerprint(raw), raw))
            continue
        try:
            preview = json.loads(raw)
        except (ValueError, RecursionError):
            preview = None
        if isinstance(preview, dict) and "SubscriptionId" not in preview and isinstance(preview.get("OrderNumber"), str):
            batcher.add(Pending(number, None, preview["OrderNumber"], record_fingerprint(raw), raw))
            continue
        record = read_exact(number, raw, report)
        if record is not UNREADABLE_RECORD:
            batcher.load(number, record, record_fingerprint(raw))


#: The order number key, as it is written when it is not escaped.
_KEY = b'"OrderNumber"'
#: That key, where a key stands (after ``{`` or ``,``), and its value: a string without escapes.
_KEY_AND_VALUE = re.compile(rb'[{,][ \t\r\n]*"OrderNumber"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)"')
#: A key holding a ``\u`` escape (its last escape one, the rest of it plain), as an escaped
#: ``"Order\u004eumber"`` or ``"Subscription\u0049d"`` would be written.
_ESCAPED_KEY = re.compile(rb'\\u[0-9A-Fa-f]{4}[^"\\]*"[ \t\r\n]*:')


def number_in_line(raw: bytes) -> str | None:
    """The order number of a JSON line read from its bytes, without parsing it, when that is sure
    to be the number JSON would read for a valid order record; None otherwise (and the line is
    parsed).

    It is read when ``"OrderNumber"`` occurs exactly once, as a key whose value is a string
    without escapes, no key is written with a ``\\u`` escape and ``"SubscriptionId"`` does not
    occur. Of a line that is a valid order record, this is its number: every key is written as
    it reads (an escape in a key that reads ``OrderNumber`` or ``SubscriptionId`` could only be a
    ``\\u`` one), so the one ``"OrderNumber"`` key is the record's only such key, at the top (an
    order must have its number there; a duplicated key would occur twice) — and the record is no
    subscription.

    Of any other line the number may be wrong, or the line not JSON at all; that is safe because
    such a line is never an order merged, and what the batch does with a number only ever makes
    it merge more records in full, never fewer: (1) the line itself is counted unchanged only
    when its fingerprint (the digest of its bytes) is the one stored beside that number, i.e. it
    is byte for byte a record once accepted whole for that very number; otherwise it is read
    exactly when its batch is merged and refused at its line, with the same message as when it is
    parsed first; (2) another record of the number it names is merged in full rather than counted
    unchanged (a number twice in a batch, or still waiting to be merged), which changes nothing
    but the work done; (3) the record whose real number it hides is not merged at all, so no
    later record of that number can overtake it."""
    if raw.count(_KEY) != 1 or b'"SubscriptionId"' in raw:
        return None
    if b"\\" in raw and _ESCAPED_KEY.search(raw):  # (a single byte is the quickest to look for)
        return None
    found = _KEY_AND_VALUE.search(raw)
    if found is None:
        return None
    try:
        return found.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None
