"""Run a command under the parts of a systemd unit's sandbox that a process can put on itself,
read from the unit file: ``NoNewPrivileges=``, ``MemoryDenyWriteExecute=`` (the kernel's
``PR_SET_MDWE``, Linux 6.3+) and ``SystemCallFilter=`` with ``SystemCallErrorNumber=`` (a seccomp
filter built from ``systemd-analyze syscall-filter``'s groups, as systemd builds it).

    /usr/bin/python3 tests/systemd_sandbox.py UNIT_FILE COMMAND [ARG...]

It runs with Debian's own Python (``python3-seccomp``), not the project's, so that the service
itself starts from its own interpreter after ``execv``; the restrictions survive ``execv`` and
are inherited by every process the command starts. Exit status 3: the sandbox cannot be set up here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1


def unit_settings(path: str) -> dict[str, list[str]]:
    """The [Service] section's settings, each with every value it was given, in order."""
    values: dict[str, list[str]] = {}
    section = None
    with open(path, encoding="utf-8") as unit:
        for raw in unit:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                key, _, value = line.partition("=")
                values.setdefault(key.strip(), []).append(value.strip())
    return values


def expand(name: str, seen: set[str] | None = None) -> set[str]:
    """The system calls of a group (``@name``, nested groups expanded) or a single call."""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    listed = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    calls: set[str] = set()
    for line in listed[1:]:
        item = line.strip()
        if item and not item.startswith("#"):
            calls |= expand(item, seen)
    return calls


def allowed_calls(filters: list[str]) -> set[str] | None:
    """What SystemCallFilter= lines allow, as systemd reads them: the first line's kind (an allow
    list, or ``~`` a deny list) decides; later allow lines add, later ``~`` lines remove."""
    if not filters:
        return None
    allowed: set[str] = set()
    for index, line in enumerate(filters):
        deny = line.startswith("~")
        names = set().union(*(expand(n) for n in line.lstrip("~").split()))
        if index == 0 and deny:
            raise SystemExit("a deny-list first SystemCallFilter= is not emulated here")
        allowed = allowed - names if deny else allowed | names
    return allowed


def main() -> int:
    unit, command = sys.argv[1], sys.argv[2:]
    settings = unit_settings(unit)
    libc = ctypes.CDLL(None, use_errno=True)
    if settings.get("NoNewPrivileges", ["no"])[-1] in ("yes", "true", "1"):
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            print("no_new_privs cannot be set here", file=sys.stderr)
            return 3
    if settings.get("MemoryDenyWriteExecute", ["no"])[-1] in ("yes", "true", "1"):
        if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            print("this kernel has no PR_SET_MDWE (Linux 6.3+): MemoryDenyWriteExecute cannot be emulated",
                  file=sys.stderr)
            return 3
    calls = allowed_calls(settings.get("SystemCallFilter", []))
    if calls is not None:
        try:
            import seccomp
        except ImportError:
            print("python3-seccomp is not installed: SystemCallFilter cannot be emulated", file=sys.stderr)
            return 3
        error = settings.get("SystemCallErrorNumber", ["EPERM"])[-1]
        action = seccomp.ERRNO(getattr(errno, error)) if error != "kill" else seccomp.KILL
        sandbox = seccomp.SyscallFilter(defaction=action)
        for call in sorted(calls):
            try:
                sandbox.add_rule(seccomp.ALLOW, call)
            except (RuntimeError, ValueError):
                pass  # not a system call of this architecture
        sandbox.load()
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
