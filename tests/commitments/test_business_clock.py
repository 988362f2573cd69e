"""BusinessClock: a report's thousands of durations on one calendar give the same figures as
``business_time_between``, whatever the pair (across DST changes, holidays, closed nights,
reaching outside the clock's span)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from commitments.calendars import BusinessClock, Calendar, business_time_between

LONDON = ZoneInfo("Europe/London")
UK = holidays.country_holidays("GB", subdiv="ENG")
OFFICE = Calendar(
    tz=LONDON,
    weekly={d: [(time(9), time(12, 30)), (time(13, 30), time(17))] for d in range(5)}
    | {5: [(time(22), None)], 6: [(time(0, 30), time(2))]},
    is_closed_day=lambda d: d in UK,
)
# the clock covers March to mid-April 2026: the clocks go forward on 29 March, Easter closes
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 15, tzinfo=UTC)
CLOCK = BusinessClock(OFFICE, START, END)
instants = st.integers(
    min_value=int((START - timedelta(days=3)).timestamp()),
    max_value=int((END + timedelta(days=3)).timestamp()),
).map(float)


@settings(max_examples=150, deadline=None)
@given(a=instants, b=instants)
def test_the_clock_agrees_with_business_time_between(a: float, b: float) -> None:
    at = datetime.fromtimestamp
    expected = business_time_between(OFFICE, at(a, UTC), at(b, UTC)).total_seconds()
    assert round(CLOCK.seconds(a, b), 6) == expected


def test_a_week_of_office_hours() -> None:
    monday = datetime(2026, 3, 9, 8, tzinfo=UTC).timestamp()  # 08:00 in London (GMT)
    # five days of 7 h, Saturday 22:00–24:00 and Sunday 00:30–02:00
    assert CLOCK.seconds(monday, monday + 7 * 86400) == (5 * 7 + 2 + 1.5) * 3600
