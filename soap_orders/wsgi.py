"""WSGI entry point for gunicorn: ``gunicorn soap_orders.wsgi:application``.

The application is built on the first request in each worker process, after gunicorn has forked,
so no database connection is ever shared between processes and importing this module is cheap.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable
from typing import Any


class _Application:
    def __init__(self) -> None:
        self._app: Callable[..., Iterable[bytes]] | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.load()(environ, start_response)

    def load(self) -> Callable[..., Iterable[bytes]]:
        """The application, built on first use (gunicorn's settings build it as each worker starts,
        so that no request waits for it)."""
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    from .bootstrap import configure_logging, create_wsgi_app
                    from .config import Settings

                    settings = Settings.from_env()
                    configure_logging(settings)
                    self._app = create_wsgi_app(settings)
                    # Everything built so far lives as long as the worker. Moving it out of the
                    # collector's sight keeps full collections short, so the cyclic garbage each
                    # request leaves (spyne's contexts) is reclaimed often and cheaply.
                    gc.collect()
                    gc.freeze()
                app = self._app
        return app


application = _Application()
