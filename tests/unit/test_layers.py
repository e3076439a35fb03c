"""The package's layers: every import of every module (at the top, inside functions, or for type
checking only) goes from a higher layer to a lower one, so the packages form no cycle. Read from
the source with ``ast``: nothing is imported to find out."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import soap_orders

PACKAGE = Path(soap_orders.__file__).resolve().parent
ROOT = "(root)"

#: Lowest first. A part may import parts of lower layers only (and itself).
LAYERS: tuple[frozenset[str], ...] = tuple(frozenset(layer) for layer in (
    {ROOT, "config", "logs", "xmlsafe"},  # the version, settings, log format, the safe XML parser
    {"domain"},
    {"documents"},
    {"service"},
    {"ingest"},  # the ERP's feed: use cases over the service's ports, and the file importer
    {"adapters", "operations", "demo"},
    {"http", "check"},
    {"soap", "jsonapi"},
    {"web"},
    {"bootstrap"},
    {"wsgi", "gunicorn_conf"},
    {"cli"},
))


@cache
def parts() -> frozenset[str]:
    """The package's parts: its subpackages and its top-level modules."""
    found = {path.name for path in PACKAGE.iterdir() if path.is_dir() and any(path.glob("*.py"))}
    found |= {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    return frozenset(found | {ROOT})


def part_of(module: list[str]) -> str:
    """The part a dotted module name (without ``soap_orders``) belongs to."""
    return module[0] if module and module[0] in parts() else ROOT


def imports(path: Path) -> Iterator[tuple[list[str], int]]:
    """Each module of the package that ``path`` imports, as a name list, with the line."""
    here = list(path.relative_to(PACKAGE).parent.parts)  # the package the module is in
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name.split(".")
                if name[0] == "soap_orders":
                    yield name[1:], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                module = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "soap_orders":
                module = node.module.split(".")[1:]
            else:
                continue
            if node.module is None:  # ``from . import x``: x may be a module of its own
                for alias in node.names:
                    yield module + [alias.name], node.lineno
            else:
                yield module, node.lineno


@cache
def edges() -> dict[tuple[str, str], list[str]]:
    """Imports between parts: (importer, imported) -> where."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("").parts
        source = part_of(list(relative)) if relative != ("__init__",) else ROOT
        for module, line in imports(path):
            target = part_of(module)
            if target != source:
                found.setdefault((source, target), []).append(f"{path.relative_to(PACKAGE)}:{line}")
    return found


def layer_of(part: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if part in layer)


def test_every_part_of_the_package_has_a_layer():
    assert parts() == set().union(*LAYERS)


def test_every_import_goes_down_the_layers():
    upward = {f"{a} -> {b}": where for (a, b), where in edges().items() if layer_of(a) <= layer_of(b)}
    assert upward == {}


def test_the_parts_form_no_cycle():
    graph: dict[str, set[str]] = {}
    for a, b in edges():
        graph.setdefault(a, set()).add(b)
    done: set[str] = set()

    def visit(part: str, path: tuple[str, ...]) -> None:
        assert part not in path, "import cycle: " + " -> ".join((*path, part))
        if part in done:
            return
        for other in sorted(graph.get(part, ())):
            visit(other, (*path, part))
        done.add(part)

    for part in sorted(graph):
        visit(part, ())


def test_the_domain_imports_nothing_else_of_the_package():
    assert {b for a, b in edges() if a == "domain"} == set()


def test_the_reader_of_imports_sees_each_form_of_import():
    """The walk above finds absolute, relative, parent-relative, ``from . import`` and function-level
    imports (were it blind to one, the tests above could not fail)."""
    module = PACKAGE / "soap" / "faults.py"
    found = {".".join(name) for name, _ in imports(module)}
    assert {"domain.error_kinds", "domain", "soap.ns"} <= found
    assert ("soap", "http") in edges() and ("web", "soap") in edges() and ("cli", "bootstrap") in edges()
    assert ("cli", "ingest") in edges()  # an import inside a function
    assert ("cli", ROOT) in edges()  # ``from .. import __version__``
