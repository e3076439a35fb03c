"""Mono: the C# proxy its ``wsdl`` tool generates from the live WSDL with the default options
(``SoapHttpClientProtocol``, the classic .NET web reference), compiled with ``mcs``, calls every
operation, sending its credentials when challenged, and reads the fault detail as the README says
(``Retryable`` through ``XmlConvert.ToBoolean``, since the proxy hands it over as the text
"false"); what it reads is what zeep reads.

Needs Debian's ``mono-devel`` (wsdl, mcs, mono and System.Web.Services), which ``.ci/run``
installs; skipped without it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.interop.harness import (
    assert_erp_fields_only_accepted,
    assert_same_answers,
    assert_typed_not_found,
    built_once,
    client_env,
    element_data,
    fault,
    plain,
    request_files,
    run_tool,
    zeep_answers,
    zeep_client,
)

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).resolve().parent / "mono" / "OrdersCall.cs"
WEB_SERVICES = Path("/usr/lib/mono/4.5/System.Web.Services.dll")
TOOLS = {tool: shutil.which(tool) for tool in ("wsdl", "mcs", "mono")}
MISSING = [tool for tool, path in TOOLS.items() if path is None] + ([] if WEB_SERVICES.exists() else [str(WEB_SERVICES)])


def build(server: Any, work: Path) -> Path:
    """The proxy generated from the served WSDL, compiled with the program."""
    run_tool([TOOLS["wsdl"], "-out:OrdersService.cs", server.wsdl_url], work)
    run_tool([TOOLS["mcs"], "-out:OrdersCall.exe", "-r:System.Web.Services", "OrdersService.cs", PROGRAM], work)
    return work / "OrdersCall.exe"


@pytest.fixture(scope="module")
def mono_program(server, tmp_path_factory) -> Path:
    if MISSING:
        pytest.skip(f"the Mono proxy needs {', '.join(MISSING)}: install Debian's mono-devel (.ci/run does)")
    return built_once("mono", server, lambda: build(server, tmp_path_factory.mktemp("mono")))


def mono_answers(server, program: Path, work: Path) -> dict[str, Any]:
    files = [path for _, path in request_files(work)]
    # Mono writes its per-user state (the certificate store, the shared-memory registry) under HOME.
    done = run_tool([TOOLS["mono"], program, server.soap_url, *files], work, env=client_env(server, HOME=str(work)))
    answers = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        if "fault" in result:
            read = result["fault"]
            assert isinstance(read["Retryable"], bool), read  # XmlConvert.ToBoolean read the text
            answers[result["call"]] = fault(read["ErrorCode"], read["Message"], read["Retryable"], read["faultcode"])
            continue
        answer = element_data(etree.fromstring(result["answer"].encode()))
        if "orders" in result:  # a search: the order numbers read through the generated members
            orders = (answer.get("Orders") or {}).get("Order", [])
            listed = [order["OrderNumber"] for order in (orders if isinstance(orders, list) else [orders])]
            assert result["orders"] == listed, result
        if result["call"] == "FindOrdersByEmail-no-match":  # an empty <Orders/> is an empty array, not null
            assert result["orders"] == [], result
        answers[result["call"]] = plain(answer) or {}
    return answers


def test_mono_wsdl_proxy_matches_zeep(server, example_orders, mono_program, tmp_path):
    answers = mono_answers(server, mono_program, tmp_path)
    assert_typed_not_found("Mono", answers)
    assert_erp_fields_only_accepted("Mono", answers)
    assert_same_answers("Mono", answers, zeep_answers(zeep_client(server)))
