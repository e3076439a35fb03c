"""Orders kept written: each order's document, as XML and as JSON, stored beside it and written
again in the same transaction as any change to it, so that reads fetch it in one query.

``RENDER_VERSION`` is derived from the order document's description: when the description
changes (a new field, a new length), every stored document is out of date at once, readers fall
back to writing the order afresh, and ``soap-orders db upgrade`` writes them all again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..domain.orders import Order
from .orders import ORDER
from .records import Rendered, dump
from .xml import document_writer

#: Bump when the way documents are written changes without their description changing.
_WRITER_REVISION = 1

RENDER_VERSION = int.from_bytes(
    hashlib.sha256(f"{_WRITER_REVISION}:{ORDER!r}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def render_order(order: Order) -> Rendered:
    """The order's document as the answers carry it."""
    out: list[str] = []
    document_writer(ORDER)(order, None, out)
    return Rendered("".join(out), json.dumps(dump(ORDER, order), ensure_ascii=False, separators=(",", ":")))


def as_rendered(row: Any) -> Rendered | None:
    """A stored document that is current, or None (missing, or written by an older description)."""
    if row is None or row.render_version != RENDER_VERSION:
        return None
    return Rendered(row.xml, row.json)
