"""contrib/nginx-soap-orders.conf with Debian's nginx: ``nginx -t`` accepts the shipped site, and a
real nginx with it, on 127.0.0.1, in front of a real server, proxies calls, speaks the TLS profile
and HTTP/2 it promises, and answers what it refuses or cannot get an answer for (403, 413, 502,
504) with a SOAP fault on /soap and JSON on /json, never with its HTML pages.

The site is used as shipped, with only what a test host must differ in replaced, each replacement
counted (``site_for_test``): the certificate (made now, for 127.0.0.1), the log file, the listening
ports, the upstream's port, this host's address allowed (127.0.0.2 stays refused) and, for the
504 only, a short read timeout. nginx runs in the foreground from a configuration of its own in
the test's directory and is stopped by the test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from soap_orders.domain.error_kinds import PAYLOAD_TOO_LARGE
from soap_orders.soap.application import fault_envelope
from soap_orders.soap.faults import (
    ForbiddenFault,
    OrdersFault,
    UnavailableFault,
    ValidationFault,
)
from tests.conftest import _database
from tests.server import ROOT, Server, free_port

pytestmark = pytest.mark.slow

SITE = ROOT / "contrib" / "nginx-soap-orders.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx; "
                                                       ".ci/run installs it)")
SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
TNS = "{urn:soap-orders:orders:v1}"
#: Mozilla's intermediate profile (guidelines 6.0): the TLS 1.2 suites, by OpenSSL name.
INTERMEDIATE_TLS12 = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                      "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"}
#: What nginx answers by itself, as the service would answer it.
OWN_FAULTS = {
    400: ValidationFault("The HTTP request is malformed (400 Bad Request).", error_code="BAD_HTTP_REQUEST"),
    403: ForbiddenFault("Calls are not accepted from this address."),
    408: ValidationFault("The request body did not arrive in time.", error_code="REQUEST_TIMEOUT"),
    413: OrdersFault.of(PAYLOAD_TOO_LARGE, "The request body is larger than the limit of 307200 bytes."),
    502: UnavailableFault(),
    503: UnavailableFault(),
    504: UnavailableFault(),
}


def replaced(text: str, old: str, new: str, times: int = 1) -> str:
    assert text.count(old) == times, f"the shipped site no longer has {times} x {old!r}"
    return text.replace(old, new)


def site_for_test(directory: Path, *, https: int = 443, http: int = 80, upstream: int = 8000,
              read_timeout: str | None = None, local: bool = False) -> Path:
    """The shipped site with a test host's certificate and log (and, for a live nginx, ports, the
    local client allowed, a short read timeout)."""
    site = SITE.read_text()
    site = replaced(site, "/etc/letsencrypt/live/orders.example.com/fullchain.pem", str(directory / "cert.pem"))
    site = replaced(site, "/etc/letsencrypt/live/orders.example.com/privkey.pem", str(directory / "key.pem"))
    site = replaced(site, "/var/log/nginx/soap-orders.access.log", str(directory / "access.log"))
    if local:
        site = replaced(site, "    listen 80;\n", f"    listen 127.0.0.1:{http};\n")
        site = replaced(site, "    listen [::]:80;\n", "")
        site = replaced(site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https} ssl http2;\n")
        site = replaced(site, "    listen [::]:443 ssl http2;\n", "")
        site = replaced(site, "    server 127.0.0.1:8000;\n", f"    server 127.0.0.1:{upstream};\n")
        site = replaced(site, "    # allow 203.0.113.0/24; # e.g. your ERP\n", "    allow 127.0.0.1;\n")
    if read_timeout:
        site = replaced(site, "proxy_read_timeout 35s;", f"proxy_read_timeout {read_timeout};")
    path = directory / "site.conf"
    path.write_text(site)
    return path


def certificate(directory: Path) -> Path:
    """A self-signed ECDSA certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return directory / "cert.pem"


def main_config(directory: Path, site: Path) -> Path:
    """An nginx.conf of the test's own that includes the site (temporary files and pid kept here)."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / name).mkdir(exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers write request bodies under the test's directory
    config = directory / "nginx.conf"
    config.write_text(f"""{user}worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {directory / "body"};
    proxy_temp_path {directory / "proxy"};
    fastcgi_temp_path {directory / "fastcgi"};
    uwsgi_temp_path {directory / "uwsgi"};
    scgi_temp_path {directory / "scgi"};
    include {site};
}}
""")
    return config


def nginx(directory: Path, config: Path, *args: str) -> list[str]:
    assert NGINX is not None
    return [NGINX, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log"), *args]


@needs_nginx
def test_nginx_t_accepts_the_shipped_site(tmp_path):
    certificate(tmp_path)
    config = main_config(tmp_path, site_for_test(tmp_path))
    checked = subprocess.run(nginx(tmp_path, config, "-t"), capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
    # nginx 1.25.1 and later warn that "listen ... http2" is deprecated; nothing else may warn.
    warnings = [line for line in checked.stderr.splitlines() if "[warn]" in line or "[emerg]" in line]
    assert all('"http2" directive is deprecated' in line for line in warnings), warnings


def named_locations() -> dict[str, tuple[int, str, str]]:
    """The site's error locations: name -> (status, content type, body)."""
    found = re.findall(r'location @(\w+) \{\s*allow all;\s*default_type (?:"([^"]+)"|([^;\s]+));\s*'
                       r"return (\d+) '([^']*)';\s*\}", SITE.read_text())
    return {name: (int(status), quoted or bare, body) for name, quoted, bare, status, body in found}


def test_the_sites_own_refusals_are_the_services_faults_and_errors():
    locations = named_locations()
    assert {n for n in locations if n.startswith("soap_")} == {f"soap_{s}" for s in OWN_FAULTS}
    assert {n for n in locations if n.startswith("json_")} == {f"json_{s}" for s in OWN_FAULTS if s != 400}
    for name, (status, kind, body) in locations.items():
        flavour, _, number = name.partition("_")
        assert status == int(number)
        fault = OWN_FAULTS[status]
        if flavour == "soap":
            assert kind == "text/xml; charset=utf-8"
            expected = etree.fromstring(fault_envelope(fault))
            assert etree.tostring(etree.fromstring(body.encode()), method="c14n") == etree.tostring(expected, method="c14n")
        else:
            assert kind == "application/json"
            assert json.loads(body) == {"ErrorCode": fault.code, "Message": fault.message, "Retryable": fault.retryable}
    # Every error_page names one of them.
    for status, target in re.findall(r"error_page (\d+) @(\w+);", SITE.read_text()):
        assert target in locations and locations[target][0] == int(status)


@contextmanager
def running_nginx(directory: Path, **site: object) -> Iterator[tuple[int, int]]:
    """nginx with the test site, in the foreground; yields its HTTPS and HTTP ports."""
    https, http = free_port(), free_port()
    certificate(directory)
    config = main_config(directory, site_for_test(directory, https=https, http=http, local=True, **site))  # type: ignore[arg-type]
    log = (directory / "nginx.out").open("wb")
    process = subprocess.Popen(nginx(directory, config, "-g", "daemon off;"), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, (directory / "error.log").read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", https), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
        yield https, http
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def fault_of(answer: requests.Response) -> dict[str, str]:
    assert answer.headers["Content-Type"].startswith("text/xml"), answer.text[:200]
    envelope = etree.fromstring(answer.content)
    fault = envelope.find(f"{SOAP_ENV}Body/{SOAP_ENV}Fault")
    assert fault is not None
    detail = fault.find(f"detail/{TNS}FaultDetail")
    return {"faultcode": fault.findtext("faultcode").split(":")[-1],
            **{child.tag.removeprefix(TNS): child.text for child in detail}}


def error_of(answer: requests.Response) -> dict[str, object]:
    assert answer.headers["Content-Type"] == "application/json", answer.text[:200]
    return answer.json()


GET_ORDER = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:soap-orders:orders:v1">'
             '<s:Body><o:GetOrder><o:OrderNumber>SO-404404</o:OrderNumber></o:GetOrder></s:Body></s:Envelope>')


def post_from(address: str, port: int, path: str, body: bytes, content_type: str, cert: Path) -> tuple[int, str, bytes]:
    """A POST over TLS from a given local address (127.0.0.2 is loopback too, and not allowed)."""
    import http.client

    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context,
                                             source_address=(address, 0))
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type") or "", answer.read()
    finally:
        connection.close()


@needs_nginx
def test_a_real_nginx_in_front_of_a_real_server(tmp_path):
    server = Server(_database("sqlite", tmp_path, "nginx"), tmp_path / "gunicorn.log",
                    extra_env={"SOAP_ORDERS_TRUSTED_PROXIES": "127.0.0.1/32"})
    directory = tmp_path / "nginx"
    directory.mkdir()
    try:
        with running_nginx(directory, upstream=server.port) as (https, http), requests.Session() as session:
            cert = directory / "cert.pem"
            session.verify = str(cert)
            session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test's certificate
            base = f"https://127.0.0.1:{https}"
            # Proxied: the WSDL, a SOAP call (the service's own fault) and the request id through both.
            assert b"wsdl:definitions" in session.get(f"{base}/soap?wsdl", timeout=10).content
            called = session.post(f"{base}/soap", data=GET_ORDER, auth=server.credentials, timeout=10,
                                  headers={"Content-Type": "text/xml; charset=utf-8", "X-Request-ID": "via-nginx-1"})
            assert called.status_code == 500 and fault_of(called)["ErrorCode"] == "ORDER_NOT_FOUND"
            assert called.headers["X-Request-Id"] == "via-nginx-1"
            assert called.headers["Strict-Transport-Security"] == "max-age=63072000" and "nginx/" not in called.headers["Server"]
            redirect = session.get(f"http://127.0.0.1:{http}/soap?wsdl", allow_redirects=False, timeout=10)
            assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")

            # Bodies over the service's limit but under nginx's: the service's own 413.
            padded = GET_ORDER.replace("<s:Body>", "<s:Body><!--" + "x" * 280_000 + "-->")
            own = session.post(f"{base}/soap", data=padded, auth=server.credentials, timeout=10,
                               headers={"Content-Type": "text/xml"})
            assert own.status_code == 413 and "262144 bytes" in fault_of(own)["Message"]
            # Over nginx's limit: nginx's 413, in the caller's form.
            huge = "x" * 400_000
            soap_413 = session.post(f"{base}/soap", data=huge, timeout=10, headers={"Content-Type": "text/xml"})
            assert soap_413.status_code == 413
            assert fault_of(soap_413) == {"faultcode": "Client.ValidationError", "ErrorCode": "PAYLOAD_TOO_LARGE",
                                          "Message": OWN_FAULTS[413].message, "Retryable": "false"}
            json_413 = session.post(f"{base}/json/GetOrder", data=huge, timeout=10,
                                    headers={"Content-Type": "application/json"})
            assert json_413.status_code == 413 and error_of(json_413)["ErrorCode"] == "PAYLOAD_TOO_LARGE"

            # An address outside the allowed ones.
            status, kind, body = post_from("127.0.0.2", https, "/soap", GET_ORDER.encode(), "text/xml", cert)
            assert (status, kind) == (403, "text/xml; charset=utf-8") and b"<tns:ErrorCode>FORBIDDEN<" in body
            status, kind, body = post_from("127.0.0.2", https, "/json/GetOrder", b"{}", "application/json", cert)
            assert (status, kind) == (403, "application/json") and json.loads(body)["ErrorCode"] == "FORBIDDEN"

            # TLS: 1.3, and 1.2 only with the profile's suites; HTTP/2 offered.
            assert negotiated(https, cert, ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
            version, suite, _ = negotiated(https, cert, ssl.TLSVersion.TLSv1_2)
            assert version == "TLSv1.2" and suite in INTERMEDIATE_TLS12
            with pytest.raises(ssl.SSLError):
                negotiated(https, cert, ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA256:AES256-GCM-SHA384")
            assert negotiated(https, cert, ssl.TLSVersion.TLSv1_3, alpn=["h2", "http/1.1"])[2] == "h2"

            # No instance answering: 502.
            server.stop()
            soap_502 = session.post(f"{base}/soap", data=GET_ORDER, timeout=10, headers={"Content-Type": "text/xml"})
            assert soap_502.status_code == 502 and fault_of(soap_502) == {
                "faultcode": "Server.Unavailable", "ErrorCode": "UNAVAILABLE",
                "Message": UnavailableFault().message, "Retryable": "true"}
            json_502 = session.post(f"{base}/json/GetOrder", json={"OrderNumber": "SO-1"}, timeout=10)
            assert json_502.status_code == 502 and error_of(json_502) == {
                "ErrorCode": "UNAVAILABLE", "Message": UnavailableFault().message, "Retryable": True}
    finally:
        server.stop()


@needs_nginx
def test_an_instance_that_does_not_answer_in_time_is_a_504_in_the_callers_form(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing is ever read or answered
    try:
        with running_nginx(tmp_path, upstream=silent.getsockname()[1], read_timeout="1s") as (https, _):
            base = f"https://127.0.0.1:{https}"
            with requests.Session() as session:
                session.verify = str(tmp_path / "cert.pem")
                session.trust_env = False
                soap = session.post(f"{base}/soap", data=GET_ORDER, timeout=15, headers={"Content-Type": "text/xml"})
                assert soap.status_code == 504 and fault_of(soap)["faultcode"] == "Server.Unavailable"
                as_json = session.post(f"{base}/json/GetOrder", json={"OrderNumber": "SO-1"}, timeout=15)
                assert as_json.status_code == 504 and error_of(as_json)["Retryable"] is True
    finally:
        silent.close()


def negotiated(port: int, cert: Path, version: ssl.TLSVersion, *, ciphers: str | None = None,
               alpn: list[str] | None = None) -> tuple[str, str, str | None]:
    """The TLS version, suite and ALPN protocol a client limited to ``version`` gets."""
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    if alpn:
        context.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        cipher = tls.cipher()
        return str(tls.version()), cipher[0] if cipher else "", tls.selected_alpn_protocol()
