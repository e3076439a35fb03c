"""The stores of API clients and of what authenticates them over a SQLAlchemy session: clients,
OAuth tokens, WS-Security nonces and failed sign-ins."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..domain.clients import ApiClient
from ..service.ports import StoredToken
from .database import begin_writing, dialect_insert
from .orm import api_clients, auth_failures, oauth_tokens, wsse_nonces


class SqlAlchemyClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, name: str, *, for_update: bool = False) -> ApiClient | None:
        stmt = select(ApiClient).where(api_clients.c.name == name)
        if for_update:
            begin_writing(self.session)
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def add(self, client: ApiClient) -> None:
        begin_writing(self.session)
        self.session.add(client)

    def list(self) -> list[ApiClient]:
        return list(self.session.scalars(select(ApiClient).order_by(api_clients.c.name)))


class SqlAlchemyTokenStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, digest: str, token: StoredToken) -> None:
        begin_writing(self.session)
        self.session.execute(insert(oauth_tokens).values(
            digest=digest, kind=token.kind, client=token.client, scopes=token.scopes,
            expires_at=token.expires_at, revoked=token.revoked,
        ))

    def get(self, digest: str, *, for_update: bool = False) -> StoredToken | None:
        stmt = select(oauth_tokens).where(oauth_tokens.c.digest == digest)
        if for_update:
            begin_writing(self.session)
            stmt = stmt.with_for_update()
        row = self.session.execute(stmt).mappings().one_or_none()
        if row is None:
            return None
        return StoredToken(row["kind"], row["client"], row["scopes"], row["expires_at"], row["revoked"])

    def revoke(self, digest: str) -> None:
        self.session.execute(update(oauth_tokens).where(oauth_tokens.c.digest == digest).values(revoked=True))

    def revoke_client(self, client: str) -> None:
        self.session.execute(update(oauth_tokens).where(oauth_tokens.c.client == client).values(revoked=True))

    def purge_expired(self, now: datetime) -> None:
        begin_writing(self.session)
        self.session.execute(delete(oauth_tokens).where(oauth_tokens.c.expires_at < now - timedelta(days=1)))


class SqlAlchemyNonceStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def use(self, nonce: str, client: str, now: datetime, keep_until: datetime) -> bool:
        begin_writing(self.session)
        self.session.execute(delete(wsse_nonces).where(wsse_nonces.c.keep_until < now))
        insert_ = dialect_insert(self.session.get_bind().dialect.name)
        stmt = (
            insert_(wsse_nonces).values(nonce=nonce, client=client, keep_until=keep_until)
            .on_conflict_do_nothing(index_elements=["nonce"]).returning(wsse_nonces.c.nonce)
        )
        return self.session.execute(stmt).scalar_one_or_none() is not None


class SqlAlchemyFailureLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def counts(self, keys: list[str], since: datetime) -> dict[str, int]:
        rows = self.session.execute(
            select(auth_failures.c.key, func.count())
            .where(auth_failures.c.key.in_(keys), auth_failures.c.occurred_at >= since)
            .group_by(auth_failures.c.key)
        )
        return {key: count for key, count in rows}

    def add(self, key: str, now: datetime) -> None:
        begin_writing(self.session)
        self.session.execute(delete(auth_failures).where(auth_failures.c.occurred_at < now - timedelta(days=1)))
        self.session.execute(insert(auth_failures).values(key=key[:128], occurred_at=now))

    def clear(self, key: str) -> int:
        begin_writing(self.session)
        return _rowcount(self.session.execute(delete(auth_failures).where(auth_failures.c.key == key)))

    def clear_client(self, name: str) -> int:
        begin_writing(self.session)
        return _rowcount(self.session.execute(delete(auth_failures).where(
            (auth_failures.c.key == f"client:{name}")
            | auth_failures.c.key.startswith(f"client:{name}@", autoescape=True)
        )))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
