"""Realistic, reproducible demo orders: ``soap-orders demo-data``.

- ``reference``: the shop's countries, places, carriers, products, prices and return reasons;
- ``customers``: its customers, a pure function of (seed, number);
- ``builder``: ``build_orders`` makes ``Order`` objects from a seed through the domain's rules;
- ``records``: the same orders as import records and JSON Lines;
- ``writer``: writes them in batches, skipping (or with ``replace``, overwriting) existing orders;
- ``suggestions``: what to try once they are written;
- ``subscriptions``: the demo subscriptions of some of those customers, through the subscription rules.
"""

from __future__ import annotations

from .builder import ANCHOR, FIRST_ORDER_NUMBER, SPAN, build_orders
from .records import generate_records, write_jsonl
from .writer import BATCH_SIZE, write_demo_data, write_orders

__all__ = [
    "ANCHOR",
    "BATCH_SIZE",
    "FIRST_ORDER_NUMBER",
    "SPAN",
    "build_orders",
    "generate_records",
    "write_demo_data",
    "write_jsonl",
    "write_orders",
]
