"""What a request envelope must be before an operation is looked up: SOAP 1.1, one operation in
the Body, no header this service must understand but does not, and a SOAPAction (when sent) that
names the same operation as the Body. spyne itself ignores SOAPAction and routes by the Body."""

from __future__ import annotations

import re

from lxml import etree

from .faults import MustUnderstandFault, ValidationFault, VersionMismatchFault
from .ns import SOAP11_ENV, WSSE

#: Headers this service processes, and so may be marked mustUnderstand.
UNDERSTOOD_HEADERS = frozenset({f"{{{WSSE}}}Security"})
_TRUE = ("1", "true")


def check_envelope(root: etree._Element, soap_action: str | None) -> None:
    if etree.QName(root).localname == "Envelope" and root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise VersionMismatchFault(f"This endpoint speaks SOAP 1.1 only: use the envelope namespace {SOAP11_ENV}.")
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise ValidationFault("The request is not a SOAP Envelope.", error_code="NOT_AN_ENVELOPE")
    parts = [child for child in root if isinstance(child.tag, str)]
    names = [child.tag for child in parts]
    if names not in ([f"{{{SOAP11_ENV}}}Body"], [f"{{{SOAP11_ENV}}}Header", f"{{{SOAP11_ENV}}}Body"]):
        raise ValidationFault("The Envelope must hold an optional Header and then one Body.", error_code="INVALID_ENVELOPE")
    if len(parts) == 2:
        for header in parts[0]:
            if not isinstance(header.tag, str):
                continue
            if header.get(f"{{{SOAP11_ENV}}}mustUnderstand", "0").strip() in _TRUE and header.tag not in UNDERSTOOD_HEADERS:
                raise MustUnderstandFault("A header marked mustUnderstand is not one this service processes.")
    operations = [child for child in parts[-1] if isinstance(child.tag, str)]
    if len(operations) != 1:
        raise ValidationFault("The Body must hold exactly one operation element.", error_code="INVALID_BODY")
    action = (soap_action or "").strip().strip('"').strip()
    if action and re.split(r"[/#:]", action)[-1] != etree.QName(operations[0]).localname:
        raise ValidationFault("The SOAPAction header names another operation than the Body.", error_code="SOAPACTION_MISMATCH")
