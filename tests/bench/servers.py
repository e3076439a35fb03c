"""The processes under load: the service as ``soap-orders serve`` runs it, and the floor.

Each runs in a process group of its own (the group's CPU is what the kernel accounts to the server)
on a free port of 127.0.0.1, and is stopped, the whole group, when the benchmark ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.server import ROOT, TEST_SECRET_KEY, free_port, wait_until_healthy

from . import procstat

WORKERS = 2


class Process:
    """A gunicorn master and its workers, in their own process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path, port: int) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS)],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.group = self.process.pid

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        problem = wait_until_healthy(self.process, self.base_url, timeout)
        if problem is not None:
            raise RuntimeError(f"{self.name} {problem}; see {self.log_path}")

    def worker_rss_mb(self) -> list[float]:
        return [procstat.rss_mb(pid) for pid in procstat.children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.group, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.group, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        # Workers left behind by a killed master are in the same group.
        try:
            os.killpg(self.group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not self._log.closed:
            self._log.close()


def _production_env(**extra: str) -> dict[str, str]:
    # The service's own defaults: nothing inherited from the caller's SOAP_ORDERS_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOAP_ORDERS_", "GUNICORN_"))}
    return {**env, **extra}


def service(name: str, database_url: str, log_path: Path, *, gunicorn_args: str = "",
            settings: dict[str, str] | None = None) -> Process:
    """``soap-orders serve``: gunicorn with the package's settings (soap_orders/gunicorn_conf.py), two
    workers; ``settings`` are further SOAP_ORDERS_* variables."""
    env = _production_env(SOAP_ORDERS_DATABASE_URL=database_url, SOAP_ORDERS_SECRET_KEY=TEST_SECRET_KEY,
                          **(settings or {}))
    if gunicorn_args:
        env["GUNICORN_CMD_ARGS"] = gunicorn_args
    port = free_port()
    # The published address is the one the load reaches.
    env["SOAP_ORDERS_PUBLIC_URL"] = f"http://127.0.0.1:{port}/soap"
    command = [str(Path(sys.executable).with_name("soap-orders")), "serve"]
    return Process(name, command, env, log_path, port)


def floor(responses: Path, log_path: Path) -> Process:
    """The floor: precomputed answers, served by gunicorn with the service's configuration."""
    env = _production_env(BENCH_FLOOR_RESPONSES=str(responses))
    command = [sys.executable, "-m", "gunicorn", "tests.bench.floor:application",
               "--config", "python:soap_orders.gunicorn_conf"]
    return Process("floor", command, env, log_path, free_port())
