"""Compare XML as trees, never as strings."""

from __future__ import annotations

from lxml import etree


def _normalized(node: etree._Element) -> tuple:
    text = (node.text or "").strip()
    return (
        node.tag,
        tuple(sorted(node.attrib.items())),
        text,
        tuple(_normalized(child) for child in node if isinstance(child.tag, str)),
    )


def assert_nodes_equal(left: bytes | str | etree._Element, right: bytes | str | etree._Element) -> None:
    """Equal tags, attributes, stripped text and children, in order; prefixes and whitespace ignored."""
    a = etree.fromstring(left.encode() if isinstance(left, str) else left) if not isinstance(left, etree._Element) else left
    b = etree.fromstring(right.encode() if isinstance(right, str) else right) if not isinstance(right, etree._Element) else right
    if _normalized(a) != _normalized(b):
        diff = "\n".join(
            f"- {x}\n+ {y}" for x, y in zip(
                etree.tostring(a, pretty_print=True).decode().splitlines(),
                etree.tostring(b, pretty_print=True).decode().splitlines(), strict=False,
            ) if x.strip() != y.strip()
        )
        raise AssertionError(f"XML trees differ:\n{diff[:4000]}")


TNS = "urn:soap-orders:orders:v1"


def fault_detail(detail: etree._Element | None) -> dict[str, str]:
    """The fields of a fault's typed detail (``detail/tns:FaultDetail/tns:ErrorCode`` ...), by name;
    asserts the detail holds that one element and nothing else."""
    assert detail is not None, "the fault has no detail"
    children = [child for child in detail if isinstance(child.tag, str)]
    assert [child.tag for child in children] == [f"{{{TNS}}}FaultDetail"], [child.tag for child in children]
    return {etree.QName(child).localname: child.text or "" for child in children[0] if isinstance(child.tag, str)}
