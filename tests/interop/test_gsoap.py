"""gSOAP: a C++ client generated from the live WSDL by ``wsdl2h`` and ``soapcpp2`` with their
default options (``soapcpp2 -C -L`` only leaves out the server side and the library stubs),
compiled with g++ against Debian's libgsoap++, calls every operation with HTTP Basic through the
generated functions and reads the typed fault detail; what it reads is what zeep reads.

Needs Debian's ``gsoap`` (wsdl2h, soapcpp2 and its import files) and ``libgsoap-dev`` and a C++
compiler, which ``.ci/run`` installs; skipped without them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.interop.harness import (
    OPERATION_NAMES,
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

PROGRAM = Path(__file__).resolve().parent / "gsoap" / "orders_call.cpp"
IMPORTS = Path("/usr/share/gsoap/import")  # Debian's gsoap: the headers soapcpp2 imports (stlvector.h, soap12.h)
RUNTIME = Path("/usr/include/stdsoap2.h")  # Debian's libgsoap-dev, with libgsoap++
TOOLS = {tool: shutil.which(tool) for tool in ("wsdl2h", "soapcpp2", "g++")}
MISSING = [tool for tool, path in TOOLS.items() if path is None] + [
    str(path) for path in (IMPORTS, RUNTIME) if not path.exists()]
BUILD_TIMEOUT = 600


def build(server: Any, work: Path) -> Path:
    """wsdl2h and soapcpp2 on the served WSDL, then the program compiled with what they generated."""
    run_tool([TOOLS["wsdl2h"], "-o", "orders.h", server.wsdl_url], work)
    header = (work / "orders.h").read_text()
    assert '#import "soap12.h"' not in header, "wsdl2h took the WSDL for a SOAP 1.2 service"
    run_tool([TOOLS["soapcpp2"], "-C", "-L", f"-I{IMPORTS}", "orders.h"], work)
    # The operations the program is compiled to call: every one the service declares.
    (work / "operations.h").write_text("".join(f"ORDERS_OPERATION({name})\n" for name in sorted(OPERATION_NAMES)))
    run_tool([TOOLS["g++"], "-o", "orders_call", "-I", str(work), PROGRAM, "soapC.cpp", "soapClient.cpp",
              "-lgsoap++"], work, timeout=BUILD_TIMEOUT)
    return work / "orders_call"


@pytest.fixture(scope="module")
def gsoap_program(server, tmp_path_factory) -> Path:
    if MISSING:
        pytest.skip(f"gSOAP needs {', '.join(MISSING)}: install Debian's gsoap, libgsoap-dev and g++ (.ci/run does)")
    return built_once("gsoap", server, lambda: build(server, tmp_path_factory.mktemp("gsoap")))


def gsoap_answers(server, program: Path, work: Path) -> dict[str, Any]:
    arguments = [part for call, path in request_files(work) for part in (call.operation, path)]
    done = run_tool([program, server.soap_url, *arguments], work, env=client_env(server))
    answers = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        if "fault" in result:
            read = result["fault"]
            answers[result["call"]] = fault(read["ErrorCode"], read["Message"], read["Retryable"], read["faultcode"])
            continue
        answer = element_data(etree.fromstring(result["answer"].encode()))
        if "orders" in result:  # a search: the order numbers read through the generated members
            orders = (answer.get("Orders") or {}).get("Order", [])
            listed = [order["OrderNumber"] for order in (orders if isinstance(orders, list) else [orders])]
            assert result["orders"] == listed, result
        if result["call"] == "FindOrdersByEmail-no-match":  # an empty <Orders/>: an Orders without Order
            assert result["orders"] == [], result
        answers[result["call"]] = plain(answer) or {}
    return answers


def test_gsoap_default_client_matches_zeep(server, example_orders, gsoap_program, tmp_path):
    answers = gsoap_answers(server, gsoap_program, tmp_path)
    assert_typed_not_found("gSOAP", answers)
    assert_erp_fields_only_accepted("gSOAP", answers)
    assert_same_answers("gSOAP", answers, zeep_answers(zeep_client(server)))
