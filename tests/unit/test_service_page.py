"""The service page is rendered from the operation declarations, shows the golden envelopes as
text, and gives a JSON form of every request that the JSON twin accepts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from soap_orders.documents import Choice, Document, ListOf
from soap_orders.operations import OPERATIONS
from soap_orders.web.service_page import (
    EXAMPLE_DIRECTORIES,
    Link,
    json_form,
    load_examples,
    nested_documents,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
LINKS = (Link("http://127.0.0.1:8000/soap?wsdl", "WSDL", "the contract"), Link("/metrics", "/metrics", "Prometheus"))


def page(examples=None) -> str:  # type: ignore[no-untyped-def]
    return render(OPERATIONS, public_url="http://127.0.0.1:8000/soap", version="9.9.9",
                  examples=examples or load_examples(), links=LINKS).decode("utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        self.ids.update(value for name, value in attrs if name == "id" and value)

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.text.append(data)


def parsed(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    return tags


def test_the_source_checkout_examples_are_found():
    assert EXAMPLE_DIRECTORIES[0] == ROOT / "wsdl" / "examples"
    examples = load_examples()
    assert examples.directory == ROOT / "wsdl" / "examples"
    assert [e.variant for e in examples.of("CancelOrder")] == ["", "rejected"]
    assert all(e.request and e.response for e in examples.of("GetOrder"))


def test_every_declared_operation_has_a_section_with_its_fields_and_scope():
    html = page()
    tags = parsed(html)
    for operation in OPERATIONS:
        assert f"op-{operation.name}" in tags.ids
        section = html[html.index(f'id="op-{operation.name}"'):]
        section = section[:section.index("</section>")]
        assert all(f'<span class="badge">{scope.value}</span>' in section for scope in operation.scopes)
        assert f"POST /json/{operation.name}" in section
        for field in operation.request:
            if not field.derived:
                assert f"<code>{field.name}</code>" in section, (operation.name, field.name)
        for field in operation.answer:
            assert f"<code>{field.name}</code>" in section, (operation.name, field.name)


def test_nested_documents_and_enumerations_are_described():
    html = page()
    ids = parsed(html).ids
    documents = nested_documents(OPERATIONS)
    assert {"Order", "Line", "Refund", "RefundLine", "Shipment"} <= set(documents)
    for name in documents:
        assert f"type-{name}" in ids
    # A choice lists its values; a bounded list says its bounds; text says its length and pattern.
    refund = html[html.index('id="op-IssueRefund"'):]
    assert '<code class="v">DAMAGED</code>' in refund
    assert "at least 1, at most 100" in refund
    find = html[html.index('id="op-FindOrdersByEmail"'):]
    assert "text, 1 to 254 characters; an email address" in find
    assert "whole number, 1 to 100" in find and "optional, default <code>20</code>" in find


def test_the_example_envelopes_are_shown_as_text_never_as_markup():
    html = page()
    tags = parsed(html)
    assert "script" not in tags.tags and "<script" not in html.lower()
    # The envelopes' own elements never become tags of the page: they are escaped text.
    assert not any(":" in tag for tag in tags.tags)
    assert not re.search(r"<(soapenv|ord|soap11env):", html)
    text = "".join(tags.text)
    cancel = (ROOT / "wsdl" / "examples" / "CancelOrder-request.xml").read_text(encoding="utf-8")
    assert cancel in text
    assert "&lt;soapenv:Envelope" in html


def test_every_operation_has_a_json_form_the_declaration_accepts():
    examples = load_examples()
    for operation in OPERATIONS:
        own = examples.of(operation.name)
        body = json_form(operation, own[0] if own else None)
        operation.load(body)  # raises when the form would be refused
        assert set(body) <= {f.name for f in operation.request}


def test_the_json_form_of_an_example_carries_its_values():
    examples = load_examples()
    refund = next(o for o in OPERATIONS if o.name == "IssueRefund")
    body = json_form(refund, examples.of("IssueRefund")[0])
    assert body["OrderNumber"] == "SO-100003" and body["Lines"] == [{"Sku": "RZB", "Quantity": 1}]


def test_without_examples_the_page_says_so_and_still_lists_every_operation(tmp_path: Path):
    examples = load_examples([tmp_path / "missing"])
    assert examples.directory is None
    html = page(examples)
    assert "not installed with this service" in html
    for operation in OPERATIONS:
        assert f'id="op-{operation.name}"' in html


def test_links_and_version_are_escaped():
    html = render(OPERATIONS, public_url="http://127.0.0.1:8000/soap", version="<b>1</b>",
                  examples=load_examples([]), links=(Link("/x?a=1&b=2", "<i>x</i>", "y"),)).decode()
    assert "&lt;b&gt;1&lt;/b&gt;" in html and "/x?a=1&amp;b=2" in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "<b>" not in html and "<i>" not in html


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_every_choice_value_of_a_request_is_on_the_page(operation):  # type: ignore[no-untyped-def]
    html = page()
    section = html[html.index(f'id="op-{operation.name}"'):]
    section = section[:section.index("</section>")]
    for field in operation.request:
        kind = field.kind.item if isinstance(field.kind, ListOf) else field.kind
        if isinstance(kind, Choice):
            for value in kind.values:
                assert f'<code class="v">{value}</code>' in section
        elif isinstance(kind, Document):
            assert f'href="#type-{kind.type_name}"' in section


def test_the_page_says_how_to_get_credentials_and_whose_data_the_examples_show():
    tags = parsed(page())
    assert "credentials" in tags.ids
    text = " ".join(" ".join(tags.text).split())
    assert "Getting credentials. Clients are made by whoever runs this service" in text
    assert "soap-orders clients add NAME --scope orders:read --scope orders:act" in text
    assert "the client demo exists and its secret is printed at start" in text
    assert "soap-orders demo-data --orders 200 --seed 1" in text
