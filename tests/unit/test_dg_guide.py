"""Every operation has its entry in the consumer's guide (contrib/DG-ACTIONS.md), and each entry
agrees with the declaration on what the declaration says: SOAPAction, scope, the request's
elements and the response element. A missing entry fails with the skeleton to start it from."""

from __future__ import annotations

import re

from lxml import etree

from soap_orders.operations import BY_NAME, OPERATIONS
from tests.dg_guide import GUIDE, entries, problems, skeleton, template_elements

SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def test_every_operation_has_its_entry_in_the_guide():
    written = entries(GUIDE.read_text())
    missing = [operation for operation in OPERATIONS if operation.name not in written]
    assert not missing, "Add to contrib/DG-ACTIONS.md, and write what is marked WRITE:\n\n" + "\n".join(
        skeleton(operation) for operation in missing
    )


def test_every_entry_agrees_with_its_declaration():
    written = entries(GUIDE.read_text())
    found = {name: problems(BY_NAME[name], entry) for name, entry in written.items() if name in BY_NAME}
    assert found and not any(found.values()), {name: p for name, p in found.items() if p}


def test_a_disagreeing_entry_is_found_out():
    entry = entries(GUIDE.read_text())["CancelOrder"]
    assert problems(BY_NAME["CancelOrder"], entry) == []
    assert problems(BY_NAME["CancelOrder"], entry.replace("scope `orders:act`", "scope `orders:read`"))
    assert problems(BY_NAME["GetOrder"], entry)  # another operation's entry
    reordered = entry.replace("<ord:Reason>CUSTOMER</ord:Reason>", "").replace(
        "<ord:OrderNumber>", "<ord:Reason>CUSTOMER</ord:Reason>\n      <ord:OrderNumber>")
    assert any("declared order" in p for p in problems(BY_NAME["CancelOrder"], reordered))
    dropped = entry.replace("<ord:RequestId>{{request_id}}</ord:RequestId>", "")
    assert any("RequestId" in p for p in problems(BY_NAME["CancelOrder"], dropped))


def test_the_skeleton_of_every_operation_is_an_entry_that_agrees_with_it():
    for operation in OPERATIONS:
        text = skeleton(operation)
        (entry,) = entries(text).values()
        assert problems(operation, entry) == [], operation.name
        declared = [f.name for f in operation.request if not (f.derived or f.internal)]
        assert template_elements(entry) == declared, operation.name
        (template,) = re.findall(r"```xml\n(.*?)```", text, re.DOTALL)
        envelope = etree.fromstring(re.sub(r"\{\{\w+\}\}", "x", template).encode())  # well-formed
        (element,) = list(envelope.find(SOAP_BODY))
        assert etree.QName(element).localname == operation.name
        assert text.count("WRITE") == 2, operation.name  # what only a person can write is marked
