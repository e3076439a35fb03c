"""Settings, read once from ``SOAP_ORDERS_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///var/soap_orders.sqlite3"
DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000/soap"
#: Where ``make run`` keeps the secret key; read when SOAP_ORDERS_SECRET_KEY is not set.
DEFAULT_SECRET_KEY_FILE = "var/secret_key"
LOG_FORMATS = ("auto", "json", "text")
#: SOAP_ORDERS_DATABASE_POOL_MODE: ``session`` (each connection its own server session: direct, or
#: a pooler in session mode) or ``transaction`` (PgBouncer's transaction pooling).
POOL_MODES = ("session", "transaction")


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; ``postgresql://`` URLs use psycopg 3.
    database_url: str = DEFAULT_DATABASE_URL
    #: ``transaction`` when the URL leads to PgBouncer in transaction pooling mode (no server-side
    #: prepared statements); ``session`` otherwise.
    database_pool_mode: str = "session"
    #: The endpoint address published in the WSDL's ``soap:address``.
    public_url: str = DEFAULT_PUBLIC_URL
    #: Largest request body accepted, in bytes.
    max_body: int = 256 * 1024
    #: Seconds a client has to send its whole request body.
    body_timeout: int = 20
    #: Key that encrypts the secrets of digest-capable clients (32+ random characters).
    secret_key: str | None = None
    #: Addresses allowed to call at all: CIDRs or dg-us, dg-eu, dg-test; empty allows any.
    allowlist: tuple[str, ...] = ()
    #: Proxies whose X-Forwarded-For header is believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Whether GET /soap?wsdl is served without authentication.
    wsdl_public: bool = True
    #: Failed authentications per client or address within 5 minutes before RateLimited.
    auth_failure_limit: int = 10
    #: Lifetime of OAuth2 access tokens, in seconds.
    access_token_ttl: int = 900
    #: Seconds a successful credential check is remembered per process (0: never).
    auth_cache_seconds: int = 5
    #: Python logging level name.
    log_level: str = "INFO"
    #: ``json``, ``text``, or ``auto`` (text when stderr is a terminal, JSON otherwise).
    log_format: str = "auto"
    #: ``host:port`` that ``soap-orders serve`` binds to.
    bind: str = DEFAULT_BIND
    #: Number of gunicorn worker processes for ``soap-orders serve``.
    workers: int = 2
    #: Threads per worker (gunicorn's gthread workers); each worker's database pool keeps as
    #: many connections.
    threads: int = 8
    #: Days after delivery within which a customer may open a return.
    return_window_days: int = 30
    #: Addresses (CIDRs) that may read GET /metrics; empty leaves it to the global allowlist.
    metrics_allowlist: tuple[str, ...] = ()
    #: Seconds notifications may wait undelivered before the server warns at start (and
    #: ``outbox status`` warns); 0 warns of any that waits.
    outbox_warn_after: int = 600
    #: Days `soap-orders prune` keeps audit records, order events and idempotency records
    #: (domain/retention.py says why these defaults).
    retain_audit_days: int = 730
    retain_events_days: int = 730
    retain_idempotency_days: int = 90
    #: The consumer's Flow Execution API: credentials, flow ids and how the relay behaves.
    dg: DgSettings = field(default_factory=lambda: DgSettings())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(f"SOAP_ORDERS_{name}", "").strip() or default

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = get(name, str(default))
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"SOAP_ORDERS_{name} must be a whole number") from None
            if not low <= value <= high:
                raise ConfigError(f"SOAP_ORDERS_{name} must be between {low} and {high}")
            return value

        bind = get("BIND", DEFAULT_BIND)
        public_url = get("PUBLIC_URL", "") or public_url_for_bind(bind)
        if not public_url.startswith(("http://", "https://")):
            raise ConfigError("SOAP_ORDERS_PUBLIC_URL must be an http:// or https:// URL")
        wsdl_public = get("WSDL_PUBLIC", "true").lower()
        if wsdl_public not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError("SOAP_ORDERS_WSDL_PUBLIC must be true or false")
        log_format = get("LOG_FORMAT", "auto").lower()
        if log_format not in LOG_FORMATS:
            raise ConfigError("SOAP_ORDERS_LOG_FORMAT must be json, text or auto")
        database_url = get("DATABASE_URL", DEFAULT_DATABASE_URL)
        pool_mode = get("DATABASE_POOL_MODE", "session").lower()
        if pool_mode not in POOL_MODES:
            raise ConfigError("SOAP_ORDERS_DATABASE_POOL_MODE must be session or transaction")
        if pool_mode == "transaction" and not database_url.startswith(("postgresql", "postgres:")):
            raise ConfigError("SOAP_ORDERS_DATABASE_POOL_MODE=transaction is for a postgresql:// URL (PgBouncer)")
        return cls(
            secret_key=get("SECRET_KEY", "") or _read_key_file(get("SECRET_KEY_FILE", DEFAULT_SECRET_KEY_FILE)),
            allowlist=_split(get("ALLOWLIST", "")),
            trusted_proxies=_split(get("TRUSTED_PROXIES", "")),
            wsdl_public=wsdl_public in ("true", "1", "yes"),
            auth_failure_limit=integer("AUTH_FAILURE_LIMIT", 10, 1, 1_000_000),
            access_token_ttl=integer("ACCESS_TOKEN_TTL", 900, 60, 86_400),
            auth_cache_seconds=integer("AUTH_CACHE_SECONDS", 5, 0, 60),
            database_url=database_url,
            database_pool_mode=pool_mode,
            public_url=public_url,
            max_body=integer("MAX_BODY", 256 * 1024, 1024, 64 * 1024 * 1024),
            body_timeout=integer("BODY_TIMEOUT", 20, 1, 600),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            bind=bind,
            workers=integer("WORKERS", 2, 1, 64),
            threads=integer("THREADS", 8, 1, 256),
            return_window_days=integer("RETURN_WINDOW_DAYS", 30, 0, 3650),
            metrics_allowlist=_split(get("METRICS_ALLOWLIST", "")),
            outbox_warn_after=integer("OUTBOX_WARN_AFTER", 600, 0, 30 * 86_400),
            retain_audit_days=integer("RETAIN_AUDIT_DAYS", 730, 1, 36_500),
            retain_events_days=integer("RETAIN_EVENTS_DAYS", 730, 1, 36_500),
            retain_idempotency_days=integer("RETAIN_IDEMPOTENCY_DAYS", 90, 1, 36_500),
            dg=DgSettings.from_env(env),
        )


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(",", " ").split() if part.strip())


def public_url_for_bind(bind: str) -> str:
    """The address published when SOAP_ORDERS_PUBLIC_URL is not set: the bound host and port
    (a wildcard host becomes 127.0.0.1), or the default for a socket that is not host:port."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or bind.startswith(("unix:", "fd://")):
        return DEFAULT_PUBLIC_URL
    if host in ("0.0.0.0", "[::]", "::", "*"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/soap"


def _read_key_file(path: str) -> str | None:
    """The secret key kept in ``path`` (``make run`` writes var/secret_key), None without one."""
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"The secret key file {path} cannot be read ({type(error).__name__})") from None
    return key or None


#: The event types of proactive notifications, as SOAP_ORDERS_DG_FLOW_* and SOAP_ORDERS_DG_SKIP name them.
DG_EVENT_TYPES = ("SHIPMENT_DELAYED", "ITEM_OUT_OF_STOCK", "DELIVERED", "RETURN_UPDATED")

#: Where each region's Flow Execution API lives (``/execution`` is appended).
DG_REGION_URLS = {
    "eu": "https://flow-server.eu.dgdeepai.com",
    "us": "https://flow-server.us.dgdeepai.com",
}


@dataclass(frozen=True)
class DgSettings:
    """``SOAP_ORDERS_DG_*``: proactive notifications to the consumer's Flow Execution API. These
    are the relay's settings: the server and the importer queue every notification whatever they
    say."""

    #: ``eu`` or ``us``; picks the API's address unless ``base_url`` is set.
    region: str | None = None
    #: Overrides the region's address (``https://host[:port][/prefix]``; ``/execution`` is appended).
    base_url: str | None = None
    api_key: str | None = None
    #: Never shown: not in repr, logs or messages.
    api_secret: str | None = field(default=None, repr=False)
    #: Flow ids per event type; the relay keeps events of a type without one (held) until it has one.
    flow_shipment_delayed: str | None = None
    flow_item_out_of_stock: str | None = None
    flow_delivered: str | None = None
    flow_return_updated: str | None = None
    #: Event types (lower case, as queued) the relay makes SKIPPED instead of keeping them.
    skip: tuple[str, ...] = ()
    #: Seconds to connect, and to wait for the answer.
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    #: Tries per event before it is DEAD (5xx, timeouts, connection errors; 429 does not count).
    max_attempts: int = 10
    #: Exponential backoff with jitter: first wait and longest wait, in seconds.
    backoff_initial: float = 2.0
    backoff_max: float = 3600.0
    #: Events claimed per batch, and how long a claim holds (seconds) before another relay may take them.
    batch_size: int = 50
    lease: float = 300.0
    #: Seconds the relay sleeps when nothing is due.
    poll_interval: float = 1.0
    #: Days SENT events are kept before the relay deletes them.
    retention_days: int = 7

    @property
    def endpoint(self) -> str | None:
        """The execution URL, or None when neither region nor base URL is set."""
        base = self.base_url or (DG_REGION_URLS[self.region] if self.region else None)
        return None if base is None else base.rstrip("/") + "/execution"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DgSettings:
        def get(name: str) -> str | None:
            return env.get(f"SOAP_ORDERS_DG_{name}", "").strip() or None

        def number(name: str, default: float, low: float, high: float, kind: type = float) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise ConfigError(f"SOAP_ORDERS_DG_{name} must be {what}") from None
            if not low <= value <= high:
                raise ConfigError(f"SOAP_ORDERS_DG_{name} must be between {low:g} and {high:g}")
            return value

        region = get("REGION")
        if region is not None:
            region = region.lower()
            if region not in DG_REGION_URLS:
                raise ConfigError("SOAP_ORDERS_DG_REGION must be eu or us")
        base_url = get("BASE_URL")
        if base_url is not None:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ConfigError("SOAP_ORDERS_DG_BASE_URL must be an http:// or https:// URL without query")
        flows = {}
        for name in DG_EVENT_TYPES:
            flow = get(f"FLOW_{name}")
            if flow is not None and (len(flow) > 200 or not flow.isprintable() or any(c.isspace() for c in flow)):
                raise ConfigError(f"SOAP_ORDERS_DG_FLOW_{name} must be a flow id of at most 200 characters "
                                  "without spaces")
            flows[f"flow_{name.lower()}"] = flow
        skip = []
        for part in _split(get("SKIP") or ""):
            name = part.upper().replace("-", "_")
            if name not in DG_EVENT_TYPES:
                raise ConfigError("SOAP_ORDERS_DG_SKIP must list event types: "
                                  + ", ".join(t.lower() for t in DG_EVENT_TYPES))
            if flows[f"flow_{name.lower()}"] is not None:
                raise ConfigError(f"SOAP_ORDERS_DG_SKIP names {name.lower()}, which has a flow id "
                                  f"(SOAP_ORDERS_DG_FLOW_{name}): send it or skip it, not both")
            if name.lower() not in skip:
                skip.append(name.lower())
        api_key = get("API_KEY")
        if api_key is not None and (":" in api_key or not api_key.isprintable()):
            raise ConfigError("SOAP_ORDERS_DG_API_KEY must not contain ':' or control characters")
        api_secret = get("API_SECRET")
        if api_secret is not None and not api_secret.isprintable():
            raise ConfigError("SOAP_ORDERS_DG_API_SECRET must not contain control characters")
        settings = cls(
            region=region,
            base_url=base_url,
            api_key=api_key,
            api_secret=api_secret,
            connect_timeout=number("CONNECT_TIMEOUT", 5.0, 0.01, 300),
            read_timeout=number("READ_TIMEOUT", 20.0, 0.01, 600),
            max_attempts=int(number("MAX_ATTEMPTS", 10, 1, 1000, int)),
            backoff_initial=number("BACKOFF_INITIAL", 2.0, 0.001, 3600),
            backoff_max=number("BACKOFF_MAX", 3600.0, 0.001, 86_400),
            batch_size=int(number("BATCH_SIZE", 50, 1, 1000, int)),
            lease=number("LEASE", 300.0, 1, 86_400),
            poll_interval=number("POLL_INTERVAL", 1.0, 0.01, 3600),
            retention_days=int(number("RETENTION_DAYS", 7, 1, 3650, int)),
            skip=tuple(skip),
            **flows,
        )
        if settings.backoff_max < settings.backoff_initial:
            raise ConfigError("SOAP_ORDERS_DG_BACKOFF_MAX must not be less than SOAP_ORDERS_DG_BACKOFF_INITIAL")
        if settings.lease < 2 * (settings.connect_timeout + settings.read_timeout):
            raise ConfigError("SOAP_ORDERS_DG_LEASE must be at least twice the connect and read timeouts together")
        return settings
