"""First response measured from the contacts: per channel, how many of a team's cases were
answered within the channel's target, against the team's goal.

What is measured, for every case of the team opened in the period (``Case.created_at``):

- **start**: the earlier of the case's opening and the customer's first contact on it (an
  integration often opens a chat or call case after the customer has already written or
  rung: their wait began then);
- **first response**: the first contact *to* the customer (a reply from the case page, a
  chat answer or call an integration logged); automatic messages never count;
- **time to first response**: first response − start, on the one clock of the channel's
  target (``commitments.calendar_services.first_response_calendar``): the team's business
  time (its calendar: hours, holidays, closed days) on email, web and social, the clock the
  first-response promise falls due by, so this report and the promise figures count the same
  cases on time; clock time on live channels unless the team chooses business time
  (``Team.first_response_business_time``);
- **answered within target**: that time ≤ the channel's target (``Team.first_response_target``);
- **rate**: answered within target ÷ decided cases, where a case is decided once answered or
  once its target has passed unanswered (an unanswered case still inside its target is
  ``waiting`` and counts in neither part); the **goal** is the team's percentage (80 % by
  default: "80 % answered within 60 s").

Every channel is measured the same way, live or not: on email, web and social the first
reply also keeps the first-response promise, so the two agree, and on live channels (target
under the team's live threshold) there is no promise at all, only this measure. One query
reads one row per case (channel and two instants, bounded by one team's cases in at most
``MAX_WEEKS`` weeks, like the hand-off percentile lists); the business-time arithmetic and
the percentiles (``percentile_cont`` semantics) are done on those rows in Python. On
PostgreSQL the instants arrive as seconds since the epoch: a team's 2,000 cases a period
read as floats cost a fraction of what parsing 6,000 timestamps did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import F, FloatField, Func, OuterRef, Subquery
from django.db.models.functions import Least
from django.utils import translation

from cases.models import Case, Channel, Contact, ContactDirection, Team
from commitments.calendar_services import first_response_calendar
from commitments.calendars import BusinessClock, Calendar
from reports.selectors import Window, percentile_cont

MEASURE_SERVICE_LEVEL = "service_level"
MEASURE_PROMISE = "promise"


@dataclass
class ChannelAttainment:
    channel: str
    label: str
    target: timedelta
    # "service_level" (a live channel: measured, never promised) or "promise".
    measure: str
    goal: float
    # Counted in the team's business time (else clock time): ``first_response_calendar``.
    business_time: bool = False
    cases: int = 0
    answered: int = 0
    answered_within_target: int = 0
    unanswered: int = 0
    # Unanswered, and still inside the target: not yet decided either way.
    waiting: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return self.cases - self.waiting

    @property
    def rate(self) -> float | None:
        return round(self.answered_within_target / self.decided, 4) if self.decided else None

    @property
    def goal_met(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.goal

    @property
    def median_seconds(self) -> float | None:
        value = percentile_cont(self.seconds, 0.5)
        return None if value is None else round(value, 3)

    @property
    def p90_seconds(self) -> float | None:
        value = percentile_cont(self.seconds, 0.9)
        return None if value is None else round(value, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "measure": self.measure,
            "time": "business" if self.business_time else "clock",
            "target_seconds": int(self.target.total_seconds()),
            "cases": self.cases,
            "answered": self.answered,
            "answered_within_target": self.answered_within_target,
            "unanswered": self.unanswered,
            "waiting": self.waiting,
            "rate": self.rate,
            "goal": self.goal,
            "goal_met": self.goal_met,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass
class FirstResponseReport:
    team: Team
    window: Window
    # Live channels counted in business time (the team's choice); promise channels always
    # are (each channel's own ``business_time``).
    business_time: bool
    goal: float
    channels: list[ChannelAttainment]

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": "business" if self.business_time else "clock",
            "goal": self.goal,
            "channels": [c.as_dict() for c in self.channels],
        }


def _first_contact(direction: str) -> Subquery:
    """The case's first contact in ``direction`` (index ``contact_case_at``)."""
    return Subquery(
        Contact.objects.filter(case=OuterRef("pk"), direction=direction, auto_submitted=False)
        .order_by("at", "id")
        .values("at")[:1]
    )


class EpochSeconds(Func):
    """PostgreSQL: an instant as seconds since the epoch (``float8``)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"


def _case_rows(team: Team, window: Window) -> Iterable[tuple[str, float, float | None]]:
    """(channel, start, first response or None) of each case of ``team`` opened in
    ``window``, the instants in seconds since the epoch."""
    start, end = window.bounds()
    cases = (
        Case.objects.filter(team_id=team.pk, created_at__gte=start, created_at__lt=end)
        .annotate(
            first_in=_first_contact(ContactDirection.FROM_CUSTOMER),
            first_out=_first_contact(ContactDirection.TO_CUSTOMER),
        )
        .order_by()
    )
    if connections[cases.db].vendor == "postgresql":
        # LEAST skips a NULL: no contact from the customer leaves the opening
        return cases.annotate(
            began_s=EpochSeconds(Least(F("created_at"), F("first_in"))),
            out_s=EpochSeconds(F("first_out")),
        ).values_list("channel", "began_s", "out_s")
    return (
        (
            channel,
            (min(created_at, first_in) if first_in is not None else created_at).timestamp(),
            None if first_out is None else first_out.timestamp(),
        )
        for channel, created_at, first_in, first_out in cases.values_list(
            "channel", "created_at", "first_in", "first_out"
        )
    )


def first_response_attainment(*, team: Team, window: Window, now: datetime) -> FirstResponseReport:
    """Per-channel first-response attainment of ``team``'s cases opened in ``window``: one
    query (plus the calendar's closed days when measured in business time)."""
    business = team.first_response_business_time
    calendars: dict[str, Calendar | None] = {}
    clocks: dict[str, BusinessClock] = {}
    # every duration measured starts after the window's first day less a week (a customer's
    # contact before the case opened) and ends by now or the window's end
    span_start = datetime.combine(window.start - timedelta(days=7), time(0), tzinfo=UTC)
    span_end = max(now, datetime.combine(window.last_day + timedelta(days=2), time(0), UTC))

    def elapsed(channel: str, a: float, b: float) -> float:
        if b <= a:
            return 0.0
        calendar = calendars[channel]
        if calendar is None:
            return b - a
        clock = clocks.get(channel)
        if clock is None:
            clock = clocks[channel] = BusinessClock(calendar, span_start, span_end)
        return round(clock.seconds(a, b), 6)

    now_s = now.timestamp()
    goal = team.first_response_goal_percent / 100
    # in English whatever the reader's language: the dashboard's cache keeps these figures for
    # every reader, and the pages translate the label
    with translation.override(None):
        labels = {code: str(label) for code, label in Channel.choices}
    channels: dict[str, ChannelAttainment] = {}
    for channel, began, first_out in _case_rows(team, window):
        line = channels.get(channel)
        if line is None:
            line = channels[channel] = ChannelAttainment(
                channel=channel,
                label=labels.get(channel, channel),
                target=team.first_response_target(channel),
                measure=(
                    MEASURE_SERVICE_LEVEL
                    if team.first_response_is_live(channel)
                    else MEASURE_PROMISE
                ),
                goal=goal,
            )
            calendars[channel] = first_response_calendar(team, channel)
            line.business_time = calendars[channel] is not None
        target = line.target.total_seconds()
        line.cases += 1
        if first_out is None:
            line.unanswered += 1
            if elapsed(channel, began, now_s) <= target:
                line.waiting += 1
            continue
        took = elapsed(channel, began, first_out)
        line.answered += 1
        line.seconds.append(took)
        if took <= target:
            line.answered_within_target += 1
    order = {c: i for i, c in enumerate(Channel.values)}
    return FirstResponseReport(
        team=team,
        window=window,
        business_time=business,
        goal=goal,
        channels=sorted(channels.values(), key=lambda c: order.get(c.channel, len(order))),
    )
