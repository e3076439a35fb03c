"""The deployment kit in contrib/ agrees with the code: every setting, the consumer's addresses,
the gunicorn settings, and a SoapUI project with one request per golden example."""

from __future__ import annotations

import configparser
import importlib.util
import re
from pathlib import Path

from lxml import etree

from soap_orders import gunicorn_conf
from soap_orders.config import Settings
from soap_orders.domain.clients import PRESETS

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
CON = "{http://eviware.com/soapui/config}"


def variables_read_by_config() -> set[str]:
    """Every variable ``Settings.from_env`` asks for, recorded while it reads an empty environment."""
    from soap_orders.config import Settings

    asked: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            asked.add(key)
            return default

    Settings.from_env(Recording())
    assert len(asked) >= 15
    return {name for name in asked if name.startswith("SOAP_ORDERS_")}


def env_example() -> dict[str, str]:
    values = {}
    for line in (CONTRIB / "soap-orders.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_environment_file_lists_every_variable_with_a_comment():
    example = env_example()
    assert set(example) == variables_read_by_config()
    text = (CONTRIB / "soap-orders.env.example").read_text().splitlines()
    for name in example:
        index = next(i for i, line in enumerate(text) if line.startswith(name + "="))
        assert text[index - 1].startswith("#"), f"{name} has no comment"


def test_the_environment_file_is_a_valid_configuration():
    settings = Settings.from_env(env_example())
    assert settings.public_url == "https://orders.example.com/soap"
    assert settings.allowlist == ("dg-us", "dg-eu", "dg-test") and settings.log_format == "json"


def test_nginx_allows_exactly_the_consumers_published_addresses():
    site = (CONTRIB / "nginx-soap-orders.conf").read_text()
    # The server's own list (its locations for calls inherit it; health and metrics have their own).
    server = site[site.index("listen 443 ssl http2;"):site.index("location = /soap {")]
    allowed = set(re.findall(r"^\s*allow\s+([0-9.]+);", server, re.MULTILINE))
    assert allowed == {network.removesuffix("/32") for networks in PRESETS.values() for network in networks}
    assert "deny all;" in server
    calls = site[site.index("location = /soap {"):site.index("location = /health")]
    assert "allow " not in calls and "deny " not in calls
    assert site.count("{") == site.count("}")
    size = re.search(r"client_max_body_size\s+(\d+)k;", site)
    assert size and int(size.group(1)) * 1024 >= Settings().max_body
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site and "ssl_certificate " in site


def test_the_systemd_unit_runs_the_service_with_the_environment_file():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((CONTRIB / "soap-orders.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"].endswith("soap-orders serve")
    assert "ExecStartPre" not in service  # migrations: contrib/soap-orders-migrate.service, once per release
    assert service["EnvironmentFile"].endswith("soap-orders.env")
    assert service["User"] != "root" and unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_contrib_gunicorn_file_is_the_packages_settings():
    spec = importlib.util.spec_from_file_location("contrib_gunicorn_conf", CONTRIB / "gunicorn.conf.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("worker_class", "threads", "timeout", "max_requests", "limit_request_line", "accesslog",
                 "logger_class", "post_worker_init"):
        assert getattr(module, name) == getattr(gunicorn_conf, name), name
    assert gunicorn_conf.accesslog is None  # the application writes the access log


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("soapui_project", CONTRIB / "soapui_project.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_soapui_project_has_one_request_per_golden_example():
    project = etree.parse(str(CONTRIB / "soap-orders-soapui-project.xml")).getroot()  # well-formed, or this raises
    assert project.tag == f"{CON}soapui-project"
    examples = {p.name.removesuffix("-request.xml"): p for p in (ROOT / "wsdl" / "examples").glob("*-request.xml")}
    calls = {call.get("name"): call for call in project.iter(f"{CON}call")}
    assert set(calls) == set(examples)
    for name, call in calls.items():
        operation = call.getparent()
        assert operation.get("name") == name.split("-")[0] == operation.get("action")
        sent = etree.fromstring(call.findtext(f"{CON}request").encode())
        assert etree.tostring(sent, method="c14n") == etree.tostring(etree.parse(str(examples[name])).getroot(), method="c14n")
        assert call.findtext(f"{CON}credentials/{CON}password") == "${#Project#secret}"
    cached = project.findtext(f".//{CON}definitionCache/{CON}part/{CON}content")
    assert etree.tostring(etree.fromstring(cached.encode()), method="c14n") == etree.tostring(
        etree.parse(str(ROOT / "wsdl" / "orders.wsdl")).getroot(), method="c14n")


def test_the_committed_soapui_project_is_what_the_generator_writes():
    generator = load_generator()
    regenerated = generator.build_project(generator.WSDL.read_bytes(), generator.golden_requests())
    assert regenerated == (CONTRIB / "soap-orders-soapui-project.xml").read_bytes(), (
        "run .venv/bin/python contrib/soapui_project.py")


def test_the_dg_action_templates_are_envelopes_the_operations_accept():
    from soap_orders.check import EXPECTED as OPERATIONS

    guide = (CONTRIB / "DG-ACTIONS.md").read_text()
    templates = re.findall(r"```xml\n(.*?)```", guide, re.DOTALL)
    seen = set()
    for template in templates:
        filled = re.sub(r"\{\{(\w+)\}\}", "x", template)
        envelope = etree.fromstring(filled.encode())  # well-formed, or this raises
        body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        (operation,) = list(body)
        name = etree.QName(operation).localname
        children = [etree.QName(child).localname for child in operation]
        order = OPERATIONS[name]
        assert [c for c in order if c in children] == children, f"{name}: elements out of order or unknown"
        assert f'SOAPAction: `"{name}"`' in guide
        seen.add(name)
    assert seen == set(OPERATIONS)
