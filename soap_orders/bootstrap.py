"""The composition root: the only place that builds engines and wires adapters into use cases."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .adapters.database import create_database_engine, create_session_factory
from .adapters.secret_box import FernetSecretBox
from .adapters.unit_of_work import SqlAlchemyUnitOfWork
from .config import ConfigError, Settings
from .domain.errors import ValidationError
from .service.auth import Authenticator, AuthSettings
from .service.ports import Clock, SecretBox, UnitOfWork

if TYPE_CHECKING:
    from .web.access_log import AccessLog


def utc_now() -> datetime:
    """The current time in UTC, to the second (what the wire shows)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Dependencies:
    """What the SOAP operations and the CLI reach for."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    #: Exceptions meaning "the database is not reachable now": answered as Server.Unavailable.
    unavailable_errors: tuple[type[BaseException], ...]
    engine: Engine
    authenticator: Authenticator
    secret_box: SecretBox | None
    settings: Settings


def build_dependencies(settings: Settings, *, clock: Clock = utc_now) -> Dependencies:
    try:
        secret_box = FernetSecretBox(settings.secret_key) if settings.secret_key else None
        auth_settings = AuthSettings(
            allowlist=settings.allowlist,
            trusted_proxies=settings.trusted_proxies,
            failure_limit=settings.auth_failure_limit,
            access_token_ttl=timedelta(seconds=settings.access_token_ttl),
        )
    except (ValueError, ValidationError) as error:
        raise ConfigError(getattr(error, "message", None) or str(error)) from None
    engine = create_database_engine(settings.database_url)
    session_factory = create_session_factory(engine)

    def uow() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(session_factory)

    return Dependencies(
        uow=uow,
        clock=clock,
        unavailable_errors=(OperationalError, PoolTimeout),
        engine=engine,
        authenticator=Authenticator(uow, clock, auth_settings, secret_box),
        secret_box=secret_box,
        settings=settings,
    )


def database_is_healthy(engine: Engine) -> bool:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


def configure_logging(settings: Settings) -> None:
    """One stderr handler: JSON lines, or text on a terminal (SOAP_ORDERS_LOG_FORMAT decides)."""
    from . import logs

    logs.configure(settings.log_level, settings.log_format)
    # spyne logs every client fault with a traceback; our own log lines carry what matters.
    for name in ("spyne", "spyne.application", "spyne.application.client", "spyne.protocol", "spyne.server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def create_wsgi_app(settings: Settings | None = None, *, dependencies: Dependencies | None = None) -> AccessLog:
    """The whole web application for ``settings`` (read from the environment when not given)."""
    from .jsonapi.endpoint import JsonRoute
    from .jsonapi.openapi import openapi_json
    from .operations import BY_NAME, OPERATIONS
    from .soap.application import SoapEndpoint, build_application
    from .soap.endpoint import SoapRoute
    from .web.access_log import AccessLog
    from .web.app import WebApplication

    settings = settings or Settings.from_env()
    deps = dependencies or build_dependencies(settings)
    soap = SoapRoute(
        SoapEndpoint(build_application(deps), settings.public_url),
        deps.authenticator,
        public_url=settings.public_url,
        max_body=settings.max_body,
        body_timeout=settings.body_timeout,
        wsdl_public=settings.wsdl_public,
    )
    json = JsonRoute(BY_NAME, deps, deps.authenticator, max_body=settings.max_body,
                     body_timeout=settings.body_timeout, unavailable_errors=deps.unavailable_errors)
    return AccessLog(WebApplication(
        soap=soap,
        json=json,
        openapi=openapi_json(OPERATIONS, settings.public_url),
        public_url=settings.public_url,
        authenticator=deps.authenticator,
        health_check=lambda: database_is_healthy(deps.engine),
        unavailable_errors=deps.unavailable_errors,
    ))


def build_wsdl(public_url: str) -> bytes:
    """The WSDL document for ``public_url``, without touching a database."""
    from .soap.application import SoapEndpoint, build_application

    return SoapEndpoint(build_application(None), public_url).wsdl


def build_openapi(public_url: str) -> bytes:
    """The OpenAPI document of the JSON twin for ``public_url``, without touching a database."""
    from .jsonapi.openapi import openapi_json
    from .operations import OPERATIONS

    return openapi_json(OPERATIONS, public_url)
