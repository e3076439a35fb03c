"""What an import did: the counts, the records refused (at their line, with the reason's code) and
the records stored with part of them set aside."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..domain.upserts import UpsertReasonCode

#: The reasons of refusals that are not an upsert's reason code: a line or part of the file that
#: is no record (not UTF-8, not JSON, not well-formed XML, not an Order), and a batch refused whole.
UNREADABLE = "UNREADABLE"
BATCH_REFUSED = "BATCH_REFUSED"
INVALID_DOCUMENT = UpsertReasonCode.INVALID_DOCUMENT.value


@dataclass
class ImportProblem:
    """One record that was not stored: where it starts in the file, why, and the reason's code
    (an upsert's reason code, or ``UNREADABLE`` / ``BATCH_REFUSED``)."""

    line: int
    message: str
    #: Not part of a problem's identity: two reports of the same line and message are the same.
    reason: str = field(default=UNREADABLE, compare=False)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportProblem] = field(default_factory=list)
    #: Records stored with part of them set aside, and why (the personal data of a forgotten
    #: customer: ``PERSONAL_DATA_FORGOTTEN``); they are not failures.
    notices: list[ImportProblem] = field(default_factory=list)
    #: Nothing was written: the counts say what an import would have done.
    dry_run: bool = False
    #: The import stopped early (an interrupt) after the batches counted here.
    stopped: bool = False

    def refused_by_reason(self) -> list[tuple[str, int]]:
        """How many records were refused for each reason, the commonest first (ties by name)."""
        counts = Counter(problem.reason for problem in self.errors)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def summary(self) -> str:
        """The last line of an import: what it did (or, in a dry run, would do)."""
        counts = (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                  f"{len(self.errors)} failed")
        if self.dry_run:
            return f"Dry run, nothing was written: {counts}."
        return counts + (" (stopped early; run the import again to go on)." if self.stopped else ".")


def clean(message: str) -> str:
    """One printable line: a message must not break the ``file:line: message`` output."""
    return "".join(ch if ch.isprintable() else "?" for ch in message)
