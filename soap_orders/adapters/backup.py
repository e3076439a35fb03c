"""An online copy of a SQLite database, taken while the service runs (``soap-orders db backup``).

SQLite's backup API copies the database page by page inside read transactions, so the copy is one
consistent state even while other processes write (WAL mode lets them go on meanwhile); a plain
file copy of a database in WAL mode can miss what is still in the ``-wal`` file. The copy is
written beside the target under a temporary name, checked (``PRAGMA integrity_check``), and only
then renamed into place, so a failed backup never leaves a half-written file under the target's name.
PostgreSQL is backed up with its own tools (``pg_dump -Fc``; docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite URL; BackupError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"{url.get_backend_name()} is backed up with its own tools: pg_dump -Fc (see docs/deploy.md)")
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path, *, pages_per_step: int = 1024) -> int:
    """Copy the SQLite database of ``database_url`` to ``target`` (which must not exist) while it
    is in use; returns the number of orders the copy holds."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    if target.exists():
        raise BackupError(f"{target} exists; name a new file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # Small steps: writers are held up only while a step reads.
            source.backup(copy, pages=pages_per_step, sleep=0.005)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:3])}")
            orders = int(copy.execute("SELECT count(*) FROM orders").fetchone()[0])
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.chmod(partial, 0o600)  # it holds the clients' secret hashes
    partial.rename(target)
    return orders
