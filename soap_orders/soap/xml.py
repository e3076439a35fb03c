"""The one place untrusted XML is parsed: no DTD, no entities, no network, no XInclude, no
SOAP-encoding multi-references; bounded nesting (libxml2's 256 levels) and element count."""

from __future__ import annotations

import codecs
import re

from lxml import etree

from .faults import ValidationFault

#: Most elements a request may hold; the largest valid request (a 100-line refund) has ~400.
MAX_ELEMENTS = 5_000
XINCLUDE = "http://www.w3.org/2001/XInclude"
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


#: How every untrusted document is parsed, requests and imported files alike.
SAFE_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,  # keeps libxml2's limits on depth (256) and text size
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_PARSER_OPTIONS)


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


def _declares_a_dtd(data: bytes) -> bool:
    """Whether the prologue (everything before the root element) holds a DOCTYPE, found before
    libxml2 reads it; a body in UTF-16 or UTF-32 without an HTTP charset is looked at decoded."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        for codec in ("utf-16", "utf-32"):
            try:
                data = data.decode(codec).encode("utf-8")
                break
            except UnicodeDecodeError:
                continue
    # Walk the prologue: whitespace, processing instructions and comments, up to the first markup
    # that is none of those (the root element, or a declaration).
    position = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while position < len(data) and data[position] in b" \t\r\n":
            position += 1
        for opener, closer in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if data.startswith(opener, position):
                end = data.find(closer, position + len(opener))
                if end < 0:
                    return False  # unterminated: the parser reports it
                position = end + len(closer)
                break
        else:
            return data.startswith((b"<!DOCTYPE", b"<!ENTITY"), position)


def parse_xml(data: bytes) -> etree._Element:
    """Parse a request body, refusing any document type declaration before anything else."""
    if not data.strip():
        raise _refuse("The request body is empty.", "EMPTY_BODY")
    if _declares_a_dtd(data):
        raise _refuse("Document type declarations are not allowed.", "DTD_FORBIDDEN")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise _refuse(describe_syntax_error(str(error)), "MALFORMED_XML") from None
    except ValueError:
        raise _refuse("The request is not well-formed XML.", "MALFORMED_XML") from None
    if root.getroottree().docinfo.doctype:
        raise _refuse("Document type declarations are not allowed.", "DTD_FORBIDDEN")
    count = 0
    for node in root.iter():
        count += 1
        if count > MAX_ELEMENTS:
            raise _refuse(f"The request has more than {MAX_ELEMENTS} elements.", "TOO_MANY_ELEMENTS")
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith("{" + XINCLUDE + "}"):
            raise _refuse("XInclude is not allowed.", "XINCLUDE_FORBIDDEN")
        if "href" in node.attrib or "id" in node.attrib:
            raise _refuse("SOAP-encoding references (href/id) are not allowed; send document/literal.", "MULTIREF_FORBIDDEN")
    return root


_SYNTAX = (
    ("Excessive depth", "The request is nested too deeply."),
    ("Unsupported encoding", "The request declares an unsupported character encoding."),
    ("Invalid bytes in character encoding", "The request is not valid in its character encoding."),
    ("not proper UTF-8", "The request is not valid UTF-8."),
    ("invalid Char value", "The request contains a character XML does not allow."),
    ("Char 0x", "The request contains a character XML does not allow."),
    ("Document is empty", "The request body is empty."),
    ("Premature end of data", "The request ends before the XML is complete."),
    ("EndTag", "The request ends before the XML is complete."),
)


def describe_syntax_error(text: str) -> str:
    """A bounded sentence for an lxml syntax error: the kind of problem and where, never the input."""
    position = re.search(r"line (\d+), column (\d+)", text)
    where = f" (line {position.group(1)}, column {position.group(2)})" if position else ""
    for marker, sentence in _SYNTAX:
        if marker in text:
            return sentence[:-1] + where + "."
    return f"The request is not well-formed XML{where}."
