"""The service page in a real headless Chromium (Debian's chromium, driven by Playwright's Python
package), served by a real gunicorn: it loads, lists every declared operation, its WSDL link
answers, the example envelopes are text, and a screenshot is kept as a test artefact."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from soap_orders.operations import OPERATIONS
from tests.conftest import _migrated
from tests.server import Server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra has it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("service-page")
    running = Server(_migrated(f"sqlite:///{directory / 'orders.sqlite3'}"), directory / "gunicorn.log", workers=1)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def test_the_page_in_chromium(server: Server, browser: object, tmp_path: Path):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        response = page.goto(f"{server.base_url}/", wait_until="load")
        assert response is not None and response.status == 200
        assert page.title().startswith("soap_orders ")

        # Every declared operation has its section, heading and entry in the navigation.
        for operation in OPERATIONS:
            section = page.locator(f"section#op-{operation.name}")
            assert section.count() == 1
            assert section.locator("h2").inner_text().startswith(operation.name)
            assert page.locator(f'nav a[href="#op-{operation.name}"]').count() == 1
        assert page.locator("section.operation").count() == len(OPERATIONS)

        # The WSDL link answers.
        href = page.locator("header a", has_text="WSDL").get_attribute("href")
        assert href is not None and href.endswith("?wsdl")
        wsdl = requests.get(href, timeout=10)
        assert wsdl.status_code == 200 and b"<wsdl:definitions" in wsdl.content
        for label in ("/healthz", "/readyz", "/metrics", "OpenAPI"):
            link = page.locator("header a", has_text=label).first.get_attribute("href")
            assert link and requests.get(server.base_url + link, timeout=10).status_code == 200, label

        # The example envelopes are shown as text: the page has no element from them, and the
        # text of the first request block is the file's content.
        assert page.locator("script").count() == 0
        assert page.locator("xpath=//*[contains(name(), ':')]").count() == 0
        block = page.locator("section#op-CancelOrder pre.code").first
        shown = block.inner_text()
        assert shown.startswith("<?xml") and "<ord:CancelOrder>" in shown
        assert block.locator("*").count() == 0

        shot = tmp_path / "service-page.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        artefacts = os.environ.get("SOAP_ORDERS_ARTIFACTS")
        if artefacts:
            Path(artefacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(artefacts) / "service-page.png")
    finally:
        page.close()
