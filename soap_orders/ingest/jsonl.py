"""Reading a JSON Lines file: one record (an order, or a subscription) per line."""

from __future__ import annotations

import json
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
