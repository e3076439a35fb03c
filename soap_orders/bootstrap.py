"""The composition root: the only place that builds engines and wires adapters into use cases."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, NullPool
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .adapters.database import (
    create_database_engine,
    create_session_factory,
    database_answers,
    is_sqlite,
    watch_pool,
)
from .adapters.document_reader import SqlDocumentReader
from .adapters.secret_box import FernetSecretBox
from .adapters.unit_of_work import SqlAlchemyUnitOfWork
from .config import ConfigError, DgSettings, Settings
from .documents.records import Rendered
from .domain.clients import parse_networks
from .domain.errors import ValidationError
from .domain.notifications import FlowEventType
from .service.auth import Authenticator, AuthSettings
from .service.ports import Clock, OrderDocuments, SecretBox, UnitOfWork

if TYPE_CHECKING:
    from .adapters.flow_client import RequestsFlowClient
    from .http.access_log import AccessLog
    from .service.relay import Relay
    from .web.service_page import ServicePage


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
    #: Kept-written order documents, read in one statement outside any unit of work.
    documents: OrderDocuments[Rendered]


def build_dependencies(settings: Settings, *, clock: Clock = utc_now) -> Dependencies:
    try:
        secret_box = FernetSecretBox(settings.secret_key) if settings.secret_key else None
        try:
            parse_networks(settings.metrics_allowlist)
        except ValidationError:
            raise ConfigError("SOAP_ORDERS_METRICS_ALLOWLIST must list CIDRs or addresses") from None
        auth_settings = AuthSettings(
            allowlist=settings.allowlist,
            trusted_proxies=settings.trusted_proxies,
            failure_limit=settings.auth_failure_limit,
            access_token_ttl=timedelta(seconds=settings.access_token_ttl),
            verified_ttl=timedelta(seconds=settings.auth_cache_seconds),
        )
    except (ValueError, ValidationError) as error:
        raise ConfigError(getattr(error, "message", None) or str(error)) from None
    engine = create_database_engine(settings.database_url, connections=settings.threads,
                                    pool_mode=settings.database_pool_mode)
    session_factory = create_session_factory(engine)

    def uow() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(session_factory)

    return Dependencies(
        uow=uow,
        clock=clock,
        unavailable_errors=(OperationalError, PoolTimeout),
        engine=engine,
        authenticator=Authenticator(uow, clock, auth_settings, secret_box, on_failure=_note_auth_failure),
        secret_box=secret_box,
        settings=settings,
        documents=SqlDocumentReader(engine),
    )


def _note_auth_failure(reason: str) -> None:
    """Note why credentials were refused on the request being served (counted by the metrics)."""
    from .http.access_log import note

    note(auth_failure=reason)


def flow_routes(dg: DgSettings) -> dict[FlowEventType, str]:
    """The flow id of each event type that has one (the relay's and ``send-test``'s settings)."""
    configured = {
        FlowEventType.SHIPMENT_DELAYED: dg.flow_shipment_delayed,
        FlowEventType.ITEM_OUT_OF_STOCK: dg.flow_item_out_of_stock,
        FlowEventType.DELIVERED: dg.flow_delivered,
        FlowEventType.RETURN_UPDATED: dg.flow_return_updated,
    }
    return {kind: flow for kind, flow in configured.items() if flow}


def precise_now() -> datetime:
    """The current time in UTC with microseconds (the relay's schedule is finer than seconds)."""
    return datetime.now(timezone.utc)


def build_flow_client(dg: DgSettings) -> RequestsFlowClient:
    """The Flow Execution API client; ConfigError when the address or credentials are missing."""
    from .adapters.flow_client import RequestsFlowClient

    if dg.endpoint is None:
        raise ConfigError("Set SOAP_ORDERS_DG_REGION (eu or us) or SOAP_ORDERS_DG_BASE_URL to send notifications")
    if not dg.api_key or not dg.api_secret:
        raise ConfigError("Set SOAP_ORDERS_DG_API_KEY and SOAP_ORDERS_DG_API_SECRET to send notifications")
    return RequestsFlowClient(dg.endpoint, dg.api_key, dg.api_secret,
                              connect_timeout=dg.connect_timeout, read_timeout=dg.read_timeout)


def build_relay(deps: Dependencies, stop: threading.Event | None = None) -> Relay:
    """The outbox relay, wired to the Flow Execution API and the flow ids of ``deps.settings``."""
    from .adapters.flow_client import exponential_backoff
    from .service.relay import Relay, RelaySettings, Routing

    dg = deps.settings.dg
    routing = Routing({kind.value: flow for kind, flow in flow_routes(dg).items()}, frozenset(dg.skip))
    if not routing.flows and not routing.skip:
        raise ConfigError("Set the flow id of at least one event type (SOAP_ORDERS_DG_FLOW_SHIPMENT_DELAYED, "
                          "..._ITEM_OUT_OF_STOCK, ..._DELIVERED, ..._RETURN_UPDATED) for the relay: it has "
                          "nothing to send without one")
    client = build_flow_client(dg)
    settings = RelaySettings(
        batch_size=dg.batch_size,
        max_attempts=dg.max_attempts,
        lease=timedelta(seconds=dg.lease),
        request_time=timedelta(seconds=dg.connect_timeout + dg.read_timeout),
        poll_interval=dg.poll_interval,
        retention=timedelta(days=dg.retention_days),
    )
    return Relay(deps.uow, client, precise_now, exponential_backoff(dg.backoff_initial, dg.backoff_max), settings,
                 stop, routing)


def warn_about_notifications(settings: Settings, log: logging.Logger) -> list[str]:
    """Log a warning for each problem with notification delivery that the database shows now
    (``service.notifications.delivery_warnings``): at server start, once. Returns the warnings.
    A database that cannot be read (down, not migrated yet) is noted and does not stop the start."""
    from .service.notifications import delivery_warnings, outbox_status

    # A database that does not answer must not hold up the start for long.
    connect: dict[str, Any] = {} if is_sqlite(settings.database_url) else {"connect_args": {"connect_timeout": 5}}
    engine = create_database_engine(settings.database_url, poolclass=NullPool, **connect)
    try:
        uow = SqlAlchemyUnitOfWork(create_session_factory(engine))
        now = precise_now()
        warnings = delivery_warnings(outbox_status(uow, now), now, timedelta(seconds=settings.outbox_warn_after))
    except Exception as error:  # noqa: BLE001 - a start-up check: the server starts regardless
        log.warning("notifications: the outbox could not be checked at start (%s)", type(error).__name__)
        return []
    finally:
        engine.dispose()
    for warning in warnings:
        log.warning("notifications: %s", warning)
    return warnings


def database_readiness(engine: Engine, head: str | None) -> dict[str, object]:
    """``/readyz``: the database answers and its schema is at ``head``, the newest migration."""
    from .adapters import migrate

    try:
        current = migrate.current_revision(engine)
    except (OperationalError, PoolTimeout) as error:
        logging.getLogger("soap_orders.web").warning("readiness: database unreachable (%s)", type(error).__name__)
        return {"status": "unavailable", "database": "unreachable"}
    if current != head:
        return {"status": "unavailable", "database": "ok", "migrations": "not at head",
                "revision": current, "head": head}
    return {"status": "ok", "database": "ok", "migrations": "at head", "revision": current}


def configure_logging(settings: Settings) -> None:
    """One stderr handler: JSON lines, or text on a terminal (SOAP_ORDERS_LOG_FORMAT decides)."""
    from . import logs

    logs.configure(settings.log_level, settings.log_format)
    # spyne logs every client fault with a traceback; our own log lines carry what matters.
    for name in ("spyne", "spyne.application", "spyne.application.client", "spyne.protocol", "spyne.server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def create_wsgi_app(settings: Settings | None = None, *, dependencies: Dependencies | None = None) -> AccessLog:
    """The whole web application for ``settings`` (read from the environment when not given)."""
    from . import __version__
    from .adapters import migrate
    from .http.access_log import AccessLog
    from .jsonapi.endpoint import JsonRoute
    from .jsonapi.openapi import openapi_json
    from .operations import BY_NAME, OPERATIONS
    from .service.notifications import outbox_status
    from .soap.application import SoapEndpoint, build_application
    from .soap.endpoint import SoapRoute
    from .web.app import Operability, WebApplication
    from .web.metrics import Metrics
    from .web.oauth import TokenRoute

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
    metrics = Metrics(soap.path, outbox=lambda: outbox_status(deps.uow(), precise_now()), now=precise_now)
    watch_pool(deps.engine, metrics.pool_checked_out.inc, metrics.pool_checked_out.dec)
    head = migrate.head_revision()
    operability = Operability(
        version=__version__,
        service_page=build_service_page(settings.public_url),
        page_public=settings.wsdl_public,
        readiness=lambda: database_readiness(deps.engine, head),
        metrics=metrics,
        metrics_allowlist=parse_networks(settings.metrics_allowlist),
    )
    return AccessLog(WebApplication(
        soap=soap,
        json=json,
        oauth=TokenRoute(deps.authenticator, body_timeout=settings.body_timeout),
        openapi=openapi_json(OPERATIONS, settings.public_url),
        public_url=settings.public_url,
        authenticator=deps.authenticator,
        health_check=lambda: database_answers(deps.engine),
        unavailable_errors=deps.unavailable_errors,
        operability=operability,
    ), observers=[metrics.observe])


def build_service_page(public_url: str) -> ServicePage:
    """The service page (``GET /``) for ``public_url``, from the declarations and the examples."""
    from . import __version__
    from .operations import OPERATIONS
    from .web.service_page import Link, ServicePage, load_examples, render

    links = (
        Link(f"{public_url}?wsdl", "WSDL", "the SOAP contract"),
        Link("/openapi.json", "OpenAPI", "the JSON twin"),
        Link("/healthz", "/healthz", "process up"),
        Link("/readyz", "/readyz", "database and schema ready"),
        Link("/health", "/health", "database answers"),
        Link("/metrics", "/metrics", "Prometheus"),
    )
    return ServicePage(render(OPERATIONS, public_url=public_url, version=__version__, examples=load_examples(),
                              links=links))


def build_wsdl(public_url: str) -> bytes:
    """The WSDL document for ``public_url``, without touching a database."""
    from .soap.application import SoapEndpoint, build_application

    return SoapEndpoint(build_application(None), public_url).wsdl


def build_openapi(public_url: str) -> bytes:
    """The OpenAPI document of the JSON twin for ``public_url``, without touching a database."""
    from .jsonapi.openapi import openapi_json
    from .operations import OPERATIONS

    return openapi_json(OPERATIONS, public_url)
