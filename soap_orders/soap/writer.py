"""Answers written straight from the document descriptions (``documents.xml``), without spyne's
generic serializer; spyne still writes faults."""

from __future__ import annotations

from typing import Any

from ..documents import Document
from ..documents.xml import document_writer
from .ns import SOAP11_ENV, TNS

_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<soap11env:Envelope xmlns:soap11env="{SOAP11_ENV}" xmlns:tns="{TNS}"><soap11env:Body>'
)
_TAIL = "</soap11env:Body></soap11env:Envelope>"


def answer_envelope(answer: Document, result: Any) -> bytes:
    """The whole SOAP response for an operation's answer (``answer.type_name`` is its wrapper)."""
    out = [_HEAD]
    document_writer(answer)(result, None, out)
    out.append(_TAIL)
    return "".join(out).encode("utf-8")
