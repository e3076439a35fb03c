"""Calendar arithmetic for recurring dates: days, weeks, months and years counted from an anchor.

Every occurrence is computed from the anchor, never from the previous occurrence, so a schedule that
starts on the 31st falls on the last day of shorter months and returns to the 31st when the month
has one (Jan 31, Feb 28, Mar 31, Apr 30, ...). A yearly schedule that starts on Feb 29 falls on
Feb 28 in common years and on Feb 29 in leap years.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date, timedelta

#: The last year a date can have; occurrences beyond it cannot be computed.
MAX_YEAR = 9999


class Interval(str, enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class OutOfCalendar(ValueError):
    """The date asked for lies beyond the last representable year."""


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by ``months`` calendar months, its day clamped to the target month's length."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= MAX_YEAR:
        raise OutOfCalendar("date out of range")
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def shift(anchor: date, interval: Interval, amount: int) -> date:
    """``anchor`` moved by ``amount`` intervals (negative moves back)."""
    try:
        if interval is Interval.DAY:
            return anchor + timedelta(days=amount)
        if interval is Interval.WEEK:
            return anchor + timedelta(weeks=amount)
    except OverflowError:
        raise OutOfCalendar("date out of range") from None
    months = amount * 12 if interval is Interval.YEAR else amount
    return add_months(anchor, months)


def occurrence(anchor: date, interval: Interval, count: int, index: int) -> date:
    """The ``index``-th date of a schedule that repeats every ``count`` intervals from ``anchor``
    (index 0 is the anchor itself)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return shift(anchor, interval, count * index)


def _approximate_days(interval: Interval) -> float:
    return {Interval.DAY: 1.0, Interval.WEEK: 7.0, Interval.MONTH: 30.436875, Interval.YEAR: 365.2425}[interval]


def first_on_or_after(anchor: date, interval: Interval, count: int, day: date) -> date:
    """The first date of the schedule that is ``day`` or later (the anchor when ``day`` precedes it)."""
    if day <= anchor:
        return anchor
    # Start from an estimate a little below the answer, then step forward: the schedule is
    # increasing, so the first index whose date reaches ``day`` is the answer.
    index = max(int((day - anchor).days / (_approximate_days(interval) * count)) - 1, 0)
    while occurrence(anchor, interval, count, index) >= day and index > 0:
        index -= 1
    while occurrence(anchor, interval, count, index) < day:
        index += 1
    return occurrence(anchor, interval, count, index)


def first_after(anchor: date, interval: Interval, count: int, day: date) -> date:
    """The first date of the schedule strictly after ``day``."""
    return first_on_or_after(anchor, interval, count, day + timedelta(days=1))

