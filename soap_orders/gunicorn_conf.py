"""gunicorn settings for soap_orders, shipped inside the package so an installed wheel has them.

``soap-orders serve`` uses them; running gunicorn directly, pass
``--config python:soap_orders.gunicorn_conf``. Bind address and worker count come from the command
line or SOAP_ORDERS_BIND / SOAP_ORDERS_WORKERS.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger as _GunicornLogger

bind = os.environ.get("SOAP_ORDERS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SOAP_ORDERS_WORKERS", "2"))

# Threaded workers: a slow client holds one thread, not a whole process; a request body must
# arrive within SOAP_ORDERS_BODY_TIMEOUT seconds, which bounds how long a trickling client can
# hold one. Serving a request is mostly Python under one interpreter lock, so more threads do not
# serve more requests; each also keeps a database connection (SOAP_ORDERS_THREADS).
worker_class = "gthread"
threads = int(os.environ.get("SOAP_ORDERS_THREADS", "8"))

# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then, jittered so they do not all restart together. This is a
# backstop for slow memory growth, not the defence against large requests (see the body limit).
# A worker's memory levels off within its first few thousand requests (`make bench` measures it
# after 100,000), and starting one costs 1.3 to 1.4 s of CPU, so recycle rarely:
# every 5,000 requests cost a busy server a fifth of its throughput.
max_requests = 100_000
max_requests_jitter = 10_000

# Header limits well below gunicorn's defaults: SOAP requests carry few, short headers.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# No runtime control socket (gunicorn 25.1+): its default path is per user, shared by every
# instance the user runs, and signals (HUP to reload, TERM to stop) do the same job.
control_socket_disable = True

# The application writes its own access log (one line per request, with the request id, client,
# operation and outcome or fault code: soap_orders.http.access_log), so gunicorn's is off.
accesslog = None


class SoapOrdersLogger(_GunicornLogger):
    """gunicorn's own messages (boot, worker exits) in the service's format, JSON or text, with
    the same scrubbing as the application's lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from soap_orders.logs import formatter_from_env, install_filters

        for handler in self.error_log.handlers:
            handler.setFormatter(formatter_from_env())
            install_filters(handler)


logger_class = SoapOrdersLogger


def post_worker_init(worker: Any) -> None:
    # gunicorn answers malformed HTTP with an HTML page quoting the request; answer with a fault.
    from soap_orders.soap.endpoint import install_gunicorn_error_writer

    install_gunicorn_error_writer()

    # The application's "Connection: close" closes the connection; absurd chunk sizes are refused at once.
    from soap_orders.http.connection import install_gunicorn_adjustments

    install_gunicorn_adjustments()

    # Build the application now, before the worker takes requests, rather than on the first one.
    load = getattr(getattr(worker, "wsgi", None), "load", None)
    if callable(load):
        load()


def when_ready(server: Any) -> None:
    # Once per server start, before the workers: warn when notifications wait in the outbox and no
    # relay delivers them (no relay running, a type no relay has a flow id for, or none delivered
    # for a while). The database holds what every instance and relay did, so any instance can tell.
    from soap_orders.bootstrap import warn_about_notifications
    from soap_orders.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError:
        return  # the workers stop with the message naming the setting
    warn_about_notifications(settings, server.log.error_log)


# ---------------------------------------------------------------------- metrics across workers
# prometheus-client's multiprocess mode: each worker writes its values to files in
# PROMETHEUS_MULTIPROC_DIR and a scrape adds them up. Every server start gets a fresh, empty
# directory: a new temporary one (removed at exit) unless PROMETHEUS_MULTIPROC_DIR names one,
# which is then emptied. Workers inherit the variable when they are forked.

_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_created_metrics_dir: list[str] = []


def on_starting(server: Any) -> None:
    configured = os.environ.get(_METRICS_DIR, "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="soap-orders-metrics-"))
        _created_metrics_dir.append(str(directory))
    os.environ[_METRICS_DIR] = str(directory)
    server.log.info("metrics directory %s", directory)


def child_exit(server: Any, worker: Any) -> None:
    # A worker that exits (recycled, crashed) no longer counts in the live gauges.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, os.environ.get(_METRICS_DIR))


def on_exit(server: Any) -> None:
    for directory in _created_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
