"""What ``make wheel`` hands a server (docs/deploy.md): a wheel holding everything the service
reads at run time, and the run-time part of requirements.lock, complete (every requirement of
every package in it is in it) and without the test and lint tools."""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement

from tests.server import ROOT

LOCK = ROOT / "requirements.lock"
TOOLS_ONLY = {"pytest", "pytest-cov", "hypothesis", "schemathesis", "suds-community", "mutmut", "playwright", "ruff",
              "mypy"}


def load_runtime_lock():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("runtime_lock", ROOT / "contrib" / "runtime_lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


needs_lock = pytest.mark.skipif(not LOCK.exists(), reason="requirements.lock is not in this checkout")


@needs_lock
def test_the_runtime_lock_is_complete_and_holds_no_tools():
    runtime_lock = load_runtime_lock()
    lines = runtime_lock.runtime_subset(LOCK.read_text(), (ROOT / "setup.cfg").read_text())
    pins = {normalized(line.split("==")[0]): line.split("==")[1].split()[0] for line in lines if "==" in line}
    assert all(line.startswith("    --hash=sha256:") for line in lines if "==" not in line)
    assert runtime_lock.runtime_requirements((ROOT / "setup.cfg").read_text()) <= set(pins)
    assert not TOOLS_ONLY & set(pins)
    # Complete: what each pinned package requires (read from the installed packages, which make
    # installs from the same lock) is pinned too, at a version it accepts.
    for name in pins:
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            dependency = normalized(requirement.name)
            assert dependency in pins, f"{name} needs {dependency}, which the run-time lock leaves out"
            assert requirement.specifier.contains(pins[dependency], prereleases=True), (name, text)


@needs_lock
def test_the_build_lock_holds_the_build_tools_and_what_they_need():
    runtime_lock = load_runtime_lock()
    lines = runtime_lock.subset(LOCK.read_text(), runtime_lock.build_requirements((ROOT / "pyproject.toml").read_text()))
    pins = {normalized(line.split("==")[0]) for line in lines if "==" in line}
    assert {"setuptools", "wheel"} <= pins and not TOOLS_ONLY & pins
    for name in pins:
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                assert normalized(requirement.name) in pins, (name, text)


def test_the_runtime_lock_follows_the_locks_annotations():
    runtime_lock = load_runtime_lock()
    lock = """alpha==1.0 \\
    --hash=sha256:aa
    # via soap_orders (pyproject.toml)
beta==2.0 \\
    --hash=sha256:bb
    # via
    #   alpha
    #   pytest
pytest==9.0 \\
    --hash=sha256:cc
    # via soap_orders (pyproject.toml)
gamma==3.0 \\
    --hash=sha256:dd
    # via beta
"""
    setup = "[options]\ninstall_requires =\n    Alpha>=1\n"
    assert runtime_lock.runtime_subset(lock, setup) == [
        "alpha==1.0 \\", "    --hash=sha256:aa", "beta==2.0 \\", "    --hash=sha256:bb",
        "gamma==3.0 \\", "    --hash=sha256:dd"]
    with pytest.raises(SystemExit, match="no pin for delta"):
        runtime_lock.runtime_subset(lock, "[options]\ninstall_requires =\n    delta\n")


def test_the_wheel_holds_what_the_service_reads(tmp_path):
    try:
        setuptools_version = int(metadata.version("setuptools").split(".")[0])
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        setuptools_version = 0
    if setuptools_version < 68:
        pytest.skip("the build tools requirements.lock pins (setuptools>=68, wheel) are not installed here")
    # From a copy of what the wheel is made of: a build/ directory left in the checkout by an earlier
    # build would otherwise be packed too.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("soap_orders", "wsdl"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("soap_orders-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {p.name for p in (ROOT / "soap_orders" / "adapters" / "migrations" / "versions").glob("0*.py")}
    assert {n.rsplit("/", 1)[1] for n in names if "/migrations/versions/0" in n} == migrations
    assert "soap_orders/adapters/migrations/env.py" in names and "soap_orders/adapters/migrations/script.py.mako" in names
    assert "soap_orders/gunicorn_conf.py" in names
    examples = {p.name for p in (ROOT / "wsdl" / "examples").glob("*.xml")}
    assert {n.rsplit("/", 1)[1] for n in names if "/data/share/soap-orders/examples/" in n} == examples
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "soap-orders = soap_orders.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(n.startswith("tests/") for n in names)
