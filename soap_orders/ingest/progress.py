"""Where a long import stands (records, rate, ETA on stderr) and how it is asked to stop (Ctrl-C)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from .report import ImportReport


class Progress:
    """Where an import stands: bytes read, records done, rate and ETA, shown on stderr (a line kept
    up to date on a terminal, or a line every ``every`` seconds); and whether to stop reading."""

    def __init__(self, report: ImportReport, total: int, *, terminal: bool, every: float | None,
                 out: IO[str] | None = None) -> None:
        self.report = report
        self.total = max(total, 1)
        self.read = 0
        self.stopping = False
        self.terminal = terminal
        self.every = 0.2 if terminal else every
        self.out = out or sys.stderr
        self.started = self.shown = time.monotonic()

    def done(self) -> int:
        report = self.report
        return report.created + report.updated + report.unchanged + len(report.errors)

    def advance(self, size: int) -> None:
        self.read += size
        if self.every is not None and time.monotonic() - self.shown >= self.every:
            self.show()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done, fraction = self.done(), min(self.read / self.total, 1.0)
        rate = done / elapsed
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        return (f"import: {done:,} records ({fraction:.0%} of the file), {rate:,.0f}/s, "
                f"{len(self.report.errors):,} failed, ETA {duration(eta)}")

    def show(self) -> None:
        self.shown = time.monotonic()
        if self.terminal:
            self.out.write("\r" + self.line() + "\x1b[K")
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()

    def finish(self) -> None:
        """On a terminal, the line as it ends (with the whole import's rate) stays on the screen."""
        if self.terminal:
            self.show()
            self.out.write("\n")
            self.out.flush()


def duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@contextmanager
def stop_on_interrupt(tracker: Progress, enabled: bool) -> Iterator[None]:
    """While enabled (in the main thread), a first SIGINT asks the import to stop after what it has
    read; the next one interrupts as usual."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: Any) -> None:
        tracker.stopping = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
