"""README's "Adding an operation" shows a real diff of a declaration; it stays true of the code: what
the diff leaves (its context and added lines) is in the file as it is now, and what it removed is not."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Adding an operation\n", 1)[1].split("\n## ", 1)[0]


def hunks(diff: str) -> list[tuple[str, list[str], list[str]]]:
    """(file, lines before, lines after) for each hunk of a unified diff."""
    found: list[tuple[str, list[str], list[str]]] = []
    path = ""
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            path = line.removeprefix("+++ b/")
        elif line.startswith("@@"):
            found.append((path, [], []))
        elif found and line[:1] in (" ", "-", "+"):
            _, before, after = found[-1]
            if line[0] != "+":
                before.append(line[1:])
            if line[0] != "-":
                after.append(line[1:])
    return found


def contains(lines: list[str], part: list[str]) -> bool:
    return any(lines[i:i + len(part)] == part for i in range(len(lines) - len(part) + 1))


def test_the_diff_of_adding_an_operation_is_true_of_the_code():
    (diff,) = re.findall(r"```diff\n(.*?)```", section(), re.DOTALL)
    found = hunks(diff)
    assert found
    for path, before, after in found:
        current = (ROOT / path).read_text().splitlines()
        assert before != after, path
        assert contains(current, after), f"{path} no longer reads as README's diff leaves it"
        assert not contains(current, before), f"{path} still reads as before README's diff"


def test_hunks_reads_a_unified_diff():
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n"
    assert hunks(diff) == [("x.py", ["a", "b", "d"], ["a", "c", "d"])]
