"""Drawing values from a seeded random generator: the only source of variety in the demo data.

Every function takes the generator explicitly, so the order of draws (and so the data a seed
gives) is fixed by the caller's code alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXY"


def pick(rng: random.Random, weights: dict[T, int]) -> T:
    """One key of ``weights``, chosen in proportion to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def fill(rng: random.Random, pattern: str) -> str:
    """Replace # with a digit, A with a capital letter and X with either in ``pattern``."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "A":
            out.append(rng.choice(_LETTERS))
        elif ch == "X":
            out.append(rng.choice(_LETTERS + "0123456789"))
        else:
            out.append(ch)
    return "".join(out)


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in [start, end], to the second (``start`` when the span is empty)."""
    seconds = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, seconds))
