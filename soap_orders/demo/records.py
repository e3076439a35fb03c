"""Demo orders in their plain-data form: what ``demo-data --jsonl`` writes and ``import`` reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..documents.records import order_to_record
from .builder import FIRST_ORDER_NUMBER, build_orders


def generate_records(count: int, seed: int, *, first_number: int = FIRST_ORDER_NUMBER) -> Iterator[dict[str, Any]]:
    """Yield ``count`` order records, deterministically from ``seed`` (see ``builder.build_orders``).

    Every record is accepted by ``documents.records.order_from_record`` and gives back the order it
    was made from."""
    for order in build_orders(count, seed, first_number=first_number):
        yield order_to_record(order)


def write_jsonl(path: Path, count: int, seed: int, *, first_number: int = FIRST_ORDER_NUMBER) -> None:
    """Write the records as JSON Lines, one order per line, importable by ``soap-orders import``."""
    with path.open("w", encoding="utf-8") as out:
        for record in generate_records(count, seed, first_number=first_number):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
