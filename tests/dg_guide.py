"""The consumer's guide (contrib/DG-ACTIONS.md) held to the operations' declarations.

What an entry can take from its operation's declaration is derived here: the heading, the SOAPAction
and scope, the envelope template (the request's elements in order, each with a ``{{placeholder}}``)
and the response element with its parts. ``skeleton`` writes that much for a new operation; what
only a person can write (when DG calls it, what each placeholder holds, what to branch on) is left
to them. ``python -m tests.dg_guide NAME`` prints operation NAME's skeleton.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from soap_orders.documents import Document, Field, ListOf
from soap_orders.documents.fields import Choice
from soap_orders.operations import BY_NAME, Operation

GUIDE = Path(__file__).resolve().parents[1] / "contrib" / "DG-ACTIONS.md"
_HEADING = re.compile(r"^#{2,3} (\w+) — .*$", re.MULTILINE)


def entries(guide: str) -> dict[str, str]:
    """Each entry of the guide by the name its heading starts with (``## GetOrder — ...``), from the
    heading to the next one."""
    found: dict[str, str] = {}
    headings = list(re.finditer(r"^#{2,3} .*$", guide, re.MULTILINE))
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        named = _HEADING.match(heading.group(0))
        if named is not None:
            found[named.group(1)] = guide[heading.start():following.start() if following else len(guide)]
    return found


def soap_action_line(operation: Operation) -> str:
    """The line of an entry that names the SOAPAction and the scope, as far as the declaration says it."""
    return f'- SOAPAction: `"{operation.name}"`; scope `{operation.scope.value}`'


def template_elements(entry: str) -> list[str]:
    """The child elements of the operation element in the entry's envelope template, in order."""
    (template,) = re.findall(r"```xml\n(.*?)```", entry, re.DOTALL)
    body = template.split("<soapenv:Body>", 1)[1]
    operation = re.match(r"\s*<ord:(\w+)>", body)
    assert operation is not None, "the Body holds no ord: element"
    inner = body.split(f"</ord:{operation.group(1)}>", 1)[0]
    depth, names = 0, []
    for closing, name, empty in re.findall(r"<(/?)ord:(\w+)[^>]*?(/?)>", inner)[1:]:
        if closing:
            depth -= 1
        else:
            if depth == 0:
                names.append(name)
            depth += 0 if empty else 1
    return names


def problems(operation: Operation, entry: str) -> list[str]:
    """How ``entry`` disagrees with ``operation``'s declaration (nothing: it agrees)."""
    found = []
    if soap_action_line(operation) not in entry:
        found.append(f"it does not say {soap_action_line(operation)}")
    elements = template_elements(entry)
    declared = [f.name for f in operation.request]
    if [name for name in declared if name in elements] != elements:
        found.append(f"its template sends {elements}, not in the declared order {declared}")
    missing = [f.name for f in operation.request if f.required_on_input and f.name not in elements]
    if missing:
        found.append(f"its template leaves out the required {missing}")
    if f"`{operation.name}Response`" not in entry:
        found.append(f"it does not name the response element {operation.name}Response")
    return found


def _placeholder(field: Field) -> str:
    return "{{" + field.attribute + "}}"


def _elements(fields: tuple[Field, ...], indent: str) -> list[str]:
    lines = []
    for field in fields:
        if field.derived or field.internal:
            continue
        kind = field.kind
        if isinstance(kind, Document):
            lines += [f"{indent}<ord:{field.name}>", *_elements(kind.fields, indent + "  "),
                      f"{indent}</ord:{field.name}>"]
        elif isinstance(kind, ListOf):
            lines.append(f"{indent}<ord:{field.name}>")
            if isinstance(kind.item, Document):
                lines += [f"{indent}  <ord:{kind.item_name}>", *_elements(kind.item.fields, indent + "    "),
                          f"{indent}  </ord:{kind.item_name}>"]
            else:
                lines.append(f"{indent}  <ord:{kind.item_name}>{_placeholder(field)}</ord:{kind.item_name}>")
            lines.append(f"{indent}</ord:{field.name}>")
        else:
            lines.append(f"{indent}<ord:{field.name}>{_placeholder(field)}</ord:{field.name}>")
    return lines


def _part(field: Field) -> str:
    if isinstance(field.kind, Choice):
        return f"`{field.name}` ({', '.join(field.kind.values)})"
    return f"`{field.name}`"


def skeleton(operation: Operation) -> str:
    """The entry for ``operation`` as far as its declaration writes it."""
    optional = [f.name for f in operation.request if not f.required_on_input]
    envelope = "\n".join([
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ord="urn:soap-orders:orders:v1">',
        "  <soapenv:Body>",
        f"    <ord:{operation.name}>",
        *_elements(operation.request, "      "),
        f"    </ord:{operation.name}>",
        "  </soapenv:Body>",
        "</soapenv:Envelope>",
    ])
    return "\n".join([
        f"## {operation.name} — {operation.summary.rstrip('.')}",
        "",
        f"{soap_action_line(operation)}.",
        "- Envelope template"
        + (f" ({', '.join(optional)} may be left out)" if optional else "")
        + ": WRITE what each placeholder holds.",
        "",
        "```xml",
        envelope,
        "```",
        "",
        f"- Response element: `{operation.name}Response`: "
        + ", ".join(_part(f) for f in operation.answer if not f.internal)
        + ". WRITE what DG branches on and what it may show the customer.",
        "",
    ])


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(BY_NAME):
        print(skeleton(BY_NAME[name]))
