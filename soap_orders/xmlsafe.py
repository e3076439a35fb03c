"""The one place untrusted XML is parsed, requests and imported files alike: no DTD, no
entities, no network, no XInclude, no SOAP-encoding multi-references; bounded nesting (libxml2's
256 levels) and element count. Refusals are ``XmlRefused`` errors with a code and a bounded
message; the SOAP layer answers them as faults, the importer reports them as record errors."""

from __future__ import annotations

import re

from lxml import etree

#: Most elements a request may hold; the largest valid request (a 100-line refund) has ~400.
MAX_ELEMENTS = 5_000
XINCLUDE = "http://www.w3.org/2001/XInclude"

#: How every untrusted document is parsed.
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


class XmlRefused(Exception):
    """A document this service will not read; ``code`` is the published ErrorCode."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class DoctypeRefused(XmlRefused):
    def __init__(self) -> None:
        super().__init__("Document type declarations are not allowed.", "DTD_FORBIDDEN")


def parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_PARSER_OPTIONS)


def pull_parser(events: tuple[str, ...] = ("end",)) -> etree.XMLPullParser:
    """An incremental parser with the same options, for files read as a stream."""
    return etree.XMLPullParser(events=events, **SAFE_PARSER_OPTIONS)


def check_tree(tree: etree._ElementTree) -> None:
    """Refuse a parsed document that carries a document type declaration."""
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DoctypeRefused()


def declares_a_dtd(data: bytes) -> bool:
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


def parse(data: bytes) -> etree._Element:
    """Parse a whole document, refusing any document type declaration before anything else."""
    if not data.strip():
        raise XmlRefused("The request body is empty.", "EMPTY_BODY")
    if declares_a_dtd(data):
        raise DoctypeRefused()
    try:
        root = etree.fromstring(data, parser=parser())
    except etree.XMLSyntaxError as error:
        raise XmlRefused(describe_syntax_error(str(error)), "MALFORMED_XML") from None
    except ValueError:
        raise XmlRefused("The request is not well-formed XML.", "MALFORMED_XML") from None
    check_tree(root.getroottree())
    count = 0
    for node in root.iter():
        count += 1
        if count > MAX_ELEMENTS:
            raise XmlRefused(f"The request has more than {MAX_ELEMENTS} elements.", "TOO_MANY_ELEMENTS")
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith("{" + XINCLUDE + "}"):
            raise XmlRefused("XInclude is not allowed.", "XINCLUDE_FORBIDDEN")
        if "href" in node.attrib or "id" in node.attrib:
            raise XmlRefused("SOAP-encoding references (href/id) are not allowed; send document/literal.", "MULTIREF_FORBIDDEN")
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
