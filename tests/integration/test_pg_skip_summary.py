"""`make test` without PostgreSQL prints one summary line for all the PostgreSQL skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_postgresql_skips_fold_into_one_summary_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration/test_store.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    skip_lines = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skip_lines) == 1, skip_lines
    assert "PostgreSQL tests need SOAP_ORDERS_TEST_DATABASE_URL" in skip_lines[0]
    count = int(skip_lines[0].split("[", 1)[1].split("]", 1)[0])
    assert count > 10
