"""``make run`` (``serve`` and ``demo-client``) prints the service page's address, on the port
the server publishes."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from soap_orders.cli import commands as cli_module
from soap_orders.cli import main
from tests.conftest import _migrated


@pytest.fixture
def checkout(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if name.startswith("SOAP_ORDERS_") and name != "SOAP_ORDERS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOAP_ORDERS_DATABASE_URL", _migrated(f"sqlite:///{tmp_path / 'orders.sqlite3'}"))
    monkeypatch.setenv("SOAP_ORDERS_BIND", "127.0.0.1:8123")
    return tmp_path


def test_demo_client_names_the_service_page(checkout):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["demo-client"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "the service page at http://127.0.0.1:8123/ lists every operation" in result.output


def test_serve_names_the_service_page(checkout, monkeypatch):  # type: ignore[no-untyped-def]
    started: list[list[str]] = []

    def execv(path: str, args: list[str]) -> None:
        started.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(cli_module.os, "execv", execv)
    result = CliRunner().invoke(main, ["serve"], catch_exceptions=False)
    assert started and "127.0.0.1:8123" in started[0]
    assert "Service page (every operation, examples, health and metrics): http://127.0.0.1:8123/" in result.output
