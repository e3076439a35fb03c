"""A real PgBouncer (Debian's ``pgbouncer``) in transaction pooling mode on 127.0.0.1, in front of
the test PostgreSQL database, for the tests and the benchmark that run the service through it.

It listens on a free port, lets the PostgreSQL user of the test URL in without a password (the
test server trusts 127.0.0.1) and hands out at most ``server_connections`` server connections,
fewer than the clients it serves. The test URL's schema (``options=-csearch_path=...``, which
PgBouncer does not pass on) is set on each server connection as it opens (``connect_query``),
the same for every client, so nothing of a client's own session survives its transaction.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy.engine import make_url

from tests.server import free_port

#: Why PgBouncer tests cannot run here, or None when they can.
MISSING = None if shutil.which("pgbouncer") else ("PgBouncer is not installed (Debian: apt-get install pgbouncer; "
                                                  ".ci/run installs it)")
#: The alias clients connect to.
DATABASE = "soap_orders"


class PgBouncer:
    """A PgBouncer process in front of ``database_url``'s database, stopped by ``stop``."""

    def __init__(self, database_url: str, *, server_connections: int = 10, max_clients: int = 300) -> None:
        if MISSING:
            raise RuntimeError(MISSING)
        target = make_url(database_url)
        options = parse_qs(f"o={target.query.get('options', '')}").get("o", [""])[0]
        schema = options.removeprefix("-csearch_path=") if options.startswith("-csearch_path=") else None
        self.port = free_port()
        self.user = target.username or "postgres"
        # Its own directory, readable by the unprivileged user PgBouncer switches to when started
        # as root (it refuses to run as root).
        self.directory = Path(tempfile.mkdtemp(prefix="soap-orders-pgbouncer-"))
        self.directory.chmod(0o755)
        connect = f"host={target.host or '127.0.0.1'} port={target.port or 5432} dbname={target.database} user={self.user}"
        if schema:
            connect += f" connect_query='SET search_path TO {schema}'"
        config = self.directory / "pgbouncer.ini"
        config.write_text(f"""[databases]
{DATABASE} = {connect}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory / "users.txt"}
pool_mode = transaction
default_pool_size = {server_connections}
max_client_conn = {max_clients}
server_lifetime = 3600
""")
        (self.directory / "users.txt").write_text(f'"{self.user}" ""\n')
        for path in (config, self.directory / "users.txt"):
            path.chmod(0o644)
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/{DATABASE}"
        command = ["pgbouncer", str(config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]
        self._log = (self.directory / "pgbouncer.log").open("wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise

    def _wait_until_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return (self.directory / "pgbouncer.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)
