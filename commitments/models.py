"""Commitments (promises to customers) and the business calendars their due times use."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from commitments.calendars import Calendar, Interval, parse_business_duration, parse_clock

# Monday–Friday 09:00–17:00: the calendar a team gets until it sets its own.
DEFAULT_WEEKLY_HOURS: dict[str, list[list[str]]] = {
    str(day): [["09:00", "17:00"]] for day in range(5)
}
# Reminder lead times before a promise is due; the shortest one is also the at-risk window.
DEFAULT_REMINDER_LEADS: list[str] = ["1 business day", "1 business hour"]


def default_weekly_hours() -> dict[str, list[list[str]]]:
    return {day: [list(iv) for iv in ivs] for day, ivs in DEFAULT_WEEKLY_HOURS.items()}


def default_reminder_leads() -> list[str]:
    return list(DEFAULT_REMINDER_LEADS)


class BusinessCalendar(models.Model):
    """A team's working time: weekly hours in the team's time zone, holidays, closed days."""

    team = models.OneToOneField("cases.Team", on_delete=models.CASCADE, related_name="calendar")
    # {"0": [["09:00", "12:30"], ["13:30", "17:00"]], …}: Monday is "0"; "24:00" ends a day.
    weekly_hours = models.JSONField(default=default_weekly_hours, blank=True)
    # The team works around the clock: business time is plain elapsed time.
    around_the_clock = models.BooleanField(default=False)
    # Public holidays from the ``holidays`` package, e.g. "GB" and "ENG"; blank for none.
    holiday_country = models.CharField(max_length=8, blank=True)
    holiday_subdivision = models.CharField(max_length=16, blank=True)
    # ["1 business day", "1 business hour"]: reminders before a promise is due.
    reminder_leads = models.JSONField(default=default_reminder_leads, blank=True)
    # Callbacks the customer books (``commitments.callback_slots``): the length of a slot,
    # how many business minutes ahead the first one starts, at most so many a day per agent.
    callback_slot_minutes = models.PositiveSmallIntegerField(default=30)
    callback_lead_minutes = models.PositiveIntegerField(default=120)
    callback_daily_cap = models.PositiveSmallIntegerField(default=8)

    def __str__(self) -> str:
        return f"Calendar of {self.team}"

    def clean(self) -> None:
        # "gb" / " eng" are read as the ``holidays`` package names them: "GB", "ENG".
        self.holiday_country = (self.holiday_country or "").strip().upper()
        self.holiday_subdivision = (self.holiday_subdivision or "").strip().upper()
        errors: dict[str, list[str]] = {}
        try:
            intervals = self.parsed_weekly_hours()
        except (TypeError, ValueError, AttributeError):
            errors["weekly_hours"] = ['Use {"0": [["09:00", "17:00"]], …} with Monday as "0".']
        else:
            if not self.around_the_clock and not any(intervals.values()):
                errors["weekly_hours"] = ["A calendar needs some working hours."]
        for lead in self.reminder_leads or []:
            if parse_business_duration(str(lead)) is None:
                errors.setdefault("reminder_leads", []).append(f"Cannot read {lead!r}.")
        errors.update(callback_setting_errors(self))
        if self.holiday_country:
            try:
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision or None
                )
            except NotImplementedError:
                errors["holiday_country"] = ["Unknown country or subdivision."]
        if errors:
            raise ValidationError(errors)

    def parsed_weekly_hours(self) -> dict[int, list[Interval]]:
        out: dict[int, list[Interval]] = {}
        for day, intervals in (self.weekly_hours or {}).items():
            weekday = int(day)
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {day!r}")
            parsed: list[Interval] = []
            for opens, closes in intervals:
                start, end = parse_clock(opens), parse_clock(closes)
                if start is None or (end is not None and end <= start):
                    raise ValueError(f"interval {opens}–{closes}")
                parsed.append((start, end))
            parsed.sort(key=lambda iv: iv[0])
            for (_s1, e1), (s2, _e2) in zip(parsed, parsed[1:], strict=False):
                if e1 is None or e1 > s2:
                    raise ValueError("overlapping intervals")
            out[weekday] = parsed
        return out

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if not self.holiday_country:
            return None
        return holidays.country_holidays(
            self.holiday_country, subdiv=self.holiday_subdivision or None
        )

    @cached_property
    def _closed_days(self) -> frozenset[date]:
        return frozenset(self.closed_days.values_list("day", flat=True)) if self.pk else frozenset()

    def is_closed_day(self, day: date) -> bool:
        return day in self._closed_days or (self._holidays is not None and day in self._holidays)

    def as_calendar(self, tz_name: str | None = None) -> Calendar:
        """The pure calendar the business-time functions take."""
        return Calendar(
            tz=zone(tz_name or self.team.time_zone),
            weekly=self.parsed_weekly_hours(),
            around_the_clock=self.around_the_clock,
            is_closed_day=self.is_closed_day,
        )


# The bounds a team's callback settings keep to (a typing slip otherwise).
CALLBACK_SLOT_MINUTES = (10, 240)
CALLBACK_LEAD_MINUTES = (0, 5 * 8 * 60)
CALLBACK_DAILY_CAP = (1, 100)


def callback_setting_errors(row: BusinessCalendar) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, (low, high), unit in (
        ("callback_slot_minutes", CALLBACK_SLOT_MINUTES, "minutes"),
        ("callback_lead_minutes", CALLBACK_LEAD_MINUTES, "business minutes"),
        ("callback_daily_cap", CALLBACK_DAILY_CAP, "callbacks"),
    ):
        value = getattr(row, name)
        if not isinstance(value, int) or not low <= value <= high:
            errors[name] = [f"Between {low} and {high} {unit}."]
    return errors


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class ClosedDay(models.Model):
    """A day the team does not work besides public holidays (a training day, a shutdown)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closed_days"
    )
    day = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="closedday_once"),
        ]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}".strip()


class PromiseEventKind(models.TextChoices):
    """The case timeline's promise events (registered with ``cases.hooks`` at start-up)."""

    COMMITMENT_MADE = "commitment_made", _("Promise made")
    COMMITMENT_KEPT = "commitment_kept", _("Promise kept")
    COMMITMENT_RENEGOTIATED = "commitment_renegotiated", _("Promise renegotiated")
    COMMITMENT_WITHDRAWN = "commitment_withdrawn", _("Promise withdrawn")
    COMMITMENT_MISSED = "commitment_missed", _("Promise missed")
    COMMITMENT_CONFIRMED = "commitment_confirmed", _("Promise confirmed on track")


class CommitmentKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    CALLBACK = "callback", _("Call back")
    UPDATE = "update", _("Update")
    RESOLUTION = "resolution", _("Resolution")
    DELIVERY = "delivery", _("Delivery")
    REFUND = "refund", _("Refund")
    OTHER = "other", _("Other")
    # The owner's own follow-ups, made by the product: never the customer's promises.
    HANDOFF_CHECK = "handoff_check", _("Hand-off check (owner's task)")
    RECOVERY = "recovery", _("Recovery after a missed promise (owner's task)")


# Whose promise a kind is: the one definition every rule reads. The customer's are shown on
# their page, announced, renegotiated or withdrawn with a notice (iCalendar included) and
# apologised for once if missed; the owner's are reminded to the owner and escalated to the
# team's managers when missed, and the customer never hears of them.
OWNER_KINDS: frozenset[str] = frozenset({CommitmentKind.HANDOFF_CHECK, CommitmentKind.RECOVERY})
CUSTOMER_KINDS: frozenset[str] = frozenset(CommitmentKind.values) - OWNER_KINDS


def is_customer_kind(kind: str) -> bool:
    return kind not in OWNER_KINDS


# The kinds a person records (form and API): the customer's promises, less the first reply
# the case makes itself.
PERSON_KINDS: list[tuple[str, str | Promise]] = [
    (k, label)
    for k, label in CommitmentKind.choices
    if k in CUSTOMER_KINDS and k != CommitmentKind.FIRST_RESPONSE
]


# Kinds a resolved or closed case fulfils by being resolved (see handlers.on_case_closed).
KINDS_ENDED_BY_RESOLUTION = (
    CommitmentKind.FIRST_RESPONSE,
    CommitmentKind.RESOLUTION,
    *sorted(OWNER_KINDS),
)


class CommitmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    RENEGOTIATED = "renegotiated", _("Renegotiated")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MISSED = "missed", _("Missed")


class Commitment(models.Model):
    """A promise to a customer with a due time; it ends exactly once (invariant 5)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="commitments")
    # The case's team, copied when the promise is made and moved with the case (an accepted
    # hand-off to another team moves every promise of the case): reports filter on it without
    # joining the cases. Indexed by ``commitment_team_ended_cover`` and ``commitment_team_open``.
    team = models.ForeignKey(
        "cases.Team", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Who made the promise; None when the product made it (the first-response promise).
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Always the case's owner while open; frozen at the end, so reports credit that person.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commitments"
    )
    # In the customer's words: they read it in emails and on their page.
    description = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, choices=CommitmentKind.choices)
    due_at = models.DateTimeField()
    made_at = models.DateTimeField()
    # Given as business time ("within 2 business days"): reminders count business time too.
    made_in_business_time = models.BooleanField(default=False)
    business_duration = models.CharField(max_length=40, blank=True)
    # From this instant the promise is inside its last lead time: at risk unless confirmed.
    at_risk_from = models.DateTimeField()
    confirmed_on_track_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=14, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(blank=True)
    # The promise that replaced this one (renegotiated), or the recovery step (missed).
    successor = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessor",
    )
    # Bumped when reminders are rescheduled (a new owner), so their dedupe keys are new.
    reminder_generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            # the due sweep and the at-risk check: open promises in due order
            models.Index(
                fields=["due_at", "id"], condition=Q(status="open"), name="commitment_open_due"
            ),
            # a case's commitments (detail, list, next_due_at, queue flags)
            models.Index(fields=["case", "due_at"], name="commitment_case_due"),
            # promises ended in a period across teams (a superuser's report), by owner
            models.Index(
                fields=["ended_at", "owner"],
                condition=~Q(status="open"),
                name="commitment_ended",
            ),
            # the commitments report, the team dashboard and reports API: a team's promises
            # ended in a period (and the promise rows behind a figure, newest end first)
            models.Index(
                fields=["team", "ended_at"],
                # what the weekly figures read: counted from the index alone
                include=["status", "due_at", "kind", "owner", "case"],
                condition=~Q(status="open"),
                name="commitment_team_ended_cover",
            ),
            # the dashboard's "overdue" and "due in the next business day", the team figures
            # job: a team's open promises in due order
            models.Index(
                fields=["team", "due_at"],
                condition=Q(status="open"),
                name="commitment_team_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CommitmentStatus]),
                name="commitment_status_valid",
            ),
            # open ⇔ not ended
            models.CheckConstraint(
                condition=Q(status="open", ended_at__isnull=True)
                | (~Q(status="open") & Q(ended_at__isnull=False)),
                name="commitment_ended_iff_not_open",
            ),
            # a renegotiated promise always names its successor; only missed ones may too
            models.CheckConstraint(
                condition=Q(status="renegotiated", successor__isnull=False)
                | (Q(status__in=["open", "kept", "withdrawn"]) & Q(successor__isnull=True))
                | Q(status="missed"),
                name="commitment_successor_consistent",
            ),
            # renegotiation and withdrawal carry a reason the customer is told
            models.CheckConstraint(
                condition=~Q(status__in=["renegotiated", "withdrawn"]) | ~Q(end_reason=""),
                name="commitment_reason_required",
            ),
            models.CheckConstraint(
                condition=~Q(successor=models.F("id")), name="commitment_not_own_successor"
            ),
        ]

    def __str__(self) -> str:
        return f"Commitment {self.pk}: {self.description}"

    @property
    def is_open(self) -> bool:
        return self.status == CommitmentStatus.OPEN


class CallbackBooking(models.Model):
    """A callback slot the customer (or the owner for them) booked: the promise of kind
    ``callback`` it stands for, and the agent who calls (the owner, or the cover while the
    owner is away). An agent's slot is booked once: the database refuses a second active
    booking, so two customers racing for it cannot both have it."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    commitment = models.OneToOneField(
        Commitment, on_delete=models.PROTECT, related_name="callback_booking"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Who booked it: None for the customer on their page.
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # False once moved, cancelled, or its promise ended: the slot is free again.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            # two customers cannot book one agent's slot
            models.UniqueConstraint(
                fields=["agent", "starts_at"],
                condition=Q(active=True),
                name="callback_slot_once",
            ),
            # a case has at most one booked callback at a time (moved, not doubled)
            models.UniqueConstraint(
                fields=["case"], condition=Q(active=True), name="callback_case_once"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="callback_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Callback {self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"
