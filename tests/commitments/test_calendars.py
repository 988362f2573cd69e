"""Business time on a team's calendar: exact cases, then the laws as properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commitments.calendars import (
    Calendar,
    add_business_time,
    business_time_between,
    is_working_time,
    parse_business_duration,
    subtract_business_time,
)

LONDON = ZoneInfo("Europe/London")
UK = holidays.country_holidays("GB", subdiv="ENG")


def office(**kwargs) -> Calendar:
    """Mon–Fri 09:00–12:30 and 13:30–17:00 in London, English bank holidays."""
    day = [(time(9), time(12, 30)), (time(13, 30), time(17))]
    return Calendar(
        tz=LONDON,
        weekly={d: day for d in range(5)},
        **{"is_closed_day": lambda d: d in UK, **kwargs},
    )


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


H = timedelta(hours=1)


def test_it_counts_only_working_intervals_within_a_day():
    assert add_business_time(office(), at(2026, 11, 25, 11), 2 * H) == at(2026, 11, 25, 14)


def test_it_lands_on_an_intervals_end_and_stays_there():
    assert add_business_time(office(), at(2026, 11, 25, 11), 90 * timedelta(minutes=1)) == at(
        2026, 11, 25, 12, 30
    )


def test_it_starts_the_clock_at_the_next_opening():
    assert add_business_time(office(), at(2026, 11, 25, 19), H) == at(2026, 11, 26, 10)


def test_it_skips_the_weekend():
    # Friday 16:00 + 2 business hours → Monday 10:00
    assert add_business_time(office(), at(2026, 11, 27, 16), 2 * H) == at(2026, 11, 30, 10)


def test_it_skips_public_holidays():
    # Thursday 24 Dec 2026 16:00 + 2h: Christmas (Fri), weekend, Boxing Day observed (Mon 28)
    assert add_business_time(office(), at(2026, 12, 24, 16), 2 * H) == at(2026, 12, 29, 10)


def test_it_skips_the_teams_own_closed_days():
    closed = {date(2026, 11, 26)}
    cal = office(is_closed_day=lambda d: d in closed or d in UK)
    assert add_business_time(cal, at(2026, 11, 25, 16), 2 * H) == at(2026, 11, 27, 10)


def test_it_counts_real_time_across_a_dst_change_in_a_24_hour_interval():
    # Clocks go forward at 01:00 on 29 March 2026: that Sunday has 23 hours.
    cal = Calendar(tz=LONDON, weekly={d: [(time(0), None)] for d in range(7)})
    start = at(2026, 3, 29, 0)
    assert add_business_time(cal, start, 23 * H) == at(2026, 3, 30, 0)
    assert business_time_between(cal, start, at(2026, 3, 30, 0)) == 23 * H


def test_working_hours_follow_local_time_over_a_dst_change():
    # Friday 16:00 GMT + 2h → Monday 10:00 BST (09:00 UTC), not 10:00 UTC.
    result = add_business_time(office(), at(2026, 3, 27, 16), 2 * H)
    assert result == at(2026, 3, 30, 10)
    assert result.astimezone(UTC) == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_an_interval_ending_inside_the_spring_gap_ends_at_the_jump():
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 never happens.
    ny = ZoneInfo("America/New_York")
    cal = Calendar(tz=ny, weekly={6: [(time(0, 30), time(2, 30))]})
    opens = datetime(2026, 3, 8, 0, 30, tzinfo=ny)
    assert add_business_time(cal, opens, 90 * timedelta(minutes=1)) == datetime(
        2026, 3, 8, 7, tzinfo=UTC
    )
    assert business_time_between(cal, opens, opens + timedelta(days=1)) == 90 * timedelta(minutes=1)


def test_days_that_start_with_a_jump_at_midnight():
    # Santiago: 6 Sept 2026 starts at 01:00 (23 hours); 4 April 2026 has 25 hours.
    scl = ZoneInfo("America/Santiago")
    cal = Calendar(tz=scl, weekly={d: [(time(0), None)] for d in range(7)})
    sept5 = datetime(2026, 9, 5, 12, tzinfo=scl)
    assert business_time_between(cal, sept5, sept5 + timedelta(days=2)) == 47 * H
    april3 = datetime(2026, 4, 3, 12, tzinfo=scl)
    assert business_time_between(cal, april3, datetime(2026, 4, 5, 12, tzinfo=scl)) == 49 * H


def test_comparisons_are_between_instants_not_wall_clocks():
    # 01:30 on 25 Oct 2026 happens twice in London; a day of 24 h intervals has 25 hours.
    cal = Calendar(tz=LONDON, weekly={6: [(time(0), None)]})
    start = at(2026, 10, 25, 0)
    end = add_business_time(cal, start, 25 * H)
    assert end == at(2026, 10, 26, 0)
    assert end.utcoffset() == timedelta()  # results are UTC instants


def test_a_business_day_is_the_longest_weekday():
    assert office().standard_day == 7 * H
    assert Calendar(tz=LONDON, around_the_clock=True).standard_day == 24 * H


def test_around_the_clock_is_plain_time():
    cal = Calendar(tz=LONDON, around_the_clock=True)
    start = at(2026, 12, 24, 23)
    assert add_business_time(cal, start, 5 * H) == start + 5 * H
    assert subtract_business_time(cal, start, 5 * H) == start - 5 * H


def test_subtracting_walks_back_over_the_weekend():
    assert subtract_business_time(office(), at(2026, 11, 30, 10), 2 * H) == at(2026, 11, 27, 16)


def test_subtracting_lands_on_an_opening_and_stays_there():
    assert subtract_business_time(office(), at(2026, 11, 25, 10), H) == at(2026, 11, 25, 9)


def test_a_calendar_without_hours_is_refused():
    with pytest.raises(ValueError):
        add_business_time(Calendar(tz=LONDON), at(2026, 11, 25, 10), H)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_time(office(), datetime(2026, 11, 25, 10), H)


@pytest.mark.parametrize(
    ("words", "amount", "unit"),
    [
        ("2 business days", 2, "day"),
        ("4 business hours", 4, "hour"),
        ("1 business hour", 1, "hour"),
        ("30 minutes", 30, "minute"),
        ("1.5 business days", 1.5, "day"),
    ],
)
def test_it_reads_durations_in_words(words, amount, unit):
    parsed = parse_business_duration(words)
    assert parsed is not None
    assert (parsed.amount, parsed.unit) == (amount, unit)


@pytest.mark.parametrize("words", ["", "soon", "0 business days", "-2 days", "2 fortnights"])
def test_it_refuses_durations_it_cannot_read(words):
    assert parse_business_duration(words) is None


# --- the laws -------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.just(UTC),
)
durations = st.integers(min_value=1, max_value=40 * 7 * 60).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from(
    [
        office(),
        Calendar(
            tz=ZoneInfo("America/New_York"), weekly={d: [(time(8), time(20))] for d in range(6)}
        ),
        Calendar(
            tz=ZoneInfo("Australia/Sydney"), weekly={0: [(time(22), None)], 2: [(time(0), time(4))]}
        ),
        # Sundays only, with intervals across the small hours when clocks change
        Calendar(
            tz=ZoneInfo("America/New_York"),
            weekly={6: [(time(0, 30), time(2, 30)), (time(2, 45), time(3, 15)), (time(9), None)]},
        ),
        Calendar(tz=LONDON, weekly={6: [(time(0), None)]}),
        Calendar(
            tz=ZoneInfo("America/Santiago"),
            weekly={d: [(time(0), time(0, 30)), (time(23), None)] for d in range(7)},
        ),
    ]
)
fast = settings(max_examples=150, deadline=None)


@fast
@given(calendars, starts, durations, durations)
def test_adding_is_monotonic(cal, start, a, b):
    small, large = sorted((a, b))
    assert add_business_time(cal, start, small) <= add_business_time(cal, start, large)


@fast
@given(calendars, starts, starts, durations)
def test_a_later_start_never_lands_earlier(cal, s1, s2, d):
    early, late = sorted((s1, s2))
    assert add_business_time(cal, early, d) <= add_business_time(cal, late, d)


@fast
@given(calendars, starts, durations, durations)
def test_adding_is_additive(cal, start, a, b):
    assert add_business_time(cal, add_business_time(cal, start, a), b) == add_business_time(
        cal, start, a + b
    )


@fast
@given(calendars, starts, durations)
def test_it_never_lands_outside_working_hours(cal, start, d):
    assert is_working_time(cal, add_business_time(cal, start, d))


@fast
@given(calendars, starts, durations)
def test_it_round_trips_with_business_time_between(cal, start, d):
    assert business_time_between(cal, start, add_business_time(cal, start, d)) == d


@fast
@given(calendars, starts, starts)
def test_between_is_antisymmetric_and_never_exceeds_real_time(cal, a, b):
    forward = business_time_between(cal, a, b)
    assert business_time_between(cal, b, a) == -forward
    assert abs(forward) <= abs(b - a)


@fast
@given(calendars, starts, durations)
def test_subtracting_undoes_adding(cal, start, d):
    end = add_business_time(cal, start, d)
    back = subtract_business_time(cal, end, d)
    assert back <= start or business_time_between(cal, start, back) == timedelta()
    assert business_time_between(cal, back, end) == d
