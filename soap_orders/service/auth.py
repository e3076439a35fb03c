"""Who is calling: API clients, their secrets and tokens, and the three ways to prove identity
(HTTP Basic, WS-Security UsernameToken, OAuth2 bearer tokens), with throttling of failures."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..domain.clients import ApiClient, Scope, address_in, parse_networks
from ..domain.errors import (
    AuthenticationFailed,
    Forbidden,
    GrantRefused,
    RateLimited,
    ValidationError,
)
from . import passwords
from .ports import AuditRecord, Clock, SecretBox, StoredToken, UnitOfWork

log = logging.getLogger("soap_orders.auth")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    client: str
    scopes: frozenset[Scope]
    address: str | None
    method: str  # basic, wsse-text, wsse-digest, bearer


@dataclass(frozen=True)
class UsernameToken:
    """What a WS-Security UsernameToken carried, as received."""

    username: str
    password: str
    digest: bool
    nonce: str | None = None  # base64, as sent
    created: str | None = None  # as sent: digests are computed over these exact characters


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class AuthSettings:
    #: Addresses allowed to call at all (empty: any); CIDRs or preset names.
    allowlist: tuple[str, ...] = ()
    #: Peers whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    failure_limit: int = 10
    failure_window: timedelta = timedelta(minutes=5)
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    #: How far a UsernameToken's Created may be from now, either way.
    created_window: timedelta = timedelta(minutes=5)
    #: How long a successful check of the same credentials from the same address is remembered
    #: in the process, sparing the database on the hot path. A rotation, a disable or a scope
    #: change reaches every worker and instance within this time. Zero turns the cache off.
    verified_ttl: timedelta = timedelta(seconds=5)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowlist", parse_networks(self.allowlist))
        object.__setattr__(self, "trusted_proxies", parse_networks(self.trusted_proxies))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        settings: AuthSettings,
        secret_box: SecretBox | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.settings = settings
        self.secret_box = secret_box
        self._verified = VerifiedCache(settings.verified_ttl.total_seconds())
        #: Told the reason of every refused credential (``AuthenticationFailed.reason``): metrics.
        self.on_failure = on_failure

    # ------------------------------------------------------------------ addresses

    def check_address(self, address: str | None) -> None:
        """The global allowlist, applied before any credential is looked at."""
        if self.settings.allowlist and not address_in(address, self.settings.allowlist):
            raise Forbidden("Calls are not accepted from this address.")

    # ------------------------------------------------------------------ the three ways in

    def password(self, name: str, secret: str, address: str | None, method: str = "basic") -> Principal:
        """HTTP Basic, WS-Security PasswordText and OAuth2 client authentication. A success is
        remembered for a few seconds (``verified_ttl``), so a client's next calls cost no query."""
        key = (method, name, hashlib.sha256(secret.encode()).hexdigest(), address)
        remembered = self._verified.get(key)
        if remembered is not None:
            return remembered

        def verify(client: ApiClient) -> None:
            if not passwords.verify_secret(secret, client.secret_hash):
                raise AuthenticationFailed("wrong secret")

        principal = self._guarded(name, address, method, verify)
        self._verified.put(key, principal)
        return principal

    def username_token(self, token: UsernameToken, address: str | None) -> Principal:
        if not token.digest:
            if token.nonce is not None or token.created is not None:
                try:
                    self._fresh(token)  # optional with text passwords, but checked when sent
                except AuthenticationFailed as failure:
                    self._refused(failure)
                    raise
            return self.password(token.username, token.password, address, "wsse-text")

        def verify(client: ApiClient) -> None:
            if token.nonce is None or token.created is None:
                raise AuthenticationFailed("digest without nonce or created")
            if not client.supports_digest or self.secret_box is None:
                raise AuthenticationFailed("client cannot use digest")
            created = self._fresh(token)
            try:
                nonce = base64.b64decode(token.nonce, validate=True)
            except (binascii.Error, ValueError):
                raise AuthenticationFailed("nonce is not base64") from None
            secret = self.secret_box.decrypt(client.encrypted_secret or "")
            expected = base64.b64encode(hashlib.sha1(nonce + token.created.encode() + secret.encode()).digest())
            if not hmac.compare_digest(expected, token.password.strip().encode()):
                raise AuthenticationFailed("wrong digest")
            with self.uow() as uow:
                fresh = uow.nonces.use(token.nonce, client.name, self.clock(), created + 2 * self.settings.created_window)
                uow.commit()
            if not fresh:
                raise AuthenticationFailed("replayed nonce")

        return self._guarded(token.username, address, "wsse-digest", verify)

    def bearer(self, token: str, address: str | None) -> Principal:
        key = ("bearer", "", token_digest(token), address)
        remembered = self._verified.get(key)
        if remembered is not None:
            return remembered
        with self.uow() as uow:
            stored = uow.tokens.get(token_digest(token))
        now = self.clock()
        if stored is None or stored.kind != "access" or stored.revoked or stored.expires_at <= now:
            self._record_failure(self._keys(None, address))
            raise self._refused(AuthenticationFailed("unknown or expired access token"))
        principal = self._guarded(stored.client, address, "bearer", lambda client: None, scopes=stored.scopes)
        # Never remembered past the token's own expiry.
        self._verified.put(key, principal, limit=(stored.expires_at - now).total_seconds())
        return principal

    # ------------------------------------------------------------------ OAuth2 tokens

    def issue_tokens(self, principal: Principal, requested: Iterable[Scope] | None = None) -> TokenPair:
        """Client credentials grant: a short-lived access token and a refresh token."""
        scopes = principal.scopes if requested is None else frozenset(requested)
        if not scopes <= principal.scopes:
            raise Forbidden("The client does not have every requested scope.")
        with self.uow() as uow:
            pair = self._new_pair(uow, principal.client, scopes)
            uow.commit()
        return pair

    def refresh(self, refresh_token: str, principal: Principal) -> TokenPair:
        """Refresh grant of a client that has just proven its secret (``principal``): the old
        refresh token stops working and a new pair is issued. A token that is not the client's, or
        no longer valid, is ``GrantRefused``, which is not a failed authentication: the failure
        limit guards secrets, and the secret was right. Presenting a token already exchanged (a
        retry, or concurrent refreshes of one token) refuses only that request; the pair the
        token was exchanged for stays valid (README: "Refresh tokens")."""
        with self.uow() as uow:
            # The token row is read for update first: the transaction takes its write lock as it
            # begins (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock), so a concurrent refresh
            # waits its turn instead of failing when this one upgrades a read to a write.
            digest = token_digest(refresh_token)
            stored = uow.tokens.get(digest, for_update=True)
            if stored is None or stored.kind != "refresh" or stored.client != principal.client:
                refusal = "unknown refresh token"
            elif stored.revoked:
                refusal = "refresh token already used"
            elif stored.expires_at <= self.clock():
                refusal = "expired refresh token"
            else:
                client = uow.clients.get(stored.client)
                if client is None or client.disabled or not client.allows_address(principal.address):
                    refusal = "client no longer allowed"
                else:
                    refusal = ""
                    uow.tokens.revoke(digest)
                    pair = self._new_pair(uow, stored.client, stored.scopes & client.scopes)
                    uow.commit()
        if refusal:
            log.info("refresh grant refused (%s) for %s from %s", refusal, principal.client, principal.address or "-")
            raise GrantRefused(refusal)
        return pair

    def _new_pair(self, uow: UnitOfWork, client: str, scopes: frozenset[Scope]) -> TokenPair:
        now = self.clock()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        uow.tokens.purge_expired(now)
        uow.tokens.add(token_digest(access), StoredToken("access", client, scopes, now + self.settings.access_token_ttl))
        uow.tokens.add(token_digest(refresh), StoredToken("refresh", client, scopes, now + self.settings.refresh_token_ttl))
        return TokenPair(access, refresh, int(self.settings.access_token_ttl.total_seconds()), scopes)

    # ------------------------------------------------------------------ shared checks

    def _guarded(
        self,
        name: str,
        address: str | None,
        method: str,
        verify: Callable[[ApiClient], None],
        scopes: frozenset[Scope] | None = None,
    ) -> Principal:
        keys = self._keys(name, address)
        with self.uow() as uow:
            client = uow.clients.get(name) if _plausible(name) else None
            # Failures of others from an address the client is explicitly allowed to call from do
            # not lock the client out there; guesses at its own name from there still count.
            own_address = client is not None and bool(client.allowed_networks) and client.allows_address(address)
            self._check_rate([key for key in keys if not (own_address and key.startswith("addr:"))], uow)
        try:
            if client is None:
                passwords.verify_secret(secrets.token_urlsafe(8), passwords.dummy_hash())
                raise AuthenticationFailed("unknown client")
            verify(client)
            if client.disabled:
                raise AuthenticationFailed("disabled client")
        except AuthenticationFailed as failure:
            log.info("authentication refused (%s) via %s from %s", failure.reason, method, address or "-")
            self._refused(failure)
            self._record_failure(keys)
            raise
        if not client.allows_address(address):
            raise Forbidden("This client may not call from this address.")
        return Principal(client.name, client.scopes if scopes is None else scopes & client.scopes, address, method)

    def _refused(self, failure: AuthenticationFailed) -> AuthenticationFailed:
        """Tell the observer why credentials were refused; returns the failure to raise."""
        if self.on_failure is not None:
            try:
                self.on_failure(failure.reason)
            except Exception:  # an observer never changes the answer
                log.exception("authentication failure observer failed")
        return failure

    def _fresh(self, token: UsernameToken) -> datetime:
        try:
            created = datetime.fromisoformat((token.created or "").strip().replace("Z", "+00:00"))
        except ValueError:
            raise AuthenticationFailed("created is not a timestamp") from None
        if created.tzinfo is None:
            raise AuthenticationFailed("created has no time zone")
        if abs(self.clock() - created) > self.settings.created_window:
            raise AuthenticationFailed("created outside the window")
        return created.astimezone(timezone.utc)

    @staticmethod
    def _keys(name: str | None, address: str | None) -> list[str]:
        """Failures count per address and per (client name, address) pair: wrong secrets sent for
        a client's name from elsewhere never lock the client out of its own address."""
        keys = [f"addr:{address}"] if address else []
        if name and _plausible(name):
            keys.append(failure_key(name, address))
        return keys

    def _check_rate(self, keys: list[str], uow: UnitOfWork) -> None:
        since = self.clock() - self.settings.failure_window
        if keys and max(uow.failures.counts(keys, since).values(), default=0) >= self.settings.failure_limit:
            raise RateLimited(int(self.settings.failure_window.total_seconds()))

    def _record_failure(self, keys: list[str]) -> None:
        now = self.clock()
        with self.uow() as uow:
            for key in keys:
                uow.failures.add(key, now)
            uow.commit()


class VerifiedCache:
    """Successful verifications, per process, for ``ttl`` seconds: credentials (by digest) and the
    address they came from, to the principal they proved. Thread-safe; bounded in size. Only
    successes are kept, so failure counting and lockout see every wrong secret; WS-Security
    digests are never kept (each nonce must reach the database's replay check)."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str | None, ...], tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str | None, ...]) -> Principal | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            principal, expires = found
            if expires <= self.clock():
                del self._entries[key]
                return None
            return principal

    def put(self, key: tuple[str | None, ...], principal: Principal, limit: float | None = None) -> None:
        if self.ttl <= 0:
            return
        ttl = self.ttl if limit is None else min(self.ttl, limit)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (principal, self.clock() + ttl)


def failure_key(name: str, address: str | None) -> str:
    """The failure-log key of a client name tried from an address."""
    return f"client:{name}@{address or '-'}"


def _plausible(name: str) -> bool:
    try:
        ApiClient.check_name(name)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------------- administration


@dataclass(frozen=True)
class NewClient:
    name: str
    scopes: tuple[Scope, ...]
    allow: tuple[str, ...] = ()
    digest: bool = False


@dataclass
class ClientSecret:
    client: ApiClient
    secret: str = field(repr=False)


def add_client(uow: UnitOfWork, command: NewClient, clock: Clock, secret_box: SecretBox | None) -> ClientSecret:
    name = ApiClient.check_name(command.name)
    if not command.scopes:
        raise ValidationError("A client needs at least one scope.", "scope")
    if command.digest and secret_box is None:
        raise ValidationError("Digest clients need SOAP_ORDERS_SECRET_KEY to encrypt their secret.", "digest")
    secret = passwords.new_secret()
    client = ApiClient(
        name=name,
        scopes=frozenset(command.scopes),
        secret_hash=passwords.hash_secret(secret),
        created_at=clock(),
        allowed_networks=parse_networks(command.allow),
        encrypted_secret=secret_box.encrypt(secret) if command.digest and secret_box else None,
    )
    with uow:
        if uow.clients.get(name, for_update=True) is not None:
            raise ValidationError(f"A client named {name} already exists.", "name")
        uow.clients.add(client)
        uow.commit()
    return ClientSecret(client, secret)


def rotate_secret(uow: UnitOfWork, name: str, clock: Clock, secret_box: SecretBox | None) -> ClientSecret:
    """A new secret; the old one stops working at once, and so do the client's tokens."""
    secret = passwords.new_secret()
    with uow:
        client = _existing(uow, name)
        if client.supports_digest and secret_box is None:
            raise ValidationError("Digest clients need SOAP_ORDERS_SECRET_KEY to encrypt their secret.", "digest")
        client.secret_hash = passwords.hash_secret(secret)
        if client.supports_digest and secret_box is not None:
            client.encrypted_secret = secret_box.encrypt(secret)
        client.secret_rotated_at = clock()
        uow.tokens.revoke_client(client.name)
        uow.commit()
    return ClientSecret(client, secret)


def set_disabled(uow: UnitOfWork, name: str, disabled: bool = True) -> ApiClient:
    with uow:
        client = _existing(uow, name)
        client.disabled = disabled
        if disabled:
            uow.tokens.revoke_client(client.name)
        uow.commit()
    return client


def unlock_client(uow: UnitOfWork, name: str, addresses: Iterable[str] = ()) -> int:
    """Forget the client's recorded authentication failures (from every address), and those of
    ``addresses`` as a whole; returns how many were forgotten."""
    with uow:
        _existing(uow, name)
        forgotten = uow.failures.clear_client(name)
        for address in addresses:
            forgotten += uow.failures.clear(f"addr:{address.strip()}")
        uow.commit()
    return forgotten


def list_clients(uow: UnitOfWork) -> list[ApiClient]:
    with uow:
        return uow.clients.list()


def order_history(uow: UnitOfWork, order_number: str) -> list[AuditRecord]:
    with uow:
        return uow.audit.for_order(order_number.strip())


def _existing(uow: UnitOfWork, name: str) -> ApiClient:
    """The client to change (read for update: the transaction writes)."""
    client = uow.clients.get(name, for_update=True)
    if client is None:
        raise ValidationError(f"No client named {name}.", "name")
    return client

