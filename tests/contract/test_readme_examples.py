"""README's examples, run in order against a fresh ``make run``-like server, as a reader pastes them.

The server is set up the way ``make run`` does it, with the real commands in a fresh working
directory: ``soap-orders db upgrade``, ``soap-orders demo-data --if-empty --orders 200 --seed 1``,
``soap-orders demo-client`` (its printed secret is the quick start's), then ``soap-orders serve``.

Every fenced ``sh``, ``xml`` and ``python`` block of README.md is then run in the order it appears:

- ``sh`` with bash, in the working directory, with the checkout's ``.venv/bin`` first on the PATH
  (as after ``make shell``); it must exit 0 (curl examples use ``--fail-with-body``);
- ``xml``: a request (a whole envelope, or an operation's element, which is put in one) that must be
  one of ``wsdl/examples/*-request.xml``; it is posted to ``/soap`` and the answer must be that
  example's golden response (compared as in tests/contract/test_examples.py);
- ``python``: executed in one namespace shared by all Python blocks (like pasting into one
  interpreter), with ``SECRET`` defined.

What a reader would type differently is replaced, and nothing else: ``https://orders.example.com``
and ``http://127.0.0.1:8000`` by the server's address, ``<the secret printed by make run>`` by what
``demo-client`` printed, and ``SECRET`` (a Python name, or ``$SECRET`` in the shell) is the secret
the last ``soap-orders clients add`` printed (``xml`` requests are posted as that client). A block preceded by ``<!-- not run: why -->`` is not
run; one preceded by ``<!-- needs: tool ... -->`` is run by the second test when those tools are
installed (from a directory holding the checkout's files it names).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.contract.test_examples import _masked
from tests.server import ROOT, free_port, wait_until_healthy
from tests.xmltools import assert_nodes_equal

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
EXAMPLES = ROOT / "wsdl" / "examples"
BIN = Path(sys.executable).parent
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WRAP = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ord="urn:soap-orders:orders:v1">'
        "<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>")
RUN = ("sh", "xml", "python")
#: Seconds any one block may take.
BLOCK_TIMEOUT = 120


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    text: str
    marker: str  # the HTML comment on the line before the fence, if any

    @property
    def not_run(self) -> str | None:
        found = re.fullmatch(r"<!-- not run: (.+) -->", self.marker)
        return found.group(1) if found else None

    @property
    def needs(self) -> tuple[str, ...]:
        found = re.match(r"<!-- needs: ([\w ]+?) \(", self.marker)
        return tuple(found.group(1).split()) if found else ()


def readme_blocks() -> list[Block]:
    lines = README.read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opened = re.fullmatch(r"```(\w*)", lines[index])
        if not opened:
            index += 1
            continue
        end = lines.index("```", index + 1)
        marker = lines[index - 1].strip() if index and lines[index - 1].startswith("<!--") else ""
        blocks.append(Block(index + 1, opened.group(1), "\n".join(lines[index + 1:end]), marker))
        index = end + 1
    return blocks


@dataclass
class MakeRun:
    """A working directory and server set up as ``make run`` sets them up."""

    directory: Path
    base_url: str
    demo_secret: str
    printed: str
    process: subprocess.Popen[bytes]
    secret: str = ""
    #: The client the last ``soap-orders clients add`` made (xml requests are posted as it).
    client: str = "dg-prod"
    namespace: dict[str, object] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SOAP_ORDERS_")}
        return {**inherited, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
                "VIRTUAL_ENV": str(BIN.parent), "SECRET": self.secret,
                "SOAP_ORDERS_BIND": self.base_url.removeprefix("http://")}

    def localised(self, text: str) -> str:
        for address in ("https://orders.example.com", "http://127.0.0.1:8000"):
            text = text.replace(address, self.base_url)
        return text.replace("<the secret printed by make run>", self.demo_secret)


def command(make_run_env: dict[str, str], directory: Path, *args: str) -> str:
    done = subprocess.run([str(BIN / "soap-orders"), *args], cwd=directory, env=make_run_env, capture_output=True,
                          text=True, timeout=BLOCK_TIMEOUT)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    directory = tmp_path_factory.mktemp("make-run")
    (directory / "var").mkdir()
    (directory / "var" / "secret_key").write_text("readme-examples-secret-key-" + "k" * 32 + "\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAP_ORDERS_")}
    env["SOAP_ORDERS_BIND"] = f"127.0.0.1:{port}"  # what `make run PORT=...` sets
    printed = command(env, directory, "db", "upgrade")
    printed += command(env, directory, "demo-data", "--if-empty", "--orders", "200", "--seed", "1")
    printed += command(env, directory, "demo-client")
    secret = re.search(r"API client 'demo' \(scopes orders:read orders:act\) has a new secret: (\S+)", printed)
    assert secret, printed
    log = (directory / "serve.log").open("wb")
    process = subprocess.Popen([str(BIN / "soap-orders"), "serve"], cwd=directory, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    running = MakeRun(directory, f"http://127.0.0.1:{port}", secret.group(1), printed, process)
    try:
        problem = wait_until_healthy(process, running.base_url, 60)
        assert problem is None, f"server {problem}: {(directory / 'serve.log').read_text()[-3000:]}"
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def canonical(element: etree._Element) -> bytes:
    """The element as canonical XML, indentation left out."""
    parsed = etree.fromstring(etree.tostring(element), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(parsed, method="c14n")


def golden_request(operation: etree._Element) -> Path:
    """The wsdl/examples request whose Body holds ``operation``."""
    wanted = canonical(operation)
    for path in sorted(EXAMPLES.glob("*-request.xml")):
        body = etree.parse(str(path)).getroot().find(f"{{{SOAP_ENV}}}Body")
        if body is not None and canonical(next(child for child in body if isinstance(child.tag, str))) == wanted:
            return path
    raise AssertionError(f"README's {etree.QName(operation).localname} is not one of wsdl/examples/*-request.xml")


def run_sh(run: MakeRun, block: Block, directory: Path) -> None:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", run.localised(block.text)], cwd=directory, env=run.env(),
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}\n{done.stderr}"
    made = re.search(r"soap-orders clients (?:add|rotate) ([\w.-]+)", block.text)
    if made:
        run.client, run.secret = made.group(1), done.stdout.strip().splitlines()[-1]


def run_xml(run: MakeRun, block: Block) -> None:
    text = block.text.strip()
    envelope = etree.fromstring((text if text.startswith("<soapenv:Envelope") else WRAP.format(text)).encode())
    (operation,) = [child for child in envelope.find(f"{{{SOAP_ENV}}}Body") if isinstance(child.tag, str)]
    request = golden_request(operation)
    answer = requests.post(f"{run.base_url}/soap", data=etree.tostring(envelope), auth=(run.client, run.secret),
                           headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)
    expected = etree.parse(str(request.with_name(request.name.replace("-request.xml", "-response.xml")))).getroot()
    assert_nodes_equal(_masked(etree.fromstring(answer.content)), _masked(expected))


def run_python(run: MakeRun, block: Block) -> None:
    run.namespace["SECRET"] = run.secret
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(run.localised(block.text), f"README.md:{block.line}", "exec"), run.namespace)  # noqa: S102


def test_every_example_block_says_whether_it_runs():
    blocks = [b for b in readme_blocks() if b.language in RUN]
    assert len(blocks) >= 12
    for block in blocks:
        if block.marker:
            assert block.not_run or block.needs, f"README line {block.line}: unknown marker {block.marker!r}"


def test_readme_examples_run_in_order_against_make_runs_demo_data(make_run):
    ran: dict[str, int] = {}
    quick_start = None
    for block in readme_blocks():
        if block.language not in RUN or block.not_run or block.needs:
            continue
        if block.language == "sh":
            run_sh(make_run, block, make_run.directory)
        elif block.language == "xml":
            run_xml(make_run, block)
        else:
            run_python(make_run, block)
            if quick_start is None:  # the quick start's last answer: its refund
                quick_start = make_run.namespace["answer"]
        ran[block.language] = ran.get(block.language, 0) + 1
    assert ran["sh"] >= 2 and ran["xml"] >= 5 and ran["python"] >= 4, ran
    # What the quick start says make run prints, it prints.
    for email in re.findall(r'Email="([^"]+)"\)\s+# one of the emails make run prints', README.read_text()):
        assert f"FindOrdersByEmail  {email}" in make_run.printed, email
    # The quick start refunded (through the demo client; the later examples call as dg-prod).
    assert quick_start is not None and (quick_start.Outcome, quick_start.ReasonCode) == ("REFUNDED", "NONE")


def test_readme_examples_that_need_other_tools(make_run, tmp_path):
    blocks = [b for b in readme_blocks() if b.needs]
    assert blocks, "README has blocks that need other tools (the wsimport lines)"
    missing = sorted({tool for b in blocks for tool in b.needs if shutil.which(tool) is None})
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: jaxws default-jdk-headless; .ci/run installs them)")
    if not make_run.secret:  # when run alone: the client the README creates first
        first = next(b for b in readme_blocks() if b.language == "sh" and "soap-orders clients add" in b.text)
        run_sh(make_run, first, make_run.directory)
    for block in blocks:
        # The checkout's files the block names (the program, the examples), where it expects them.
        for name in re.findall(r"(?:tests|wsdl)/[\w/.-]+", block.text):
            source = ROOT / name
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy(source, target)
        run_sh(make_run, block, tmp_path)
    assert list((tmp_path / "classes").rglob("OrdersService_Service.class"))
