"""The one place untrusted XML is parsed: no DTD, no entities, no network, bounded nesting."""

from __future__ import annotations

from lxml import etree

from .faults import ValidationFault, describe_syntax_error


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,  # keeps libxml2's limits on depth and text size
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse a request body, refusing any document type declaration before anything else."""
    if not data.strip():
        raise ValidationFault("The request body is empty.", error_code="EMPTY_BODY")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise ValidationFault("Document type declarations are not allowed.", error_code="DTD_FORBIDDEN")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise ValidationFault(describe_syntax_error(str(error)), error_code="MALFORMED_XML") from None
    except ValueError:
        raise ValidationFault("The request is not well-formed XML.", error_code="MALFORMED_XML") from None
    if root.getroottree().docinfo.doctype:
        raise ValidationFault("Document type declarations are not allowed.", error_code="DTD_FORBIDDEN")
    return root
