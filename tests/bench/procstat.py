"""What the kernel accounts to processes: CPU time and resident memory, read from /proc."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return raw[raw.rindex(")") + 2:].split()


def group_members(pgid: int) -> list[int]:
    """Every live process of the process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def group_cpu_seconds(pgid: int) -> float:
    """CPU (user + system) used so far by the process group led by ``pgid``.

    The leader's own time, the time of its reaped children (a recycled gunicorn worker's time moves
    there when the master reaps it), and the time of the live members."""
    total = 0
    for pid in group_members(pgid):
        fields = _stat(pid)
        if fields is None:
            continue
        # After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        # utime(11) stime(12) cutime(13) cstime(14)
        total += int(fields[11]) + int(fields[12])
        if pid == pgid:
            total += int(fields[13]) + int(fields[14])
    return total / TICKS


def rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return pages * PAGE / 2**20


def children(pid: int) -> list[int]:
    found = []
    for member in group_members(os.getpgid(pid)):
        fields = _stat(member)
        if fields is not None and int(fields[1]) == pid:
            found.append(member)
    return found
