"""requirements.lock agrees with setup.cfg and pyproject.toml.

The lock (``make lock``) pins, with hashes, what ``make run``, ``make test``, ``make lint``,
``make bench`` and CI install; setup.cfg keeps the ranges a wheel's users get. Each requirement
there (the runtime ones, the ``test`` and ``lint`` extras, and the build requirements) must be
pinned in the lock at a version inside its range, or the suite ran against something the project
does not declare. Read from the files only: no network, no installed packages consulted.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ("test", "lint")

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(\\?)\s*$")
_HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?\s*$")


def declared(setup_cfg: str, pyproject: str) -> list[tuple[str, Requirement]]:
    """Every requirement the project declares, with where it is declared."""
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(setup_cfg)
    found = [("install_requires", line) for line in config["options"]["install_requires"].splitlines()]
    for extra in EXTRAS:
        found += [(f"extra {extra}", line) for line in config["options.extras_require"][extra].splitlines()]
    found += [("build-system", line) for line in tomllib.loads(pyproject)["build-system"]["requires"]]
    return [(where, Requirement(line)) for where, line in found if line.strip() and not line.startswith("#")]


def pinned(lock: str) -> tuple[dict[str, str], list[str]]:
    """The lock's pins (canonical name -> version), and what is wrong with its form."""
    pins: dict[str, str] = {}
    problems: list[str] = []
    lines = lock.splitlines()
    for number, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#") or _HASH.match(line):
            continue
        match = _PIN.match(line)
        if match is None:
            problems.append(f"line {number + 1} is not a pin of the form name==version: {line!r}")
            continue
        name = canonicalize_name(match[1])
        if name in pins:
            problems.append(f"{name} is pinned twice")
        pins[name] = match[2]
        if not (match[3] and number + 1 < len(lines) and _HASH.match(lines[number + 1])):
            problems.append(f"{name}=={match[2]} has no hash")
    return pins, problems


def disagreements(setup_cfg: str, pyproject: str, lock: str) -> list[str]:
    """Each way the lock and the declared requirements disagree (none when they agree)."""
    pins, problems = pinned(lock)
    for where, requirement in declared(setup_cfg, pyproject):
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} ({where}) is not in the lock")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{requirement} ({where}) is pinned at {pins[name]}, outside its range")
    return problems


def _files() -> tuple[str, str, str]:
    """setup.cfg, pyproject.toml and requirements.lock, as committed."""
    def read(name: str) -> str:
        return (ROOT / name).read_text(encoding="utf-8")

    return read("setup.cfg"), read("pyproject.toml"), read("requirements.lock")


def test_the_lock_pins_every_declared_requirement_inside_its_range() -> None:
    assert disagreements(*_files()) == []


def test_the_lock_pins_the_extras_of_requirements_too() -> None:
    # psycopg[binary] needs psycopg-binary; the lock was made with --strip-extras, so the extra's
    # package is pinned on its own, at psycopg's version.
    pins, _ = pinned(_files()[2])
    assert pins["psycopg-binary"] == pins["psycopg"]


def test_a_requirement_missing_from_the_lock_is_found() -> None:
    setup_cfg, pyproject, lock = _files()
    added = setup_cfg.replace("    click>=8.1,<9\n", "    click>=8.1,<9\n    pendulum>=3\n")
    assert added != setup_cfg

    assert disagreements(added, pyproject, lock) == ["pendulum>=3 (install_requires) is not in the lock"]


def test_a_pin_outside_the_declared_range_is_found() -> None:
    setup_cfg, pyproject, lock = _files()
    pins, _ = pinned(lock)
    narrowed = re.sub(r"^    lxml>=.*$", f"    lxml<{pins['lxml']}", setup_cfg, flags=re.M)
    assert narrowed != setup_cfg

    assert disagreements(narrowed, pyproject, lock) == [
        f"lxml<{pins['lxml']} (install_requires) is pinned at {pins['lxml']}, outside its range"
    ]


def test_a_build_requirement_and_an_extra_are_checked_as_well() -> None:
    setup_cfg, pyproject, lock = _files()
    dropped = re.sub(r"^(wheel|ruff)==.*\n(?:^\s+.*\n)*", "", lock, flags=re.M)

    assert disagreements(setup_cfg, pyproject, dropped) == [
        "ruff>=0.6 (extra lint) is not in the lock",
        "wheel (build-system) is not in the lock",
    ]


def test_a_pin_without_a_hash_or_a_line_that_is_not_a_pin_is_found() -> None:
    setup_cfg, pyproject, lock = _files()
    altered = lock + "extra-package==1.0\nlxml>=5\n"

    assert disagreements(setup_cfg, pyproject, altered) == [
        "extra-package==1.0 has no hash",
        f"line {len(lock.splitlines()) + 2} is not a pin of the form name==version: 'lxml>=5'",
    ]
