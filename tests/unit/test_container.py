"""contrib/Dockerfile and contrib/compose.yaml, checked statically (there is no container engine
where the tests run, so the image is never built and compose never runs): the compose file parses
and names only files that exist, real commands and real settings; the image installs from
requirements.lock, hash-checked, in the layout of the systemd units."""

from __future__ import annotations

import re

import pytest
import yaml

from soap_orders.cli import main
from tests.server import ROOT
from tests.unit.test_contrib import variables_read_by_config

CONTRIB = ROOT / "contrib"
IMAGE_COMMANDS = ("migrate", "service", "relay")


def compose() -> dict:
    return yaml.safe_load((CONTRIB / "compose.yaml").read_text())


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), comments left out."""
    text = re.sub(r"\\\n\s*", " ", (CONTRIB / "Dockerfile").read_text())
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def unit_value(unit: str, key: str) -> str:
    found = re.search(rf"^{key}=(.*)$", (CONTRIB / unit).read_text(), re.MULTILINE)
    assert found, (unit, key)
    return found.group(1)


def copied_sources() -> list[str]:
    """What the image copies from the checkout."""
    return [source for instruction, arguments in dockerfile() if instruction == "COPY" and not arguments.startswith("--from")
            for source in arguments.split()[:-1]]


@pytest.mark.skipif(not (ROOT / "requirements.lock").exists(),
                    reason="requirements.lock (make lock) is not in this checkout, so the image cannot be built from it")
def test_the_lock_the_image_installs_from_is_the_checkouts():
    assert "requirements.lock" in copied_sources() and (ROOT / "requirements.lock").is_file()


def test_the_compose_file_runs_postgresql_migrations_the_service_and_the_relay():
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", "service", "relay"}
    assert services["postgres"]["image"].startswith("postgres:15")  # the major version CI tests against
    commands = set(main.commands)
    for name in IMAGE_COMMANDS:
        service = services[name]
        build = service["build"]
        assert (CONTRIB / build["context"] / build["dockerfile"]).resolve() == (CONTRIB / "Dockerfile").resolve()
        assert service["image"] == services["service"]["image"]
        assert service["command"][0] == "soap-orders" and service["command"][1] in commands
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        environment = service["environment"]
        assert set(environment) <= variables_read_by_config(), set(environment) - variables_read_by_config()
        assert "@postgres:5432/" in environment["SOAP_ORDERS_DATABASE_URL"]
    assert services["migrate"]["command"] == ["soap-orders", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("service", "relay"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["service"]["command"] == ["soap-orders", "serve"] and services["relay"]["command"] == ["soap-orders", "relay"]
    assert services["service"]["ports"] == ["127.0.0.1:8000:8000"]
    # The flow ids go to the relay only (the server queues every notification without them).
    assert not any(key.startswith("SOAP_ORDERS_DG_") for key in services["service"]["environment"])
    assert {k for k in services["relay"]["environment"] if k.startswith("SOAP_ORDERS_DG_FLOW_")}


def test_the_image_installs_the_lock_hash_checked_in_the_units_layout():
    instructions = dockerfile()
    stages = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    assert len(stages) == 2 and all(s.startswith("python:3.11-") for s in stages)  # spyne needs 3.11
    for source in copied_sources():
        assert source == "requirements.lock" or (ROOT / source).exists(), source
    run = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    assert "contrib/runtime_lock.py --build requirements.lock pyproject.toml > /tmp/dist/requirements-build.lock" in run
    assert "contrib/runtime_lock.py requirements.lock setup.cfg > /tmp/dist/requirements-runtime.lock" in run
    assert "--require-hashes --no-deps -r /tmp/dist/requirements-build.lock" in run
    # The build tools are installed before anything is built with them.
    assert run.index("-r /tmp/dist/requirements-build.lock") < run.index("--no-build-isolation --wheel-dir")
    assert "--require-hashes --no-deps --no-build-isolation -r /tmp/dist/requirements-runtime.lock" in run
    assert "pip check" in run and "--no-build-isolation --wheel-dir" in run
    # The same venv, user and working directory as the systemd units.
    venv = unit_value("soap-orders.service", "ExecStart").removesuffix("/bin/soap-orders serve")
    assert venv == "/opt/soap-orders/venv" and f"python -m venv {venv}" in run
    assert ("COPY", f"--from=build {venv} {venv}") in instructions
    assert ("USER", unit_value("soap-orders.service", "User")) in instructions
    assert ("WORKDIR", unit_value("soap-orders.service", "WorkingDirectory")) in instructions
    assert ("CMD", '["soap-orders", "serve"]') in instructions
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)
    assert not {"soap_orders", "wsdl", "requirements.lock", "contrib"} & set(ignored)
