"""A request body as the SOAP endpoint reads it: the HTTP charset honoured and checked, then
parsed by ``soap_orders.xmlsafe``, whose refusals become ``Client.ValidationError`` faults."""

from __future__ import annotations

import codecs
import re

from lxml import etree

from .. import xmlsafe
from .faults import ValidationFault

_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _refuse(message: str, code: str) -> ValidationFault:
    return ValidationFault(message, error_code=code)


def to_utf8(data: bytes, charset: str | None) -> bytes:
    """The body as UTF-8, honouring the HTTP charset; refuses unknown, lying or disagreeing ones."""
    if not charset:
        return data
    codec = text_encoding(charset)
    if codec is None:
        raise _refuse("The Content-Type charset is not a supported character encoding.", "UNSUPPORTED_CHARSET")
    try:
        text = data.decode(codec)
        text.encode("utf-8")  # lone surrogates (a UTF-16 or UTF-32 body can decode to them) are not text
    except (UnicodeError, ValueError):
        raise _refuse(f"The body is not valid {codec} as its Content-Type says.", "INVALID_ENCODING") from None
    declared = _DECLARED_ENCODING.match(text.encode("utf-8", "replace"))
    if declared:
        try:
            agrees = codecs.lookup(declared.group(1).decode("ascii")).name == codec
        except LookupError:
            agrees = False
        if not agrees:
            raise _refuse("The XML declaration's encoding disagrees with the Content-Type charset.", "CHARSET_MISMATCH")
    if codec == "utf-8":
        return data
    return _DECLARATION.sub("", text, count=1).encode("utf-8")


#: Codecs Python has that are not character sets a document may be sent in: escapes, IDNA,
#: punycode, UTF-7 (which smuggles markup past byte-level checks) and the like.
_NOT_CHARSETS = frozenset({
    "idna", "punycode", "utf-7", "unicode-escape", "raw-unicode-escape", "undefined", "unicode-internal",
    "mbcs", "oem", "palmos", "charmap",
})


def text_encoding(charset: str) -> str | None:
    """The codec name of ``charset`` when it is a character encoding a body may use, else None:
    binary transforms (base64, hex, zlib, bz2, uu, quopri, rot13) and Python's escape codecs are not."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError, TypeError):
        return None
    name = info.name.replace("_", "-").lower()
    if not getattr(info, "_is_text_encoding", True) or name in _NOT_CHARSETS:
        return None
    return info.name


def parse_xml(data: bytes) -> etree._Element:
    """Parse a request body (see ``xmlsafe.parse``); a refusal is a validation fault."""
    try:
        return xmlsafe.parse(data)
    except xmlsafe.XmlRefused as refused:
        raise _refuse(refused.message, refused.code) from None
