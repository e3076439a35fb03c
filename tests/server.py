"""A real gunicorn server on 127.0.0.1 for contract tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
#: The key test servers and test code use to encrypt digest clients' secrets.
TEST_SECRET_KEY = "test-only-secret-key-0123456789abcdefghijklmnop"
#: Test servers tolerate many failed logins: the refusal tests make plenty from 127.0.0.1.
TEST_FAILURE_LIMIT = "1000"


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, timeout: float) -> str | None:
    """Wait for a started server's ``/health`` to answer 200; None when it does, else what went
    wrong ("exited early", "did not become ready")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited early"
        try:
            if requests.get(f"{base_url}/health", timeout=2).status_code == 200:
                return None
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    return "did not become ready"


def settings_for_tests(database_url: str, **overrides: Any) -> Any:
    from soap_orders.config import Settings

    overrides.setdefault("auth_cache_seconds", 0)
    return Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, auth_failure_limit=int(TEST_FAILURE_LIMIT), **overrides)


#: Every scope a client may have: the server's own client gets them all.
ALL_SCOPES = ("orders:read", "orders:act", "erp", "privacy")


def add_client(database_url: str, name: str, scopes: tuple[str, ...] = ("orders:read", "orders:act"),
               *, digest: bool = True, allow: tuple[str, ...] = ()) -> str:
    """Create an API client in the database; returns its secret."""
    from soap_orders.bootstrap import build_dependencies
    from soap_orders.domain.clients import Scope
    from soap_orders.service.auth import NewClient
    from soap_orders.service.auth import add_client as add

    deps = build_dependencies(settings_for_tests(database_url))
    try:
        created = add(deps.uow(), NewClient(name, tuple(Scope(s) for s in scopes), allow, digest), deps.clock, deps.secret_box)
    finally:
        deps.engine.dispose()
    return created.secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn process serving the application on 127.0.0.1, stopped when the test ends."""

    #: How many were started in this process (the test run's summary says).
    starts = 0

    def __init__(self, database_url: str, log_path: Path, *, workers: int = 2, extra_env: dict[str, str] | None = None,
                 client_name: str = "contract", command_prefix: tuple[str, ...] = ()) -> None:
        """``command_prefix`` runs gunicorn through another program (which execs it)."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.soap_url = f"{self.base_url}/soap"
        self.wsdl_url = f"{self.soap_url}?wsdl"
        self.database_url = database_url
        env = {
            **os.environ,
            "SOAP_ORDERS_DATABASE_URL": database_url,
            "SOAP_ORDERS_PUBLIC_URL": self.soap_url,
            "SOAP_ORDERS_LOG_LEVEL": "WARNING",
            "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY,
            "SOAP_ORDERS_AUTH_FAILURE_LIMIT": TEST_FAILURE_LIMIT,
            # Rotations and disables take effect at once (the cache has its own test).
            "SOAP_ORDERS_AUTH_CACHE_SECONDS": "0",
            **(extra_env or {}),
        }
        #: A client with every orders scope, created for this server (name, secret).
        self.credentials = (client_name, add_client(database_url, client_name, ALL_SCOPES))
        self.log_path = log_path
        self._log = log_path.open("wb")
        Server.starts += 1
        self.process = subprocess.Popen(
            [*command_prefix, sys.executable, "-m", "gunicorn", "soap_orders.wsgi:application",
             "--config", "python:soap_orders.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def renew_client(self) -> None:
        """Create this server's client (``credentials``) again, with a new secret: after its
        database was emptied for the next tests."""
        name = self.credentials[0]
        self.credentials = (name, add_client(self.database_url, name, ALL_SCOPES))

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        problem = wait_until_healthy(self.process, self.base_url, timeout)
        if problem is not None:
            raise RuntimeError(f"server {problem}:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def post(self, body: Any, *, headers: dict[str, str] | None = None, auth: Any = "default",
             **kwargs: Any) -> requests.Response:
        """POST to the SOAP endpoint, with HTTP Basic as this server's client unless ``auth`` says
        otherwise (None for no credentials)."""
        if isinstance(body, str):
            body = body.encode()
        all_headers = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        credentials = self.credentials if auth == "default" else auth
        return requests.post(self.soap_url, data=body, headers=all_headers, auth=credentials, timeout=10, **kwargs)

    def token(self, credentials: tuple[str, str] | None = None, **form: str) -> requests.Response:
        """POST to the OAuth2 token endpoint (client credentials grant unless ``form`` says otherwise)."""
        data = {"grant_type": "client_credentials", **form}
        return requests.post(f"{self.base_url}/oauth/token", data=data, auth=credentials or self.credentials, timeout=10)

    def stop(self) -> None:
        if self._log.closed:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
