"""The README's table of operations is what the declarations say: every declared operation, its
scope, its request elements (optional ones in brackets), the Outcomes and ReasonCodes its
documentation names, and the operation-specific faults.

After changing a declaration, ``.venv/bin/python -m tests.unit.test_readme_operations`` prints the
table to paste into the README."""

from __future__ import annotations

import re
from pathlib import Path

from soap_orders.documents.fields import Choice
from soap_orders.domain.clients import Scope
from soap_orders.operations import OPERATIONS, Operation

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| operation | scope | in | Outcome | ReasonCode when `REJECTED` (or per line) | faults of its own |"
TOKEN = re.compile(r"\b[A-Z][A-Z_]+\b")


def _in_order(tokens: list[str], allowed: set[str]) -> list[str]:
    return list(dict.fromkeys(token for token in tokens if token in allowed))


def _choices(operation: Operation, name: str) -> set[str]:
    """The values of the answer's enumerated element ``name`` (empty when it has none)."""
    kind = next((f.kind for f in operation.answer if f.name == name), None)
    return set(kind.values) if isinstance(kind, Choice) else set()


def outcomes(operation: Operation) -> list[str]:
    """The Outcomes named in the sentence "Outcome is ..." of the documentation, in its order."""
    match = re.search(r"Outcome (?:is )?(.*?)(?:\. |\.$)", operation.description)
    if match is None:
        return []
    sentence = re.sub(r"\([^)]*\)", "", match.group(1))
    return _in_order(TOKEN.findall(sentence), _choices(operation, "Outcome"))


def reason_codes(operation: Operation) -> list[str]:
    """The ReasonCodes named after "ReasonCode" in the documentation, in its order, NONE left out."""
    tokens = [token for part in re.findall(r"ReasonCode\b([^)]*)", operation.description)
              for token in TOKEN.findall(part)]
    return _in_order(tokens, _choices(operation, "ReasonCode") - {"NONE"})


def answer(operation: Operation) -> str:
    if _choices(operation, "Outcome"):
        return ", ".join(f"`{o}`" for o in outcomes(operation))
    names = [f.name for f in operation.answer]
    kind = "a read" if not operation.writes else "a batch"
    return f"({kind}) " + ", ".join(f"`{name}`" for name in names[:3]) + (", ..." if len(names) > 3 else "")


def faults(operation: Operation) -> list[str]:
    own = []
    required = {f.name for f in operation.request if f.required}
    if "OrderNumber" in required:
        own.append("`Client.OrderNotFound`")
    if "SubscriptionId" in required:
        own.append("`Client.SubscriptionNotFound`")
    if operation.writes:
        own.append("`Client.IdempotencyConflict`")
    return own


def row(operation: Operation) -> str:
    inputs = ", ".join(f"`{f.name}`" if f.required else f"[`{f.name}`]" for f in operation.request)
    cells = [
        f"`{operation.name}`",
        scope_cell(operation),
        inputs,
        answer(operation),
        ", ".join(f"`{c}`" for c in reason_codes(operation)) or "-",
        ", ".join(faults(operation)) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def scope_cell(operation: Operation) -> str:
    """The scopes that may call the operation, its own first."""
    return ", ".join(f"`{scope.value}`" for scope in (operation.scope, *operation.also))


def table() -> str:
    return "\n".join([HEADER, "|" + "---|" * 6, *(row(operation) for operation in OPERATIONS)])


def scopes() -> str:
    """Who may call what: the operations of each scope."""
    rows = ["| scope | operations |", "|---|---|"]
    for scope in Scope:
        names = [f"`{operation.name}`" for operation in OPERATIONS if scope in operation.scopes]
        if names:
            rows.append(f"| `{scope.value}` | {', '.join(names)} |")
    return "\n".join(rows)


def test_the_readme_tables_are_generated_from_the_declarations():
    readme = README.read_text()
    hint = "run .venv/bin/python -m tests.unit.test_readme_operations"
    assert table() in readme, f"the README's table of operations is out of date: {hint}"
    assert scopes() in readme, f"the README's table of scopes is out of date: {hint}"


def test_every_action_names_its_outcomes_and_every_operation_is_in_the_table():
    readme = README.read_text()
    for operation in OPERATIONS:
        assert f"| `{operation.name}` | {scope_cell(operation)} |" in readme
        if _choices(operation, "Outcome"):
            assert "REJECTED" in outcomes(operation) and len(outcomes(operation)) >= 2, operation.name
            assert reason_codes(operation), operation.name


if __name__ == "__main__":
    print(scopes(), table(), sep="\n\n")
