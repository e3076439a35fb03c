"""The ``soap-orders`` command (``main``): serving, the database, imports, demo data, clients and
the contract documents (``commands``); the relay and the outbox (``outbox``); customers' privacy
requests (``privacy``); and what every command shares (``wiring``)."""

from .commands import main

__all__ = ["main"]
