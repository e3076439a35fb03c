"""Schedule arithmetic: month ends, leap years, weeks, days and years, always counted from the anchor."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soap_orders.domain.recurrence import (
    Interval,
    OutOfCalendar,
    add_months,
    first_after,
    first_on_or_after,
    occurrence,
    shift,
)


def test_month_ends_clamp_and_return_to_the_anchor_day():
    anchor = date(2026, 1, 31)
    dates = [occurrence(anchor, Interval.MONTH, 1, i) for i in range(13)]
    assert dates == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
        date(2026, 6, 30), date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31),
        date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 31),
    ]


def test_january_31_plus_one_month_in_a_leap_year_is_february_29():
    assert occurrence(date(2028, 1, 31), Interval.MONTH, 1, 1) == date(2028, 2, 29)
    assert occurrence(date(2028, 1, 31), Interval.MONTH, 1, 2) == date(2028, 3, 31)


def test_the_30th_falls_on_february_28_then_back_on_the_30th():
    assert [occurrence(date(2026, 1, 30), Interval.MONTH, 1, i) for i in range(3)] == [
        date(2026, 1, 30), date(2026, 2, 28), date(2026, 3, 30)]


def test_every_two_months_from_december_31_crosses_the_year():
    assert [occurrence(date(2025, 12, 31), Interval.MONTH, 2, i) for i in range(4)] == [
        date(2025, 12, 31), date(2026, 2, 28), date(2026, 4, 30), date(2026, 6, 30)]


def test_yearly_from_february_29():
    anchor = date(2024, 2, 29)
    assert [occurrence(anchor, Interval.YEAR, 1, i) for i in range(5)] == [
        date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_century_years_follow_the_gregorian_rule():
    assert occurrence(date(2096, 2, 29), Interval.YEAR, 4, 1) == date(2100, 2, 28)  # 2100 is not leap
    assert occurrence(date(1996, 2, 29), Interval.YEAR, 4, 1) == date(2000, 2, 29)  # 2000 is


def test_monthly_from_february_29_keeps_the_29th_not_the_month_end():
    assert [occurrence(date(2028, 2, 29), Interval.MONTH, 1, i) for i in range(3)] == [
        date(2028, 2, 29), date(2028, 3, 29), date(2028, 4, 29)]


def test_weeks_and_days_are_exact_and_cross_leap_days():
    assert occurrence(date(2028, 2, 22), Interval.WEEK, 1, 1) == date(2028, 2, 29)
    assert occurrence(date(2028, 2, 22), Interval.WEEK, 2, 1) == date(2028, 3, 7)
    assert occurrence(date(2026, 2, 22), Interval.WEEK, 1, 1) == date(2026, 3, 1)
    assert occurrence(date(2026, 12, 30), Interval.DAY, 3, 1) == date(2027, 1, 2)


def test_shift_backwards():
    assert shift(date(2026, 3, 31), Interval.MONTH, -1) == date(2026, 2, 28)
    assert shift(date(2026, 3, 1), Interval.DAY, -1) == date(2026, 2, 28)


def test_add_months_beyond_the_calendar_is_refused():
    with pytest.raises(OutOfCalendar):
        add_months(date(9999, 12, 1), 1)
    with pytest.raises(OutOfCalendar):
        shift(date(9999, 12, 31), Interval.DAY, 1)


def test_count_must_be_positive():
    with pytest.raises(ValueError):
        occurrence(date(2026, 1, 1), Interval.DAY, 0, 1)


def test_first_on_or_after_and_first_after():
    anchor = date(2026, 1, 31)
    assert first_on_or_after(anchor, Interval.MONTH, 1, date(2026, 2, 28)) == date(2026, 2, 28)
    assert first_after(anchor, Interval.MONTH, 1, date(2026, 2, 28)) == date(2026, 3, 31)
    assert first_on_or_after(anchor, Interval.MONTH, 1, date(2026, 3, 1)) == date(2026, 3, 31)
    assert first_on_or_after(anchor, Interval.MONTH, 1, date(2025, 1, 1)) == anchor  # before the anchor
    assert first_after(anchor, Interval.MONTH, 1, date(2026, 1, 30)) == anchor


# Every anchor day of 2023-2029 (including both leap days), every interval, counts 1-3.
ANCHORS = st.dates(min_value=date(2023, 1, 1), max_value=date(2029, 12, 31))
INTERVALS = st.sampled_from(list(Interval))
COUNTS = st.integers(min_value=1, max_value=3)


@given(ANCHORS, INTERVALS, COUNTS, st.integers(min_value=0, max_value=60))
def test_occurrences_increase_and_keep_the_anchor_day_when_the_month_has_it(anchor, interval, count, index):
    here, there = occurrence(anchor, interval, count, index), occurrence(anchor, interval, count, index + 1)
    assert there > here
    if interval in (Interval.MONTH, Interval.YEAR):
        last_day = calendar.monthrange(there.year, there.month)[1]
        assert there.day == min(anchor.day, last_day)
    else:
        step = timedelta(days=count * (7 if interval is Interval.WEEK else 1))
        assert there - here == step


@given(ANCHORS, INTERVALS, COUNTS, st.integers(min_value=-400, max_value=3000))
def test_first_on_or_after_is_the_smallest_schedule_date_not_before_the_day(anchor, interval, count, offset):
    day = anchor + timedelta(days=offset)
    found = first_on_or_after(anchor, interval, count, day)
    assert found >= day and found >= anchor
    # It is on the schedule, and the schedule date before it is before the day (or it is the anchor).
    index = next(i for i in range(5000) if occurrence(anchor, interval, count, i) >= found)
    assert occurrence(anchor, interval, count, index) == found
    assert index == 0 or occurrence(anchor, interval, count, index - 1) < day
    assert first_after(anchor, interval, count, day) > day


def test_the_first_and_last_months_of_the_calendar_are_reachable_and_nothing_beyond():
    assert add_months(date(1, 2, 28), -1) == date(1, 1, 28)
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)
    assert shift(date(9998, 12, 31), Interval.YEAR, 1) == date(9999, 12, 31)
    with pytest.raises(OutOfCalendar):
        add_months(date(1, 1, 28), -1)
    with pytest.raises(OutOfCalendar):
        add_months(date(9999, 12, 1), 1)
    with pytest.raises(OutOfCalendar):
        shift(date(9999, 12, 31), Interval.DAY, 1)


def test_a_schedule_repeats_every_one_interval_at_least():
    assert occurrence(date(2026, 1, 1), Interval.WEEK, 1, 2) == date(2026, 1, 15)
    with pytest.raises(ValueError):
        occurrence(date(2026, 1, 1), Interval.WEEK, 0, 2)
