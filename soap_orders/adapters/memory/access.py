"""The in-memory stores of API clients and what authenticates them: tokens, nonces, failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from ...domain.clients import ApiClient
from ...service.ports import StoredToken
from .tables import Tables


class MemoryClientRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def get(self, name: str, *, for_update: bool = False) -> ApiClient | None:
        return self.tables.clients.get(name)

    def add(self, client: ApiClient) -> None:
        if client.name in self.tables.clients:
            raise ValueError(f"client {client.name} already exists")
        self.tables.clients[client.name] = client

    def list(self) -> list[ApiClient]:
        return [self.tables.clients[name] for name in sorted(self.tables.clients)]


class MemoryTokenStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def add(self, digest: str, token: StoredToken) -> None:
        if digest in self.tables.tokens:
            raise ValueError("a token of this digest is already stored")
        self.tables.tokens[digest] = token

    def get(self, digest: str, *, for_update: bool = False) -> StoredToken | None:
        return self.tables.tokens.get(digest)

    def revoke(self, digest: str) -> None:
        if digest in self.tables.tokens:
            self.tables.tokens[digest] = replace(self.tables.tokens[digest], revoked=True)

    def revoke_client(self, client: str) -> None:
        for digest, token in self.tables.tokens.items():
            if token.client == client:
                self.tables.tokens[digest] = replace(token, revoked=True)

    def purge_expired(self, now: datetime) -> None:
        cutoff = now - timedelta(days=1)
        for digest in [d for d, token in self.tables.tokens.items() if token.expires_at < cutoff]:
            del self.tables.tokens[digest]


class MemoryNonceStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def use(self, nonce: str, client: str, now: datetime, keep_until: datetime) -> bool:
        for seen in [n for n, until in self.tables.nonces.items() if until < now]:
            del self.tables.nonces[seen]
        if nonce in self.tables.nonces:
            return False
        self.tables.nonces[nonce] = keep_until
        return True


class MemoryFailureLog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def counts(self, keys: list[str], since: datetime) -> dict[str, int]:
        found: dict[str, int] = {}
        for key, occurred_at in self.tables.failures:
            if key in keys and occurred_at >= since:
                found[key] = found.get(key, 0) + 1
        return found

    def add(self, key: str, now: datetime) -> None:
        cutoff = now - timedelta(days=1)
        self.tables.failures[:] = [f for f in self.tables.failures if f[1] >= cutoff]
        self.tables.failures.append((key[:128], now))

    def _clear(self, matches: Callable[[str], bool]) -> int:
        kept = [f for f in self.tables.failures if not matches(f[0])]
        cleared = len(self.tables.failures) - len(kept)
        self.tables.failures[:] = kept
        return cleared

    def clear(self, key: str) -> int:
        return self._clear(lambda k: k == key)

    def clear_client(self, name: str) -> int:
        return self._clear(lambda k: k == f"client:{name}" or k.startswith(f"client:{name}@"))
