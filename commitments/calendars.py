"""Business time on a team's calendar: pure functions, no database.

Working time is the union of the team's intervals of each local day, minus public holidays
and the team's closed days. A duration counts real elapsed time inside working time (so a
DST change inside an interval is honoured); starting outside working time, the clock starts
at the next opening; a result that lands exactly on an interval's end stays there.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far the walk looks for working time before deciding the calendar has none.
_MAX_DAYS = 366 * 10

Interval = tuple[time, time | None]  # None as the end means midnight at the end of the day


def parse_clock(text: str) -> time | None:
    """``"09:30"`` → 09:30; ``"24:00"`` → None (the end of the day)."""
    hours, _, minutes = text.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return None
    return time(h, m)


@dataclass(frozen=True)
class Calendar:
    """A team's working time. ``weekly`` maps Monday=0 … Sunday=6 to that day's intervals."""

    tz: ZoneInfo
    weekly: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    # True when the team works around the clock: business time is plain elapsed time.
    around_the_clock: bool = False
    # date -> True when the day is a public holiday or one of the team's closed days.
    is_closed_day: Callable[[date], bool] = field(default=lambda d: False, compare=False)
    # Each local day's intervals, worked out once per calendar: a report measuring thousands
    # of durations walks the same few weeks of days again and again.
    _days: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def standard_day(self) -> timedelta:
        """The length of one business day: the longest weekday's total working time."""
        if self.around_the_clock:
            return timedelta(days=1)
        totals = [
            sum((_length(iv) for iv in self.weekly.get(day, ())), timedelta()) for day in range(7)
        ]
        return max(totals, default=timedelta())

    def intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (aware, in order) that end after ``start``, clipped to it."""
        local_day = start.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(_MAX_DAYS):
            day = local_day + timedelta(days=offset)
            for opens, closes in self._day_intervals(day):
                if closes <= start:
                    continue
                yield max(opens, start), closes
        raise ValueError("The calendar has no working time in the next ten years.")

    def intervals_before(self, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (latest first) that start before ``end``, clipped to it."""
        local_day = end.astimezone(self.tz).date() + timedelta(days=1)
        for offset in range(_MAX_DAYS):
            day = local_day - timedelta(days=offset)
            for opens, closes in reversed(self._day_intervals(day)):
                if opens >= end:
                    continue
                yield opens, min(closes, end)
        raise ValueError("The calendar has no working time in the previous ten years.")

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working intervals as UTC instants (so comparisons are between instants,
        never wall clocks of one zone)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._work_out_day(day)
        return known

    def _work_out_day(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.around_the_clock:
            return [(_instant(day, time(0), self.tz), _instant(_next(day), time(0), self.tz))]
        if self.is_closed_day(day):
            return []
        out = []
        for start_clock, end_clock in sorted(self.weekly.get(day.weekday(), ()), key=_start):
            opens = _instant(day, start_clock, self.tz)
            closes = (
                _instant(_next(day), time(0), self.tz)
                if end_clock is None
                else _instant(day, end_clock, self.tz)
            )
            if closes > opens:
                out.append((opens, closes))
        return out


def _next(day: date) -> date:
    return day + timedelta(days=1)


def _instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    An ambiguous time (clocks going back) is its first occurrence; a time that does not exist
    (clocks going forward) is the instant the clocks jumped, so an interval that starts or
    ends inside the gap starts or ends at the jump.
    """
    local = datetime.combine(day, clock, tzinfo=tz)
    first = local.astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return first
    other = local.replace(fold=1).astimezone(UTC)
    before, after = min(first, other), max(first, other)
    offset_before = before.astimezone(tz).utcoffset()
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(tz).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return after


def _start(interval: Interval) -> time:
    return interval[0]


def _length(interval: Interval) -> timedelta:
    opens, closes = interval
    end = (
        timedelta(days=1) if closes is None else timedelta(hours=closes.hour, minutes=closes.minute)
    )
    return max(end - timedelta(hours=opens.hour, minutes=opens.minute), timedelta())


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Business time needs timezone-aware datetimes.")


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (in UTC) ``duration`` of working time after ``start``.

    A zero duration returns ``start`` unchanged; a positive one always lands inside working
    time (an interval's end counts as inside).
    """
    _require_aware(start)
    if duration < timedelta():
        return subtract_business_time(calendar, start, -duration)
    if duration == timedelta():
        return start
    if calendar.around_the_clock:
        return _plus(start, duration)
    remaining = duration
    for opens, closes in calendar.intervals_from(start):
        available = _elapsed(opens, closes)
        if remaining <= available:
            return _plus(opens, remaining)
        remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover


def subtract_business_time(calendar: Calendar, end: datetime, duration: timedelta) -> datetime:
    """The instant (in UTC) ``duration`` of working time before ``end`` (adding's mirror)."""
    _require_aware(end)
    if duration <= timedelta():
        return add_business_time(calendar, end, -duration)
    if calendar.around_the_clock:
        return _plus(end, -duration)
    remaining = duration
    for opens, closes in calendar.intervals_before(end):
        available = _elapsed(opens, closes)
        if remaining <= available:
            return _plus(closes, -remaining)
        remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover


def business_time_between(calendar: Calendar, a: datetime, b: datetime) -> timedelta:
    """Working time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    _require_aware(a, b)
    if b < a:
        return -business_time_between(calendar, b, a)
    if calendar.around_the_clock:
        return _elapsed(a, b)
    total = timedelta()
    for opens, closes in calendar.intervals_from(a):
        if opens >= b:
            break
        total += _elapsed(opens, min(closes, b))
    return total


class BusinessClock:
    """Business seconds between instants of one span, each in O(log n): the working
    intervals from ``start`` to ``end`` are laid out once with their running totals, for a
    report measuring thousands of durations on one calendar. The same figures as
    ``business_time_between``; a pair reaching outside the span is measured by it."""

    def __init__(self, calendar: Calendar, start: datetime, end: datetime) -> None:
        _require_aware(start, end)
        self.calendar = calendar
        self.start, self.end = start.timestamp(), end.timestamp()
        self.opens: list[float] = []
        self.closes: list[float] = []
        self.before: list[float] = []  # working seconds before each interval, from start
        total = 0.0
        if not calendar.around_the_clock:
            for opens, closes in calendar.intervals_from(start):
                if opens >= end:
                    break
                o, c = opens.timestamp(), closes.timestamp()
                self.opens.append(o)
                self.closes.append(c)
                self.before.append(total)
                total += c - o

    def _at(self, t: float) -> float:
        i = bisect_right(self.opens, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(t, self.closes[i]) - self.opens[i]

    def seconds(self, a: float, b: float) -> float:
        """Working seconds from ``a`` to ``b`` (POSIX timestamps; negative when b < a)."""
        if self.calendar.around_the_clock:
            return b - a
        if not (self.start <= a <= self.end and self.start <= b <= self.end):
            at = datetime.fromtimestamp
            return business_time_between(self.calendar, at(a, UTC), at(b, UTC)).total_seconds()
        return self._at(b) - self._at(a)


def is_working_time(calendar: Calendar, moment: datetime) -> bool:
    """True inside an interval, its start and end included."""
    _require_aware(moment)
    day = moment.astimezone(calendar.tz).date()
    for offset in (-1, 0, 1):
        for opens, closes in calendar._day_intervals(day + timedelta(days=offset)):
            if opens <= moment <= closes:
                return True
    return False


def _elapsed(a: datetime, b: datetime) -> timedelta:
    """Real elapsed time (UTC arithmetic: a DST change shortens or lengthens the span)."""
    return b.astimezone(UTC) - a.astimezone(UTC)


def _plus(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta`` in real elapsed time, as a UTC instant."""
    return moment.astimezone(UTC) + delta


# --- "2 business days", "4 business hours" ----------------------------------------------------

_WITHIN = re.compile(
    r"^\s*(?P<n>\d{1,4}(?:\.\d{1,2})?)\s*(?:business\s+)?"
    r"(?P<unit>days?|d|hours?|hrs?|h|minutes?|mins?|m)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BusinessDuration:
    """A duration in the calendar's units, e.g. 2 business days."""

    amount: float
    unit: str  # "day", "hour" or "minute"

    def on(self, calendar: Calendar) -> timedelta:
        """Working time it stands for on ``calendar`` (a day is the team's standard day)."""
        if self.unit == "day":
            return calendar.standard_day * self.amount
        return self.plain()

    def plain(self) -> timedelta:
        """The same words in plain elapsed time (a day is 24 hours)."""
        unit = {"day": timedelta(days=1), "hour": timedelta(hours=1)}.get(
            self.unit, timedelta(minutes=1)
        )
        return unit * self.amount

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} business {self.unit}{'' if amount == 1 else 's'}"


def parse_business_duration(text: str) -> BusinessDuration | None:
    """``"2 business days"`` → BusinessDuration(2, "day"); None when the words don't parse."""
    match = _WITHIN.match(text or "")
    if not match:
        return None
    amount = float(match["n"])
    if amount <= 0:
        return None
    unit = match["unit"].lower()
    unit = "day" if unit.startswith("d") else "hour" if unit.startswith("h") else "minute"
    return BusinessDuration(amount=amount, unit=unit)
