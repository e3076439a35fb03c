"""The part of requirements.lock a server needs: the service's own requirements and theirs, pinned
and hash-checked exactly as the lock has them, without the test and lint tools; or, with
``--build``, the build tools (pyproject.toml's build requirements) that build the wheel and the
packages the lock has only as source (spyne).

    python3 contrib/runtime_lock.py requirements.lock setup.cfg > dist/requirements-runtime.lock
    python3 contrib/runtime_lock.py --build requirements.lock pyproject.toml > dist/requirements-build.lock

requirements.lock (``make lock``, pip-compile) notes under each pin what needs it (``# via X``);
read the other way round, that is each package's requirements. Starting from setup.cfg's
``install_requires`` this walks them and prints every pin reached, in the lock's order, with its
hashes. ``make wheel`` writes it beside the wheel; the server (docs/deploy.md) and the container
image (contrib/Dockerfile) install it with ``pip install --require-hashes --no-deps`` and check
the result with ``pip check``. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import configparser
import re
import sys
import tomllib
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Each pin's lines (requirement and hashes, comments left out) and what needs it."""
    blocks: dict[str, list[str]] = {}
    needed_by: dict[str, set[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        pin = PIN.match(line)
        if pin:
            current = normalized(pin.group(1))
            blocks[current] = [line]
            needed_by[current] = set()
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("--hash"):
            blocks[current].append(line)
        elif stripped.startswith("# via"):
            via = stripped.removeprefix("# via").strip()
            if via:
                needed_by[current].add(via)
        elif stripped.startswith("#") and stripped.lstrip("#").strip():  # one of a "# via" list
            needed_by[current].add(stripped.lstrip("#").strip())
        elif not stripped:
            current = None
    # "soap_orders (pyproject.toml)" and its kin name the project itself.
    return blocks, {pin: {normalized(NAME.match(v).group(1)) for v in vias if NAME.match(v)}  # type: ignore[union-attr]
                    for pin, vias in needed_by.items()}


def runtime_requirements(setup_cfg: str) -> set[str]:
    config = configparser.ConfigParser()
    config.read_string(setup_cfg)
    lines = config["options"]["install_requires"].strip().splitlines()
    return {normalized(NAME.match(line).group(1)) for line in lines if NAME.match(line)}  # type: ignore[union-attr]


def build_requirements(pyproject: str) -> set[str]:
    requires = tomllib.loads(pyproject)["build-system"]["requires"]
    return {normalized(NAME.match(line).group(1)) for line in requires if NAME.match(line)}  # type: ignore[union-attr]


def runtime_subset(lock: str, setup_cfg: str) -> list[str]:
    """The lock's lines for the runtime requirements and everything they need, in the lock's order."""
    return subset(lock, runtime_requirements(setup_cfg))


def subset(lock: str, roots: set[str]) -> list[str]:
    """The lock's lines for ``roots`` and everything they need, in the lock's order."""
    blocks, needed_by = read_lock(lock)
    requires: dict[str, set[str]] = {}
    for pin, vias in needed_by.items():
        for via in vias:
            requires.setdefault(via, set()).add(pin)
    missing = sorted(roots - set(blocks))
    if missing:
        raise SystemExit(f"requirements.lock has no pin for {', '.join(missing)}: run make lock")
    reached, queue = set(roots), list(roots)
    while queue:
        for dependency in requires.get(queue.pop(), ()):
            if dependency not in reached:
                reached.add(dependency)
                queue.append(dependency)
    return [line for pin, lines in blocks.items() if pin in reached for line in lines]


def main(argv: list[str]) -> int:
    build = argv[:1] == ["--build"]
    paths = argv[1:] if build else argv
    if len(paths) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lock, declared = (Path(path).read_text(encoding="utf-8") for path in paths)
    if build:
        print(f"# The build tools of {paths[0]}, written by contrib/runtime_lock.py; install first with\n"
              "#   pip install --require-hashes --no-deps -r THIS_FILE")
        print("\n".join(subset(lock, build_requirements(declared))))
    else:
        print(f"# The run-time part of {paths[0]}, written by contrib/runtime_lock.py; after the build tools,\n"
              "#   pip install --require-hashes --no-deps --no-build-isolation -r THIS_FILE")
        print("\n".join(runtime_subset(lock, declared)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
