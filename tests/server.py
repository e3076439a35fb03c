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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn process serving the application on 127.0.0.1, stopped when the test ends."""

    def __init__(self, database_url: str, log_path: Path, *, workers: int = 2, extra_env: dict[str, str] | None = None) -> None:
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
            **(extra_env or {}),
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "soap_orders.wsgi:application",
             "--config", str(ROOT / "contrib" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def post(self, body: bytes | str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        if isinstance(body, str):
            body = body.encode()
        all_headers = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        return requests.post(self.soap_url, data=body, headers=all_headers, timeout=10, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
