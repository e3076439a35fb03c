"""The systemd units in contrib/: ``systemd-analyze verify`` finds nothing to say about them,
``systemd-analyze security`` rates their hardening OK, they agree on one layout with the rest of
the kit, and the service (and each unit's command) runs under the restrictions a process can
put on itself, as the units ask for them: NoNewPrivileges, MemoryDenyWriteExecute and the system
call filter (tests/systemd_sandbox.py, with Debian's python3-seccomp).

What is not verified here: systemd itself does not run in this sandbox (PID 1 is not systemd), so
the mount namespaces (ProtectSystem, PrivateTmp, ...), PrivateUsers, capabilities, the address
family restriction, StateDirectory and EnvironmentFile are checked by systemd-analyze only, not
enforced on a running service.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import zeep
from zeep.wsse.username import UsernameToken

from soap_orders.cli import main
from tests.server import ROOT, TEST_SECRET_KEY, Server

CONTRIB = ROOT / "contrib"
UNITS = ("soap-orders.service", "soap-orders-relay.service", "soap-orders-migrate.service", "soap-orders-prune.service")
TIMERS = ("soap-orders-prune.timer",)
VENV = "/opt/soap-orders/venv"
INSTALLED = f"{VENV}/bin/soap-orders"
SOAP_ORDERS = str(Path(sys.executable).with_name("soap-orders"))
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")
SANDBOX = ROOT / "tests" / "systemd_sandbox.py"
#: The most `systemd-analyze security` may rate a unit's exposure (0 is best, 10 worst; below 2 is "OK").
EXPOSURE = 1.5


def settings(name: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    section = ""
    for raw in (CONTRIB / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        sections.setdefault(f"{section}.{key}", []).append(value)
    return sections


def checkout_copies(directory: Path) -> list[Path]:
    """The units with the installed executable replaced by this checkout's (systemd-analyze verify
    wants ExecStart's program to exist); nothing else changes."""
    copies = []
    for name in UNITS + TIMERS:
        text = (CONTRIB / name).read_text()
        if name.endswith(".service"):
            assert text.count(INSTALLED) == 1, name
            text = text.replace(INSTALLED, SOAP_ORDERS)
        (directory / name).write_text(text)
        copies.append(directory / name)
    return copies


@needs_analyze
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    copies = checkout_copies(tmp_path)
    checked = subprocess.run([ANALYZE, "verify", *map(str, copies)], capture_output=True, text=True, timeout=60,
                             cwd=tmp_path)
    assert checked.returncode == 0 and checked.stderr.strip() == "" and checked.stdout.strip() == "", checked.stderr


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_security_rates_the_hardening_ok(tmp_path, unit):
    copies = {path.name: path for path in checkout_copies(tmp_path)}
    rated = subprocess.run([ANALYZE, "security", "--offline=true", str(copies[unit])], capture_output=True, text=True,
                           timeout=60)
    if "--offline" in rated.stderr and rated.returncode != 0:
        pytest.skip("this systemd-analyze cannot rate unit files offline (systemd 250+ can)")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", rated.stdout)
    assert found, rated.stdout + rated.stderr
    assert float(found.group(1)) <= EXPOSURE and found.group(2) == "OK", rated.stdout


def test_the_units_agree_on_one_layout():
    commands = set(main.commands)
    hardening = None
    for name in UNITS:
        unit = settings(name)
        command = unit["Service.ExecStart"][0].split()
        assert command[0] == INSTALLED and command[1] in commands, name
        assert unit["Service.User"] == ["soap-orders"] and unit["Service.Group"] == ["soap-orders"]
        assert unit["Service.WorkingDirectory"] == ["/var/lib/soap-orders"]
        assert unit["Service.StateDirectory"] == ["soap-orders"]
        assert unit["Service.EnvironmentFile"][0] == "/etc/soap-orders/soap-orders.env"
        assert "Service.ExecStartPre" not in unit, "migrations are their own step, never each instance's"
        rules = {k: v for k, v in unit.items() if k.split(".", 1)[1].startswith(
            ("Protect", "Private", "Restrict", "SystemCall", "NoNewPrivileges", "MemoryDeny", "Capability"))}
        assert hardening is None or rules == hardening, f"{name} is hardened differently"
        hardening = rules
    assert settings("soap-orders-relay.service")["Service.EnvironmentFile"] == [
        "/etc/soap-orders/soap-orders.env", "/etc/soap-orders/relay.env"]
    assert settings("soap-orders-migrate.service")["Service.EnvironmentFile"][1] == "-/etc/soap-orders/migrate.env"
    assert settings("soap-orders-prune.timer")["Timer.Persistent"] == ["true"]
    # The same paths everywhere the kit and the guide name them, and no other layout.
    for document in ("README.md", "docs/deploy.md", "contrib/soap-orders.env.example", "contrib/Dockerfile"):
        text = (ROOT / document).read_text()
        assert "/srv/soap-orders" not in text and "/opt/soap-orders/.venv" not in text, document
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in (VENV, "/etc/soap-orders/soap-orders.env", "/etc/soap-orders/relay.env", "/var/lib/soap-orders",
                 "/etc/soap-orders/secret_key", *(f"contrib/{name}" for name in UNITS + TIMERS)):
        assert path in guide, path


def sandboxed(unit: str) -> tuple[str, ...]:
    return ("/usr/bin/python3", str(SANDBOX), str(CONTRIB / unit))


@pytest.fixture(scope="module")
def sandbox_ready() -> None:
    """Skips, saying why, where the sandbox cannot be set up (no python3-seccomp, an old kernel)."""
    if not Path("/usr/bin/python3").exists():
        pytest.skip("Debian's /usr/bin/python3 (with python3-seccomp) runs the sandbox")
    probe = subprocess.run([*sandboxed("soap-orders.service"), "/bin/true"], capture_output=True, text=True, timeout=30)
    if probe.returncode == 3:
        pytest.skip(probe.stderr.strip())
    assert probe.returncode == 0, probe.stderr


def test_what_the_sandbox_forbids_fails(sandbox_ready):
    python = sys.executable
    for forbidden, expected in (
        ("import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)", "PermissionError"),
        ("import os; os.setpriority(os.PRIO_PROCESS, 0, 5)", "PermissionError"),  # @resources
        ("import os; os.chroot('/')", "PermissionError"),  # @privileged
    ):
        ran = subprocess.run([*sandboxed("soap-orders.service"), python, "-c", forbidden], capture_output=True,
                             text=True, timeout=30)
        assert ran.returncode == 1 and expected in ran.stderr, (forbidden, ran.stderr)
    status = subprocess.run([*sandboxed("soap-orders.service"), "/bin/cat", "/proc/self/status"], capture_output=True,
                            text=True, timeout=30).stdout
    assert re.search(r"NoNewPrivs:\s+1", status) and re.search(r"Seccomp:\s+2", status)


def test_the_service_runs_under_its_units_restrictions(sandbox_ready, database_url, tmp_path):
    server = Server(database_url, tmp_path / "gunicorn.log", command_prefix=sandboxed("soap-orders.service"))
    try:
        name, secret = server.credentials
        # WS-Security digest: the secret decrypted with the key (cryptography's Fernet).
        client = zeep.Client(server.wsdl_url, wsse=UsernameToken(name, secret, use_digest=True))
        assert client.service.FindOrdersByEmail(Email="nobody@example.com").TotalCount == 0
        token = server.token().json()["access_token"]
        answer = requests.post(f"{server.base_url}/json/GetOrder", json={"OrderNumber": "SO-1"}, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404 and answer.json()["ErrorCode"] == "ORDER_NOT_FOUND"
        assert requests.get(f"{server.base_url}/metrics", timeout=10).status_code == 200
        assert requests.get(f"{server.base_url}/readyz", timeout=10).json()["status"] == "ok"
        master = server.process.pid
        workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        assert workers
        for pid in [master, *workers]:
            status = Path(f"/proc/{pid}/status").read_text()
            assert re.search(r"NoNewPrivs:\s+1", status) and re.search(r"Seccomp:\s+2", status), pid
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_each_units_command_runs_under_its_restrictions(sandbox_ready, database_url, tmp_path):
    env = {"SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY, "PATH": "/usr/bin:/bin",
           "SOAP_ORDERS_DG_BASE_URL": "http://127.0.0.1:9", "SOAP_ORDERS_DG_API_KEY": "k",
           "SOAP_ORDERS_DG_API_SECRET": "s", "SOAP_ORDERS_DG_FLOW_DELIVERED": "flow-delivered"}
    for unit, args, said in (
        ("soap-orders-migrate.service", ("db", "upgrade"), "Database at revision"),
        ("soap-orders-prune.service", ("prune", "--dry-run"), "audit records: would delete 0"),
        ("soap-orders-relay.service", ("relay", "--once"), "0 sent"),
    ):
        ran = subprocess.run([*sandboxed(unit), SOAP_ORDERS, *args], capture_output=True, text=True, timeout=120,
                             env=env, cwd=tmp_path)
        assert ran.returncode == 0 and said in ran.stdout, (unit, ran.stdout, ran.stderr)
