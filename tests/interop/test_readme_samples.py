"""The README's samples read the fault detail's ``Retryable`` the way the interoperability tests
do: for each client that hands it over as text (where the string "false" is true in a condition),
the comparison its sample shows is the one its test runs against a live server."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
README = HERE.parents[1] / "README.md"

#: Per client: the start of its sample in "Calling from your platform", the reading of Retryable,
#: and the program its interoperability test runs.
READINGS = {
    "PHP SoapClient": ("**PHP `SoapClient`**", "filter_var($detail->Retryable, FILTER_VALIDATE_BOOLEAN)",
                       HERE / "php" / "call.php"),
    "Mono wsdl": ("**Mono, or a classic .NET Framework web reference", 'XmlConvert.ToBoolean(detail["Retryable", Tns].InnerText)',
                  HERE / "mono" / "OrdersCall.cs"),
    "node soap": ("**node**", "Retryable === 'true'", HERE / "node" / "call.js"),
    "zeep": ("**Python (zeep)**", 'detail.findtext("{urn:soap-orders:orders:v1}Retryable") == "true"', HERE / "harness.py"),
    "suds": ("**Python (suds-community)**", 'detail.Retryable == "true"', HERE / "test_suds.py"),
}


def sample(heading: str) -> str:
    """The README's sample for one platform: from its heading to the next platform or section."""
    text = README.read_text()
    start = text.index("## Calling from your platform")
    start = text.find(f"\n{heading}", start)
    assert start != -1, f"README has no sample starting {heading}"
    ends = [found for marker in ("\n**", "\n## ") if (found := text.find(marker, start + 1)) != -1]
    return text[start:min(ends)]


@pytest.mark.parametrize("client", sorted(READINGS))
def test_the_readme_reads_retryable_as_the_interop_test_does(client):
    heading, reading, program = READINGS[client]
    assert reading in sample(heading), f"README's {client} sample does not read Retryable with {reading}"
    assert reading in program.read_text(), f"{program.name} does not read Retryable as README shows"
