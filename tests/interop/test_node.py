"""node's ``soap`` package (from npm, the version in node/package.json) with HTTP Basic calls every
operation and reads the typed fault detail; what it reads is what zeep reads.

The package is installed once into ``var/interop-node`` (ignored by git) when it is not there yet;
without node, or when npm cannot install it within the time allowed, the test is skipped saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import (
    CALLS,
    CLIENT_TIMEOUT,
    assert_erp_fields_only_accepted,
    assert_same_answers,
    assert_typed_not_found,
    fault,
    plain,
    zeep_answers,
    zeep_client,
)
from tests.server import ROOT

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent / "node"
INSTALL_DIR = ROOT / "var" / "interop-node"
NPM_TIMEOUT = 240


@pytest.fixture(scope="session")
def node_modules() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the node soap client")
    manifest = (HERE / "package.json").read_text()
    wanted = json.loads(manifest)["dependencies"]["soap"]
    installed = INSTALL_DIR / "node_modules" / "soap" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == wanted:
        return INSTALL_DIR / "node_modules"
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    (INSTALL_DIR / "package.json").write_text(manifest)
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=INSTALL_DIR,
                              capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm could not install soap@{wanted} within {NPM_TIMEOUT} s (is the npm registry reachable?)")
    if done.returncode != 0 or not installed.exists():
        pytest.skip(f"npm could not install soap@{wanted}: {done.stderr.strip()[-500:]}")
    return INSTALL_DIR / "node_modules"


def node_answers(server, modules: Path) -> dict[str, Any]:
    name, secret = server.credentials
    env = {"PATH": os.environ.get("PATH", ""), "NODE_PATH": str(modules),
           "SOAP_ORDERS_CLIENT": name, "SOAP_ORDERS_SECRET": secret}
    calls = json.dumps([{"name": call.name, "operation": call.operation, "args": call.args} for call in CALLS])
    done = subprocess.run(["node", str(HERE / "call.js"), server.wsdl_url], input=calls, env=env, cwd=HERE,
                          capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert done.returncode == 0, f"node failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    answers = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        if result["call"] == "FindOrdersByEmail-no-match":  # the README's idiom: page.Orders ? ... : []
            assert result["answer"]["Orders"] is None, result
        if "fault" in result:
            read = result["fault"]
            assert isinstance(read["Retryable"], bool), read  # compared with 'true', as README says
            answers[result["call"]] = fault(read["ErrorCode"], read["Message"], read["Retryable"], read["faultcode"])
        else:
            answers[result["call"]] = plain(result["answer"]) or {}
    return answers


def test_node_soap_client_matches_zeep(server, example_orders, node_modules):
    answers = node_answers(server, node_modules)
    assert_typed_not_found("node soap", answers)
    assert_erp_fields_only_accepted("node soap", answers)
    assert_same_answers("node soap", answers, zeep_answers(zeep_client(server)))
