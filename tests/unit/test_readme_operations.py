"""The README's table of operations is what the declarations say: every declared operation, its
scope, its request elements (optional ones in brackets), the Outcomes and ReasonCodes its
documentation names, and the operation-specific faults.

After changing a declaration, ``.venv/bin/python -m tests.unit.test_readme_operations`` prints the
table to paste into the README."""

from __future__ import annotations

import re
from pathlib import Path

from soap_orders.domain.orders import Outcome, ReasonCode
from soap_orders.operations import OPERATIONS, Operation

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| operation | scope | in | Outcome | ReasonCode when `REJECTED` (or per line) | faults of its own |"
TOKEN = re.compile(r"\b[A-Z][A-Z_]+\b")


def _in_order(tokens: list[str], allowed: set[str]) -> list[str]:
    return list(dict.fromkeys(token for token in tokens if token in allowed))


def outcomes(operation: Operation) -> list[str]:
    """The Outcomes named in the sentence "Outcome is ..." of the documentation, in its order."""
    match = re.search(r"Outcome is (.*?)(?:\. |\.$)", operation.description)
    if match is None:
        return []
    sentence = re.sub(r"\([^)]*\)", "", match.group(1))
    return _in_order(TOKEN.findall(sentence), {o.value for o in Outcome})


def reason_codes(operation: Operation) -> list[str]:
    """The ReasonCodes named after "ReasonCode" in the documentation, in its order, NONE left out."""
    tokens = [token for part in re.findall(r"ReasonCode\b([^)]*)", operation.description)
              for token in TOKEN.findall(part)]
    return _in_order(tokens, {c.value for c in ReasonCode if c is not ReasonCode.NONE})


def answer(operation: Operation) -> str:
    if operation.writes:
        return ", ".join(f"`{o}`" for o in outcomes(operation))
    names = [f.name for f in operation.answer]
    return "(a read) a page: `Orders`, `TotalCount`, `HasMore`" if "Orders" in names else "(a read) `Order`"


def faults(operation: Operation) -> list[str]:
    own = []
    if any(f.name == "OrderNumber" for f in operation.request):
        own.append("`Client.OrderNotFound`")
    if operation.writes:
        own.append("`Client.IdempotencyConflict`")
    return own


def row(operation: Operation) -> str:
    inputs = ", ".join(f"`{f.name}`" if f.required else f"[`{f.name}`]" for f in operation.request)
    cells = [
        f"`{operation.name}`",
        f"`{operation.scope.value}`",
        inputs,
        answer(operation),
        ", ".join(f"`{c}`" for c in reason_codes(operation)) or "-",
        ", ".join(faults(operation)) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def table() -> str:
    return "\n".join([HEADER, "|" + "---|" * 6, *(row(operation) for operation in OPERATIONS)])


def test_the_readme_table_is_generated_from_the_declarations():
    assert table() in README.read_text(), (
        "the README's table of operations is out of date: run .venv/bin/python -m tests.unit.test_readme_operations")


def test_every_action_names_its_outcomes_and_every_operation_is_in_the_table():
    readme = README.read_text()
    for operation in OPERATIONS:
        assert f"| `{operation.name}` | `{operation.scope.value}` |" in readme
        if operation.writes:
            assert "REJECTED" in outcomes(operation) and len(outcomes(operation)) >= 2, operation.name
            assert reason_codes(operation), operation.name


if __name__ == "__main__":
    print(table())
