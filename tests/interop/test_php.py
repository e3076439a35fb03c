"""PHP's ``SoapClient`` (ext-soap) in WSDL mode with HTTP Basic calls every operation and reads the
fault detail as the README says (``Retryable`` through ``filter_var(..., FILTER_VALIDATE_BOOLEAN)``:
SoapClient hands it over as the string "false", which is true in PHP); what it reads is what zeep
reads.

Needs ``php`` with the soap extension (Debian's ``php-cli php-soap``), which ``.ci/run`` installs;
skipped without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import (
    CALLS,
    assert_erp_fields_only_accepted,
    assert_same_answers,
    assert_typed_not_found,
    client_env,
    fault,
    plain,
    run_tool,
    zeep_answers,
    zeep_client,
)

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent / "php"
PHP = shutil.which("php")


def soap_extension_missing() -> str | None:
    """Why PHP's SoapClient cannot run here, or None when it can."""
    if PHP is None:
        return "php is not installed"
    loaded = subprocess.run([PHP, "-r", "exit(extension_loaded('soap') ? 0 : 1);"], capture_output=True, timeout=30)
    return None if loaded.returncode == 0 else "php has no soap extension"


@pytest.fixture(scope="session")
def php() -> str:
    missing = soap_extension_missing()
    if missing is not None:
        pytest.skip(f"{missing}: install Debian's php-cli and php-soap (.ci/run does)")
    assert PHP is not None
    return PHP


def php_answers(server, php: str, work: Path) -> dict[str, Any]:
    calls = json.dumps([{"name": call.name, "operation": call.operation, "args": call.args} for call in CALLS])
    done = run_tool([php, HERE / "call.php", server.wsdl_url], work, input=calls, env=client_env(server))
    answers = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        if "fault" in result:
            read = result["fault"]
            assert isinstance(read["Retryable"], bool), read  # filter_var read the string
            answers[result["call"]] = fault(read["ErrorCode"], read["Message"], read["Retryable"], read["faultcode"])
            continue
        answer = result["answer"]
        if "orders" in result:  # a search, read with the README's idiom
            orders = (answer.get("Orders") or {}).get("Order", [])
            assert result["orders"] == [order["OrderNumber"] for order in orders], result
        if result["call"] == "FindOrdersByEmail-no-match":
            assert result["orders"] == [], result
        answers[result["call"]] = plain(answer) or {}
    return answers


def test_php_soapclient_matches_zeep(server, example_orders, php, tmp_path):
    answers = php_answers(server, php, tmp_path)
    assert_typed_not_found("PHP SoapClient", answers)
    assert_erp_fields_only_accepted("PHP SoapClient", answers)
    assert_same_answers("PHP SoapClient", answers, zeep_answers(zeep_client(server)))
