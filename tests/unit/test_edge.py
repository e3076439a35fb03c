"""Edge rules without I/O: which charsets are text, which xsi:type annotations are removed, the
HTTP status of each refusal, and the bounded drain of a closing connection."""

from __future__ import annotations

import encodings
import encodings.aliases
import pkgutil
import socket
import threading

import pytest
from lxml import etree

from soap_orders.domain.errors import AuthenticationFailed, Forbidden, RateLimited
from soap_orders.http.connection import (
    drain,
    no_credentials,
    refusal_status,
    soap_refusal,
)
from soap_orders.soap.faults import ValidationFault, describe_schema_error
from soap_orders.soap.leniency import XsiTypes
from soap_orders.soap.xml import text_encoding, to_utf8

ALL_CODECS = sorted(
    set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    | {module.name for module in pkgutil.iter_modules(encodings.__path__)}
)
SAMPLES = [
    b'<?xml version="1.0"?><a/>', "<a>\u00e9</a>".encode("utf-8"), b"+2D8-<a/>", b"\xff\xfe\x00\xd8<\x00a\x00/\x00>\x00",
    bytes(range(256)), b"\\ud800<a/>", b"xn--",
]


@pytest.mark.parametrize("codec", ALL_CODECS)
def test_every_codec_python_knows_gives_utf8_or_a_client_fault(codec):
    for sample in SAMPLES:
        try:
            result = to_utf8(sample, codec)
        except ValidationFault as fault:
            assert fault.faultcode == "Client.ValidationError"
            assert fault.fields["ErrorCode"] in ("UNSUPPORTED_CHARSET", "INVALID_ENCODING", "CHARSET_MISMATCH")
            continue
        result.decode("utf-8")  # valid UTF-8, no lone surrogates


@pytest.mark.parametrize("charset", ["base64", "hex", "zlib", "bz2", "uu", "quopri", "rot13", "punycode", "utf-7",
                                     "unicode_escape", "raw_unicode_escape", "idna", "charmap", "x-unknown", "", "\x00"])
def test_binary_transforms_and_escapes_are_not_charsets(charset):
    assert text_encoding(charset) is None


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "utf-16", "utf-16le", "iso-8859-1", "latin1",
                                     "windows-1252", "us-ascii", "shift_jis", "koi8-r"])
def test_real_charsets_are_accepted(charset):
    assert text_encoding(charset) is not None


SCHEMA = b"""<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="urn:soap-orders:orders:v1"><wsdl:types>
  <xs:schema targetNamespace="urn:soap-orders:orders:v1" elementFormDefault="qualified">
    <xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:maxLength value="5"/></xs:restriction></xs:simpleType>
    <xs:simpleType name="Small"><xs:restriction base="tns:Count"><xs:maxInclusive value="9"/></xs:restriction></xs:simpleType>
    <xs:simpleType name="Count"><xs:restriction base="xs:integer"/></xs:simpleType>
    <xs:complexType name="Inner"><xs:sequence><xs:element name="Flag" type="xs:boolean"/></xs:sequence></xs:complexType>
    <xs:complexType name="Op"><xs:sequence>
      <xs:element name="Code" type="tns:Code"/><xs:element name="Small" type="tns:Small"/>
      <xs:element name="When" type="xs:dateTime"/><xs:element name="Day" type="xs:date"/>
      <xs:element name="Price" type="xs:decimal"/><xs:element name="Inner" type="tns:Inner"/>
    </xs:sequence></xs:complexType>
    <xs:element name="Op" type="tns:Op"/>
  </xs:schema></wsdl:types></wsdl:definitions>"""


def _request(**types: str) -> etree._Element:
    fields = "".join(
        f'<o:{name}{f" xsi:type={chr(34)}{types[name]}{chr(34)}" if name in types else ""}>x</o:{name}>'
        for name in ("Code", "Small", "When", "Day", "Price")
    )
    flag = f' xsi:type="{types["Flag"]}"' if "Flag" in types else ""
    return etree.fromstring(
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:soap-orders:orders:v1" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:other="urn:other"><s:Body><o:Op>{fields}<o:Inner><o:Flag{flag}>true</o:Flag></o:Inner></o:Op></s:Body></s:Envelope>'
    )


def _left(root: etree._Element) -> dict[str, str]:
    xsi_type = "{http://www.w3.org/2001/XMLSchema-instance}type"
    return {etree.QName(node).localname: node.get(xsi_type) for node in root.iter() if node.get(xsi_type)}


def test_xsi_type_naming_the_elements_own_built_in_type_is_removed():
    root = _request(Code="xsd:string", Small="xsd:int", When="xsd:dateTime", Day="xsd:date", Price="xsd:decimal",
                    Flag="xsd:boolean")
    XsiTypes(SCHEMA).strip(root)
    assert _left(root) == {}
    root = _request(Code="xsd:token", Small="xsd:integer", Price="xsd:int")
    XsiTypes(SCHEMA).strip(root)
    assert _left(root) == {}


def test_any_other_xsi_type_is_left_for_validation_to_refuse():
    wrong = {"Code": "xsd:int", "Small": "xsd:string", "When": "xsd:date", "Day": "xsd:dateTime", "Price": "xsd:boolean",
             "Flag": "xsd:string"}
    root = _request(**wrong)
    XsiTypes(SCHEMA).strip(root)
    assert _left(root) == wrong
    foreign = {"Code": "other:string", "Small": "o:Count", "Day": "nope:date"}
    root = _request(**foreign)
    XsiTypes(SCHEMA).strip(root)
    assert _left(root) == foreign


def test_a_remaining_xsi_type_is_named_in_the_fault_message():
    text = ("Element '{urn:soap-orders:orders:v1}OrderNumber', attribute '{http://www.w3.org/2001/XMLSchema-instance}type': "
            "The type definition '{http://www.w3.org/2001/XMLSchema}int', specified by xsi:type, is blocked or not validly "
            "derived from the type definition of the element declaration.")
    message = describe_schema_error(text)
    assert "xsi:type" in message and "XMLSchema}int" not in message


def test_refusals_of_soap_calls_are_faults_on_500_with_retry_after_when_throttled():
    assert soap_refusal(AuthenticationFailed("wrong secret")) == ("500 Internal Server Error", [])
    assert soap_refusal(Forbidden("no")) == ("500 Internal Server Error", [])
    assert soap_refusal(RateLimited(300)) == ("500 Internal Server Error", [("Retry-After", "300")])
    status, headers = no_credentials()
    assert status == "401 Unauthorized"
    assert [value.split()[0] for name, value in headers if name == "WWW-Authenticate"] == ["Basic", "Bearer"]


def test_other_refusals_keep_http_statuses():
    assert refusal_status(AuthenticationFailed("x"))[0] == "401 Unauthorized"
    assert refusal_status(Forbidden("x")) == ("403 Forbidden", [])
    assert refusal_status(RateLimited(60)) == ("429 Too Many Requests", [("Retry-After", "60")])


def test_drain_shuts_writes_and_drops_a_bounded_amount():
    server, client = socket.socketpair()
    with server, client:
        sender = threading.Thread(target=lambda: client.sendall(b"x" * 10_000))
        sender.start()
        assert drain(server, limit=4096, seconds=5.0) == 4096
        sender.join(timeout=5)  # still sending into the buffer: fine, the drain stopped at its limit
        assert client.recv(10) == b""  # the server side sent FIN: the client reads the end of the stream
