"""The callback slots a customer may book with their case's owner: one read, three queries
(the calendar, its closed days, the agents' absences and bookings in one UNION).

A slot is ``callback_slot_minutes`` long (the team's setting), laid from the opening of each
working interval of the agent who calls. The agent is the owner while they are present for
the whole slot, in the owner's working hours; while the owner is away (an absence, the "away
now" switch, an inactive account) it is the cover, in the cover's working hours: the owner's
backup unless away too, else the team's on-duty agent unless that is the owner or away — the
rule of ``cases.availability.hours.owner_cover``, decided here from rows read once instead of
a query per slot. Working hours are the agent's own weekly hours in their own zone where set,
else the team's, on the team's calendar (holidays and closed days).

A slot starts at least ``callback_lead_minutes`` of the team's business time after now and at
most ten business days ahead; it is offered unless its agent has an active booking that
overlaps it (whose promise is still open) or already has ``callback_daily_cap`` bookings that
day (the team's local day). Times are instants; the pages show them in the customer's zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Value

from cases.models import Absence, Case
from cases.recipients import display_name
from commitments.calendar_services import business_calendar_of
from commitments.calendars import Calendar, add_business_time
from commitments.models import BusinessCalendar, CallbackBooking, CommitmentStatus, zone

HORIZON_BUSINESS_DAYS = 10


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    agent_id: int
    # True when the cover calls because the owner is away then.
    cover: bool = False
    agent_name: str = ""


@dataclass
class _Agent:
    """What decides an agent's presence, read once."""

    user: Any
    calendar: Calendar
    absences: list[tuple[datetime, datetime]] = field(default_factory=list)

    def present(self, start: datetime, end: datetime) -> bool:
        if not self.user.is_active:
            return False
        profile = getattr(self.user, "agent_profile", None)
        away_since = getattr(profile, "away_since", None)
        if away_since is not None and end > away_since:
            return False
        return not any(a_start < end and start < a_end for a_start, a_end in self.absences)


def agent_calendar(row: BusinessCalendar, user: Any, team_tz: str) -> Calendar:
    """The agent's working hours on the team's calendar (``working_time_for_agent``'s rule)."""
    profile = getattr(user, "agent_profile", None)
    calendar = row.as_calendar((getattr(profile, "time_zone", "") or "") or team_tz)
    own = getattr(profile, "weekly_hours", None) or {}
    if own:
        weekly = BusinessCalendar(weekly_hours=own).parsed_weekly_hours()
        calendar = replace(calendar, weekly=weekly, around_the_clock=False)
    return calendar


def slot_window(row: BusinessCalendar, now: datetime) -> tuple[datetime, datetime]:
    """[earliest start, latest start]: the team's lead time and ten business days ahead."""
    calendar = row.as_calendar()
    earliest = add_business_time(calendar, now, timedelta(minutes=row.callback_lead_minutes))
    horizon = add_business_time(calendar, now, calendar.standard_day * HORIZON_BUSINESS_DAYS)
    return max(earliest, now), horizon


def _grid(calendar: Calendar, earliest: datetime, horizon: datetime, length: timedelta):
    """Slots laid from each interval's opening, starting at ``earliest`` or later and ending
    by ``horizon``."""
    day_start = datetime.combine(
        earliest.astimezone(calendar.tz).date(), datetime.min.time(), tzinfo=calendar.tz
    )
    for opens, closes in calendar.intervals_from(day_start):
        if opens > horizon:
            return
        start = opens
        while start + length <= closes:
            if earliest <= start and start + length <= horizon:
                yield start, start + length
            start += length


def _people(case: Case) -> tuple[Any, list[int]]:
    """The owner and the ids of who may cover them (backup, on-duty agent)."""
    owner = case.owner
    profile = getattr(owner, "agent_profile", None)
    covers = [
        pk
        for pk in (getattr(profile, "backup_agent_id", None), case.team.on_duty_id)
        if pk is not None and pk != owner.pk
    ]
    return owner, list(dict.fromkeys(covers))


def callback_slots(*, case: Case, now: datetime, limit: int = 200) -> list[Slot]:
    """The slots the customer of ``case`` may book now, earliest first (see the module)."""
    row = business_calendar_of(case.team)
    team_tz = case.team.time_zone
    earliest, horizon = slot_window(row, now)
    length = timedelta(minutes=row.callback_slot_minutes)
    owner, cover_ids = _people(case)
    ids = [owner.pk, *cover_ids]
    absences, booked, per_day = _busy(ids, earliest, horizon + length, row.as_calendar())
    agents = {owner.pk: _Agent(owner, agent_calendar(row, owner, team_tz), absences[owner.pk])}
    owner_slots = [
        (start, end)
        for start, end in _grid(agents[owner.pk].calendar, earliest, horizon, length)
        if agents[owner.pk].present(start, end)
    ]
    cover_slots: list[tuple[datetime, datetime, int]] = []
    if cover_ids and _owner_away_somewhere(agents[owner.pk], earliest, horizon + length):
        users = get_user_model().objects.select_related("agent_profile").filter(pk__in=cover_ids)
        for user in users:
            agents[user.pk] = _Agent(user, agent_calendar(row, user, team_tz), absences[user.pk])
        for cover_id in cover_ids:
            if cover_id not in agents:
                continue
            for start, end in _grid(agents[cover_id].calendar, earliest, horizon, length):
                away = not agents[owner.pk].present(start, end)
                if away and _cover_for(agents, cover_ids, start, end) == cover_id:
                    cover_slots.append((start, end, cover_id))
    candidates = [(s, e, owner.pk) for s, e in owner_slots] + cover_slots
    team_calendar = row.as_calendar()
    slots: dict[datetime, Slot] = {}
    for start, end, agent_id in sorted(candidates):
        if start in slots or _taken(booked.get(agent_id, ()), start, end):
            continue
        day = start.astimezone(team_calendar.tz).date()
        if per_day[(agent_id, day)] >= row.callback_daily_cap:
            continue
        slots[start] = Slot(
            starts_at=start,
            ends_at=end,
            agent_id=agent_id,
            cover=agent_id != owner.pk,
            agent_name=display_name(agents[agent_id].user),
        )
        if len(slots) >= limit:
            break
    return list(slots.values())


Spans = dict[int, list[tuple[datetime, datetime]]]


def _busy(
    ids: list[int], start: datetime, end: datetime, calendar: Calendar
) -> tuple[Spans, Spans, dict[tuple[int, date], int]]:
    """In one query (a UNION): these agents' absences overlapping [start, end), and their
    active bookings of open promises, with how many each agent has per team-local day
    (counted from the start of ``start``'s day, for the cap)."""
    day_start = datetime.combine(
        start.astimezone(calendar.tz).date(), datetime.min.time(), tzinfo=calendar.tz
    )
    absent = (
        Absence.objects.filter(agent_id__in=ids, ends_at__gt=start, starts_at__lt=end)
        .order_by()
        .values_list("agent_id", "starts_at", "ends_at", Value(True, BooleanField()))
    )
    booked_rows = (
        CallbackBooking.objects.filter(
            agent_id__in=ids,
            active=True,
            commitment__status=CommitmentStatus.OPEN,
            starts_at__gte=day_start - timedelta(hours=12),
            starts_at__lt=end + timedelta(days=1),
        )
        .order_by()
        .values_list("agent_id", "starts_at", "ends_at", Value(False, BooleanField()))
    )
    absences: Spans = defaultdict(list)
    booked: Spans = defaultdict(list)
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    for agent_id, b_start, b_end, is_absence in absent.union(booked_rows, all=True):
        if is_absence:
            absences[agent_id].append((b_start, b_end))
            continue
        booked[agent_id].append((b_start, b_end))
        per_day[(agent_id, b_start.astimezone(calendar.tz).date())] += 1
    return absences, booked, per_day


def _taken(booked: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in booked)


def _owner_away_somewhere(owner: _Agent, start: datetime, end: datetime) -> bool:
    return not owner.present(start, end)


def _cover_for(
    agents: dict[int, _Agent], cover_ids: list[int], start: datetime, end: datetime
) -> int | None:
    """The first of backup, on-duty agent who is present for the whole slot."""
    for cover_id in cover_ids:
        agent = agents.get(cover_id)
        if agent is not None and agent.present(start, end):
            return cover_id
    return None


def slot_offered(*, case: Case, starts_at: datetime, now: datetime) -> Slot | None:
    """The slot starting at ``starts_at`` if it is offered to the case's customer now."""
    for slot in callback_slots(case=case, now=now):
        if slot.starts_at == starts_at:
            return slot
    return None


def slots_by_day(slots: list[Slot], tz_name: str) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by the customer's local day, in order."""
    tz = zone(tz_name)
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.starts_at.astimezone(tz).date(), []).append(slot)
    return list(days.items())
