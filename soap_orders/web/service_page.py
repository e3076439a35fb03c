"""The service page at ``GET /``: what the service offers, rendered once from the declarations.

Every operation of ``soap_orders.operations.OPERATIONS`` is shown with its documentation, its
scope, its request and answer fields (kinds, limits, values), the golden request and response
envelopes of ``wsdl/examples/`` when there are some, and the JSON form of the request. Plain HTML
with inline CSS: no script, no external resource, and every text shown goes through
``html.escape``.

The examples are read at start-up from the source checkout (``wsdl/examples/``) or, in an
installed service, from ``<prefix>/share/soap-orders/examples`` (setup.cfg ships them there as
data files). Without either, the page says so and shows the JSON form only.
"""

from __future__ import annotations

import json
import logging
import sys
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from .. import xmlsafe
from ..documents import (
    Amount,
    Boolean,
    Choice,
    Date,
    Document,
    Field,
    Integer,
    Kind,
    ListOf,
    Text,
    Timestamp,
    records,
)
from ..domain.errors import DomainError
from ..operations import Operation

log = logging.getLogger("soap_orders.web")

#: Where the golden envelopes are looked for, in this order.
EXAMPLE_DIRECTORIES = (
    Path(__file__).resolve().parents[2] / "wsdl" / "examples",
    Path(sysconfig.get_path("data")) / "share" / "soap-orders" / "examples",
    Path(sys.prefix) / "share" / "soap-orders" / "examples",
)
_MAX_EXAMPLE = 256 * 1024


@dataclass(frozen=True)
class Example:
    """A request envelope and its answer, e.g. ``CancelOrder-rejected-request.xml`` and
    ``CancelOrder-rejected-response.xml`` (variant ``rejected``)."""

    operation: str
    variant: str
    request: str | None = None
    response: str | None = None


@dataclass
class Examples:
    directory: Path | None
    by_operation: dict[str, list[Example]] = field(default_factory=dict)

    def of(self, operation: str) -> list[Example]:
        return self.by_operation.get(operation, [])


def load_examples(directories: Iterable[Path] = EXAMPLE_DIRECTORIES) -> Examples:
    """The golden envelopes of the first directory that has any, grouped by operation; none
    (and a log line) when no directory has them."""
    for directory in directories:
        files = sorted(directory.glob("*-re*.xml")) if directory.is_dir() else []
        if not files:
            continue
        pairs: dict[tuple[str, str], dict[str, str]] = {}
        for path in files:
            stem, _, role = path.stem.rpartition("-")
            if role not in ("request", "response") or path.stat().st_size > _MAX_EXAMPLE:
                continue
            operation, _, variant = stem.partition("-")
            pairs.setdefault((operation, variant), {})[role] = path.read_text(encoding="utf-8")
        examples = Examples(directory)
        for (operation, variant), texts in sorted(pairs.items(), key=lambda item: (item[0][0], item[0][1] != "", item[0][1])):
            examples.by_operation.setdefault(operation, []).append(
                Example(operation, variant, texts.get("request"), texts.get("response")))
        return examples
    log.info("service page: no example envelopes found (looked in %s)", ", ".join(str(d) for d in directories))
    return Examples(None)


# ---------------------------------------------------------------------- the JSON form


def json_form(operation: Operation, example: Example | None) -> dict[str, Any]:
    """The JSON body of the request: the golden request's values when there is one, otherwise a
    sample built from the field kinds. Either way it is loaded and written back through the
    declaration, so it is what ``POST /json/<Operation>`` accepts."""
    record = _record_from_envelope(operation, example.request) if example and example.request else None
    if record is not None:
        try:
            return records.dump(operation.request_document, operation.load(record))
        except DomainError as error:  # an example that no longer fits: show the sample instead
            log.warning("service page: the %s example does not load (%s)", operation.name, error.message)
    record = {f.name: _sample(f.kind, f.name) for f in operation.request
              if not f.derived and (records.required_on_input(f) or f.default is None)}
    return records.dump(operation.request_document, operation.load(record))


def _record_from_envelope(operation: Operation, envelope: str) -> dict[str, Any] | None:
    try:
        root = xmlsafe.parse(envelope.encode("utf-8"))
    except xmlsafe.XmlRefused:
        return None
    body = next((node for node in root if isinstance(node.tag, str) and node.tag.endswith("}Body")), None)
    call = next((node for node in body if isinstance(node.tag, str)), None) if body is not None else None
    if call is None or etree.QName(call).localname != operation.name:
        return None
    return _element_record(call, operation.request_document)


def _element_record(element: Any, document: Document) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        kind = document.field(name).kind
        if isinstance(kind, ListOf):
            items = [item for item in child if isinstance(item.tag, str)]
            record[name] = [_element_record(i, kind.item) if isinstance(kind.item, Document) else i.text for i in items]
        elif isinstance(kind, Document):
            record[name] = _element_record(child, kind)
        else:
            record[name] = child.text
    return record


_SAMPLE_TEXT = {
    "Email": "olivia.murphy@example.com",
    "CurrencyCode": "EUR",
    "CountryCode": "GB",
    "OrderNumber": "SO-100001",
    "RequestId": "dg-7f3c2a10-example",
    "Sku": "MUG-RED",
    "PostalCode": "SW1A 1AA",
    "Phone": "+44 20 7946 0000",
    "Url": "https://example.com/item",
    "TrackingNumber": "1Z999AA10123456784",
    "ReturnTrackingNumber": "1Z999AA10123456799",
    "ReturnId": "RET-100001-1",
    "CarrierCode": "UPS",
    "Name": "Olivia Murphy",
    "Line1": "1 High Street",
    "Line2": "Flat 2",
    "City": "London",
    "Region": "Greater London",
    "Note": "Customer asked by chat",
}


def _sample(kind: Kind, name: str) -> Any:
    if isinstance(kind, Document):
        # The required fields; all of them for a part that requires none (an address).
        # The required fields and the first optional one (a line's LineNumber); all fields of a
        # part that requires none (an address).
        given = [f for f in kind.fields if not f.derived]
        optional = [f for f in given if not records.required_on_input(f)]
        wanted = [f for f in given if records.required_on_input(f) or f is optional[0]] if len(optional) < len(given) \
            else given
        return {f.name: _sample(f.kind, f.name) for f in wanted}
    if isinstance(kind, ListOf):
        return [_sample(kind.item, kind.item_name) for _ in range(max(kind.min_occurs, 1))]
    if isinstance(kind, Text):
        return _SAMPLE_TEXT.get(name) or _SAMPLE_TEXT.get(kind.type_name) or f"{name} text"[:kind.max_len]
    if isinstance(kind, Integer):
        return max(kind.ge, 1) if kind.le >= 1 else kind.ge
    if isinstance(kind, Amount):
        return "10.00"
    if isinstance(kind, Timestamp):
        return "2026-03-01T10:00:00Z"
    if isinstance(kind, Date):
        return (kind.ge if kind.ge and kind.ge > date(2026, 3, 1) else date(2026, 3, 1)).isoformat()
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Choice):
        return kind.values[0]
    raise TypeError(f"not a kind: {kind!r}")


# ---------------------------------------------------------------------- describing fields


def describe_kind(kind: Kind) -> str:
    """The kind of a field in words, as HTML (escaped)."""
    if isinstance(kind, Text):
        words = f"text, 1 to {kind.max_len} characters"
        if kind.pattern:
            words += f"; {escape(kind.hint or 'matching')} (<code>{escape(kind.pattern)}</code>)"
        return words
    if isinstance(kind, Integer):
        return f"whole number, {kind.ge} to {kind.le}"
    if isinstance(kind, Amount):
        return ("decimal amount greater than zero" if kind.positive else "decimal amount") + \
            ", with the order currency's places"
    if isinstance(kind, Timestamp):
        return "date and time in UTC, <code>2026-03-01T10:00:00Z</code>"
    if isinstance(kind, Date):
        bounds = f", {kind.ge.isoformat()} to {kind.le.isoformat()}" if kind.ge and kind.le else ""
        return f"date, <code>YYYY-MM-DD</code>{bounds}"
    if isinstance(kind, Boolean):
        return "<code>true</code> or <code>false</code>"
    if isinstance(kind, Choice):
        return "one of " + " ".join(f'<code class="v">{escape(value)}</code>' for value in kind.values)
    if isinstance(kind, Document):
        return f'a <a href="#type-{escape(kind.type_name)}">{escape(kind.type_name)}</a>'
    if isinstance(kind, ListOf):
        limits: list[str] = []
        if kind.min_occurs:
            limits.append(f"at least {kind.min_occurs}")
        if kind.max_occurs is not None:
            limits.append(f"at most {kind.max_occurs}")
        item = describe_kind(kind.item) if isinstance(kind.item, Document) else escape(kind.item.type_name or "")
        return (f"list of {item} in <code>{escape(kind.item_name)}</code> elements"
                + (f" ({', '.join(limits)})" if limits else ""))
    raise TypeError(f"not a kind: {kind!r}")


def _type_name(kind: Kind) -> str:
    if isinstance(kind, ListOf):
        return kind.type_name
    return kind.type_name or "boolean"


def _presence(field: Field, as_input: bool) -> str:
    if as_input:
        if field.default is not None:
            default = getattr(field.default, "value", field.default)
            return f"optional, default <code>{escape(str(default))}</code>"
        return "required" if records.required_on_input(field) else "optional"
    if isinstance(field.kind, ListOf):
        return "always (may be empty)"
    return "always" if field.required else "when set"


def _field_table(fields: Sequence[Field], as_input: bool) -> str:
    shown = [f for f in fields if not (as_input and f.derived)]
    if not shown:
        return '<p class="muted">No fields.</p>'
    rows = "".join(
        f"<tr><td><code>{escape(f.name)}</code></td><td>{escape(_type_name(f.kind))}</td>"
        f"<td>{_presence(f, as_input)}</td><td>{describe_kind(f.kind)}</td></tr>"
        for f in shown
    )
    return ("<table><thead><tr><th>element</th><th>type</th><th>presence</th><th>value</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def nested_documents(operations: Iterable[Operation]) -> dict[str, tuple[Document, bool]]:
    """Every document the operations' fields hold, by type name, with whether it is an input."""
    found: dict[str, tuple[Document, bool]] = {}

    def walk(kind: Kind, as_input: bool) -> None:
        if isinstance(kind, ListOf):
            walk(kind.item, as_input)
        elif isinstance(kind, Document) and kind.type_name not in found:
            found[kind.type_name] = (kind, as_input)
            for f in kind.fields:
                walk(f.kind, as_input)

    for operation in operations:
        for f in operation.request:
            walk(f.kind, True)
        for f in operation.answer:
            walk(f.kind, False)
    return found


# ---------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    what: str


def render(operations: Sequence[Operation], *, public_url: str, version: str, examples: Examples,
           links: Sequence[Link]) -> bytes:
    """The whole page, as UTF-8 HTML."""
    soap_path = urlsplit(public_url).path or "/soap"
    by_scope: dict[str, list[Operation]] = {}
    for operation in operations:
        by_scope.setdefault(operation.scope.value, []).append(operation)
    nav = "".join(
        f'<li><span class="scope">{escape(scope)}</span><ul>'
        + "".join(f'<li><a href="#op-{escape(o.name)}">{escape(o.name)}</a></li>' for o in ops)
        + "</ul></li>"
        for scope, ops in by_scope.items()
    )
    link_items = "".join(
        f'<li><a href="{escape(link.href)}">{escape(link.label)}</a> <span class="muted">{escape(link.what)}</span></li>'
        for link in links
    )
    sections = "".join(_operation_section(o, soap_path, examples) for o in operations)
    types = "".join(
        f'<section class="type" id="type-{escape(name)}"><h3>{escape(name)}</h3>'
        + (f"<p>{escape(document.doc)}</p>" if document.doc else "")
        + _field_table(document.fields, as_input) + "</section>"
        for name, (document, as_input) in sorted(nested_documents(operations).items())
    )
    no_examples = "" if examples.directory is not None else (
        '<p class="note">The example envelopes are not installed with this service; '
        "the JSON forms below are built from the declarations.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>soap_orders {escape(version)}: the order service</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>soap_orders <span class="version">{escape(version)}</span></h1>
<p>A SOAP 1.1 order service (document/literal wrapped, namespace <code>urn:soap-orders:orders:v1</code>)
with a JSON twin. Calls go to <code>POST {escape(public_url)}</code> with <code>Content-Type: text/xml</code>
and a <code>SOAPAction</code> naming the operation, or to <code>POST /json/&lt;Operation&gt;</code> with a
JSON object of the same fields. Every call needs credentials: HTTP Basic, an OAuth2 bearer token from
<code>POST /oauth/token</code>, or a WS-Security UsernameToken (SOAP only), of a client holding the
operation's scope.</p>
<p id="credentials"><strong>Getting credentials.</strong> Clients are made by whoever runs this service:
ask them for a client name and secret with the scopes you need (<code>orders:read</code>,
<code>orders:act</code>, <code>erp</code>); they create it with
<code>soap-orders clients add NAME --scope orders:read --scope orders:act</code>, which prints the secret
once. On a checkout started with <code>make run</code>, the client <code>demo</code> exists and its secret
is printed at start (<code>.venv/bin/soap-orders demo-client</code> prints a new one). The examples below
are answers of that demo data (<code>soap-orders demo-data --orders 200 --seed 1</code>).</p>
<ul class="links">{link_items}</ul>
</header>
<div class="layout">
<nav aria-label="Operations"><h2>Operations</h2><ul>{nav}</ul><p><a href="#types">Types</a></p></nav>
<main>
{no_examples}
{sections}
<section id="types"><h2>Types</h2>
<p>The documents the operations' elements hold. Lists have a wrapper element that is present even when empty;
optional elements are left out when they have no value.</p>
{types}
</section>
</main>
</div>
</body>
</html>
"""
    return page.encode("utf-8")


def _operation_section(operation: Operation, soap_path: str, examples: Examples) -> str:
    name = escape(operation.name)
    own = examples.of(operation.name)
    main = next((e for e in own if not e.variant), own[0] if own else None)
    body = json.dumps(json_form(operation, main), indent=2, ensure_ascii=False)
    example_blocks = "".join(_example_block(example) for example in own)
    if not own:
        example_blocks = '<p class="muted">No example envelope for this operation.</p>'
    writes = ("<p>Changes state: the same <code>RequestId</code> replays the first result.</p>"
              if operation.writes else "")
    badges = " ".join(f'<span class="badge">{escape(scope.value)}</span>' for scope in (operation.scope, *operation.also))
    return f"""<section class="operation" id="op-{name}">
<h2>{name} {badges}</h2>
<p>{escape(operation.description)}</p>
{writes}
<p class="routes"><code>POST {escape(soap_path)}</code> with <code>SOAPAction: "{name}"</code>
&middot; <code>POST /json/{name}</code></p>
<h3>Request <code>{name}</code></h3>
{_field_table(operation.request, True)}
<h3>Answer <code>{name}Response</code></h3>
{_field_table(operation.answer, False)}
<h3>Examples</h3>
{example_blocks}
<details><summary>JSON form of the request (<code>POST /json/{name}</code>)</summary>
<pre class="code">{escape(body)}</pre></details>
</section>
"""


def _example_block(example: Example) -> str:
    title = escape(example.variant.replace("-", " ")) if example.variant else "the usual case"
    parts = []
    for role, text in (("request", example.request), ("response", example.response)):
        if text is not None:
            parts.append(f'<div class="example"><h4>{role}</h4><pre class="code">{escape(text)}</pre></div>')
    return (f'<details{" open" if not example.variant else ""}><summary>Envelopes: {title}</summary>'
            f'<div class="pair">{"".join(parts)}</div></details>')


class ServicePage:
    """The rendered page, answered for ``GET /`` and ``HEAD /``."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __call__(self, respond: Callable[..., Any], *, head: bool = False) -> list[bytes]:
        respond("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(self.body))),
                           ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff"),
                           ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")])
        return [b""] if head else [self.body]


_CSS = """
:root { --ink: #1d2430; --muted: #5b6575; --line: #d9dee7; --accent: #0b5cad; --paper: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
header { background: #13294b; color: #f1f4f9; padding: 1.2rem 2rem 1rem; }
header h1 { margin: 0 0 .4rem; font-size: 1.6rem; }
header p { max-width: 70rem; margin: .3rem 0 .6rem; }
header code { color: #ffe7a8; }
header a { color: #9fd0ff; }
.version { font-size: 1rem; font-weight: normal; opacity: .8; }
.links { list-style: none; padding: 0; margin: .4rem 0 0; display: flex; flex-wrap: wrap; gap: .3rem 1.4rem; }
.links .muted { color: #b8c4d6; }
.layout { display: flex; align-items: flex-start; max-width: 90rem; margin: 0 auto; }
nav { position: sticky; top: 0; flex: 0 0 17.5rem; padding: 1rem 1rem 1rem 2rem; max-height: 100vh; overflow: auto; }
nav h2 { font-size: 1rem; margin: 0 0 .5rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav ul ul { margin: .2rem 0 .8rem .6rem; }
nav .scope { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
main { flex: 1; min-width: 0; padding: 1rem 2rem 3rem 1rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
section.operation { border-top: 1px solid var(--line); padding-top: .6rem; margin-bottom: 2rem; }
h2 { font-size: 1.35rem; margin: .6rem 0 .4rem; }
h3 { font-size: 1.02rem; margin: 1.1rem 0 .4rem; }
h4 { font-size: .8rem; margin: .2rem 0; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.badge { font-size: .75rem; font-weight: 600; vertical-align: middle; background: #e3eefb; color: #0b4a8a;
         border-radius: .8rem; padding: .1rem .6rem; }
.routes code { background: var(--paper); }
.muted { color: var(--muted); }
.note { background: #fff6dd; border: 1px solid #f0d98a; padding: .5rem .8rem; border-radius: .3rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid var(--line); }
th { background: var(--paper); font-weight: 600; }
td:first-child { white-space: nowrap; }
td code, p code { font-size: .85rem; }
code.v { display: inline-block; background: #eef1f6; border-radius: .25rem; padding: 0 .3rem; margin: .1rem 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
details { margin: .4rem 0; }
summary { cursor: pointer; color: var(--accent); }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(24rem, 1fr)); gap: .8rem; }
pre.code { background: var(--paper); border: 1px solid var(--line); border-radius: .3rem; padding: .6rem .8rem;
           overflow: auto; max-height: 26rem; font-size: .8rem; line-height: 1.4; margin: .2rem 0; }
section.type { margin-bottom: 1.4rem; }
@media (max-width: 900px) { nav { display: none; } main { padding: 1rem; } }
"""
