"""What a new user meets in the first ten minutes: the key in var/secret_key, the port, the
snippets ``make run`` prints, a second ``make run``, and clear exits."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from soap_orders.cli import main
from soap_orders.config import Settings
from tests.conftest import _migrated
from tests.server import free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "k" * 20 + "-file-kept-secret-key-0123456789"


@pytest.fixture
def first_run(tmp_path, monkeypatch):
    """A working directory like a fresh checkout after ``make run``'s setup: a migrated SQLite
    database and var/secret_key, with no SOAP_ORDERS_* variable exported."""
    for name in list(__import__("os").environ):
        if name.startswith("SOAP_ORDERS_") and name != "SOAP_ORDERS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text(KEY + "\n")
    url = _migrated(f"sqlite:///{tmp_path / 'var' / 'orders.sqlite3'}")
    monkeypatch.setenv("SOAP_ORDERS_DATABASE_URL", url)
    return tmp_path


def cli(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_the_key_in_var_secret_key_is_found(first_run):
    assert Settings.from_env().secret_key == KEY
    added = cli("clients", "add", "dg-test", "--scope", "orders:read", "--digest")
    assert added.exit_code == 0, added.output
    assert "PasswordDigest enabled" in added.output
    rotated = cli("clients", "rotate", "dg-test")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output.strip().splitlines()[-1] != added.output.strip().splitlines()[-1]
    demo = cli("demo-client")
    assert demo.exit_code == 0, demo.output
    assert "use_digest=True" in demo.output


def test_an_exported_key_wins_over_the_file(first_run, monkeypatch):
    monkeypatch.setenv("SOAP_ORDERS_SECRET_KEY", "e" * 40)
    assert Settings.from_env().secret_key == "e" * 40


def test_without_a_key_digest_clients_are_refused_clearly(first_run):
    (first_run / "var" / "secret_key").unlink()
    result = cli("clients", "add", "dg-test", "--scope", "orders:read", "--digest")
    assert result.exit_code == 1
    assert "SOAP_ORDERS_SECRET_KEY" in result.output


def snippet_of(output: str) -> str:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("import requests"))
    return "\n".join(lines[start:])


def test_the_printed_snippet_pastes_and_compiles_as_it_is(first_run):
    result = cli("demo-client")
    assert result.exit_code == 0, result.output
    assert re.search(r"paste these lines into \S*python\S* \(it has zeep and requests\)", result.output)
    code = snippet_of(result.output)
    compile(code, "<pasted>", "exec")  # an IndentationError or SyntaxError fails the test
    assert not any(line.startswith((" ", "\t")) and not line.strip().startswith("auth=") for line in code.splitlines()
                   if line.strip())
    assert 'wsdl = "http://127.0.0.1:8000/soap?wsdl"' in code


def test_the_bind_address_moves_the_published_address(first_run, monkeypatch):
    monkeypatch.setenv("SOAP_ORDERS_BIND", "127.0.0.1:8123")
    assert Settings.from_env().public_url == "http://127.0.0.1:8123/soap"
    code = snippet_of(cli("demo-client").output)
    assert 'wsdl = "http://127.0.0.1:8123/soap?wsdl"' in code and "http://127.0.0.1:8123/oauth/token" in code
    assert 'address location="http://127.0.0.1:8123/soap"' in cli("wsdl").output
    monkeypatch.setenv("SOAP_ORDERS_BIND", "0.0.0.0:9000")
    assert Settings.from_env().public_url == "http://127.0.0.1:9000/soap"
    monkeypatch.setenv("SOAP_ORDERS_PUBLIC_URL", "https://orders.example.com/soap")
    assert Settings.from_env().public_url == "https://orders.example.com/soap"


def test_make_run_takes_a_port():
    result = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    commands = [line for line in result.stdout.splitlines() if "soap-orders" in line and not line.startswith("echo ")]
    assert commands and all("SOAP_ORDERS_BIND=127.0.0.1:8123" in line for line in commands)
    assert any(line.endswith("soap-orders serve") for line in commands)


def test_a_second_make_run_still_suggests_emails_and_orders(first_run):
    first = cli("demo-data", "--if-empty", "--orders", "120", "--seed", "1")
    assert first.exit_code == 0 and "Try:" in first.output
    second = cli("demo-data", "--if-empty", "--orders", "120", "--seed", "1")
    assert second.exit_code == 0, second.output
    assert "already holds orders" in second.output and "Try:" in second.output
    emails = re.findall(r"FindOrdersByEmail\s+(\S+@\S+) \(\d+ orders?\)", second.output)
    assert len(emails) == 3
    assert set(emails) <= set(re.findall(r"FindOrdersByEmail\s+(\S+@\S+)", first.output)) | set(emails)
    assert re.search(r"(CancelOrder|IssueRefund|GetOrder)\s+SO-\d{6} ", second.output)


def test_audit_of_an_unknown_order_fails(first_run):
    result = CliRunner().invoke(main, ["audit", "--order", "SO-999999"])
    assert result.exit_code == 1
    assert "No order SO-999999" in result.output


def test_audit_of_a_known_order_succeeds(first_run, tmp_path):
    record = tmp_path / "one.jsonl"
    record.write_text('{"OrderNumber": "SO-200001", "CreatedAt": "2026-03-01T10:00:00Z", "Status": "PROCESSING", '
                      '"FinancialStatus": "PAID", "Currency": "EUR", "Subtotal": "10.00", "Total": "10.00", '
                      '"Customer": {"Email": "ann.lee@example.com"}, "Lines": [{"LineNumber": 1, "Sku": "MUG", '
                      '"Name": "Mug", "Quantity": 1, "UnitPrice": "10.00"}]}\n')
    assert cli("import", str(record)).exit_code == 0
    result = cli("audit", "--order", "SO-200001")
    assert result.exit_code == 0 and "UpsertOrder" in result.output


def test_check_asks_for_the_secret_by_its_variable(first_run):
    result = CliRunner().invoke(main, ["check", "http://127.0.0.1:9/soap", "--client", "dg"])
    assert result.exit_code == 2
    assert "SOAP_ORDERS_CHECK_SECRET" in result.output
    assert "SOAP_ORDERS_CHECK_SECRET" in cli("check", "--help").output


def test_check_names_the_url_it_could_not_load(first_run):
    url = f"http://127.0.0.1:{free_port()}/soap"
    result = CliRunner().invoke(main, ["check", url, "--client", "dg"], env={"SOAP_ORDERS_CHECK_SECRET": "s"})
    assert result.exit_code == 1
    assert f"FAIL  WSDL at {url}?wsdl could not be loaded: connection failed" in result.output
