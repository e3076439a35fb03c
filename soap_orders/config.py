"""Settings, read once from ``SOAP_ORDERS_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/soap_orders.sqlite3"
DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000/soap"
#: Where ``make run`` keeps the secret key; read when SOAP_ORDERS_SECRET_KEY is not set.
DEFAULT_SECRET_KEY_FILE = "var/secret_key"
LOG_FORMATS = ("auto", "json", "text")


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; ``postgresql://`` URLs use psycopg 3.
    database_url: str = DEFAULT_DATABASE_URL
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
    #: Python logging level name.
    log_level: str = "INFO"
    #: ``json``, ``text``, or ``auto`` (text when stderr is a terminal, JSON otherwise).
    log_format: str = "auto"
    #: ``host:port`` that ``soap-orders serve`` binds to.
    bind: str = DEFAULT_BIND
    #: Number of gunicorn worker processes for ``soap-orders serve``.
    workers: int = 2
    #: Days after delivery within which a customer may open a return.
    return_window_days: int = 30

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
        return cls(
            secret_key=get("SECRET_KEY", "") or _read_key_file(get("SECRET_KEY_FILE", DEFAULT_SECRET_KEY_FILE)),
            allowlist=_split(get("ALLOWLIST", "")),
            trusted_proxies=_split(get("TRUSTED_PROXIES", "")),
            wsdl_public=wsdl_public in ("true", "1", "yes"),
            auth_failure_limit=integer("AUTH_FAILURE_LIMIT", 10, 1, 1_000_000),
            access_token_ttl=integer("ACCESS_TOKEN_TTL", 900, 60, 86_400),
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
            public_url=public_url,
            max_body=integer("MAX_BODY", 256 * 1024, 1024, 64 * 1024 * 1024),
            body_timeout=integer("BODY_TIMEOUT", 20, 1, 600),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            bind=bind,
            workers=integer("WORKERS", 2, 1, 64),
            return_window_days=integer("RETURN_WINDOW_DAYS", 30, 0, 3650),
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
