"""When a promise is due and when its owner is reminded.

A due time is given as an instant or as business time on the team's calendar (``Due``);
``due_resolve`` turns it into an instant. Reminders are outbox rows with ``send_after`` at the
team's lead times before the due time; the last lead is the at-risk alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from cases.availability.hours import case_attention_recipients
from cases.models import Case
from cases.recipients import agent_recipient, owner_contact
from commitments.calendar_services import business_calendar_of, team_calendar
from commitments.calendars import (
    BusinessDuration,
    Calendar,
    add_business_time,
    parse_business_duration,
    subtract_business_time,
)
from commitments.errors import CommitmentRuleError
from commitments.models import Commitment
from commitments.notices import promise_context
from notifications.enqueue import outbox_holds
from notifications.services import Outgoing, notification_cancel, notification_enqueue_many

# How far ahead a promise may be due: beyond this it is a plan, not a promise.
MAX_AHEAD = timedelta(days=730)
WITHIN_EXAMPLE = "Write e.g. “2 business days” or “4 business hours”."


@dataclass(frozen=True)
class Due:
    """When a promise is due: an instant (``at``), or a span of the team's business time
    (``within``: read from words such as "2 business days", or a timedelta the product
    chose). Exactly one of them is set."""

    at: datetime | None = None
    within: BusinessDuration | timedelta | None = None

    @classmethod
    def parse(cls, *, due_at: datetime | None = None, within: str | None = None) -> Due:
        """Exactly one of ``due_at`` and ``within`` (blank words count as not given), and
        words that read as business time; the API and the pages both parse with this."""
        words = (within or "").strip()
        if (due_at is None) == (not words):
            message = (
                "Give either due_at or within, not both."
                if due_at is not None
                else "Give a due time: due_at, or within (e.g. “2 business days”)."
            )
            raise CommitmentRuleError(
                "due_required", message, fields={"due_at": [message], "within": [message]}
            )
        if due_at is not None:
            return cls(at=due_at)
        duration = parse_business_duration(words)
        if duration is None:
            raise CommitmentRuleError(
                "invalid_within",
                f"Cannot read {words!r}; write e.g. “2 business days” or “4 business hours”.",
                fields={"within": [WITHIN_EXAMPLE]},
            )
        return cls(within=duration)

    @classmethod
    def of(cls, value: DueLike) -> Due:
        """What services accept from Python callers: a ``Due``, an instant, a span or words."""
        if isinstance(value, Due):
            return value
        if isinstance(value, datetime):
            return cls(at=value)
        if isinstance(value, timedelta):
            return cls(within=value)
        return cls.parse(within=value)


DueLike = Due | datetime | timedelta | str


@dataclass(frozen=True)
class ResolvedDue:
    due_at: datetime
    in_business_time: bool
    words: str  # "2 business days", or "" for an instant


def due_resolve(*, team: Any, due: DueLike, now: datetime) -> ResolvedDue:
    """Turn an instant or a business-time span into a due instant on the team's calendar."""
    due = Due.of(due)
    if due.at is not None:
        if timezone.is_naive(due.at):
            raise CommitmentRuleError(
                "due_at_naive",
                "A due time needs a time zone.",
                fields={"due_at": ["Give a time zone offset."]},
            )
        if due.at <= now:
            raise CommitmentRuleError(
                "due_in_past",
                "A promise must be due in the future.",
                fields={"due_at": ["Must be in the future."]},
            )
        # As a UTC instant: later arithmetic (lead times) is then real elapsed time.
        resolved = ResolvedDue(
            due_at=_whole_second(due.at.astimezone(UTC)), in_business_time=False, words=""
        )
    else:
        assert due.within is not None
        resolved = _due_in_business_time(team=team, within=due.within, now=now)
    if resolved.due_at - now > MAX_AHEAD:
        raise _too_far("within" if resolved.in_business_time else "due_at")
    return resolved


def _due_in_business_time(
    *, team: Any, within: BusinessDuration | timedelta, now: datetime
) -> ResolvedDue:
    calendar = team_calendar(team)
    if calendar.standard_day <= timedelta():
        raise _no_hours()
    if isinstance(within, timedelta):
        span, words = within, ""
    else:
        span, words = within.on(calendar), str(within)
    if span <= timedelta():
        raise CommitmentRuleError(
            "due_in_past",
            "A promise must be due in the future.",
            fields={"within": ["Must be a positive duration."]},
        )
    if span > MAX_AHEAD:
        raise _too_far("within")
    try:
        due_at = add_business_time(calendar, now, span)
    except ValueError:
        raise _no_hours() from None
    return ResolvedDue(due_at=_whole_second(due_at), in_business_time=True, words=words)


def _too_far(field: str) -> CommitmentRuleError:
    return CommitmentRuleError(
        "due_too_far",
        f"A promise can be due at most {MAX_AHEAD.days} days ahead.",
        fields={field: ["Too far ahead."]},
    )


def _no_hours() -> CommitmentRuleError:
    return CommitmentRuleError(
        "calendar_has_no_hours",
        "The team's calendar has no working time for this promise; give due_at instead.",
        fields={"within": ["The team's calendar has no working hours ahead."]},
    )


def _whole_second(moment: datetime) -> datetime:
    """Due times are whole seconds (rounded up), as calendars and emails show them."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


# --- reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lead:
    words: str  # "1 business hour"
    send_at: datetime


def reminder_leads(*, commitment: Commitment, team: Any) -> list[Lead]:
    """When the owner is reminded, earliest first; the last one is the at-risk moment."""
    row = business_calendar_of(team)
    calendar = row.as_calendar()
    leads: list[tuple[timedelta, Lead]] = []
    for words in row.reminder_leads or []:
        duration = parse_business_duration(str(words))
        if duration is None:
            continue
        span, send_at = _lead_send_at(calendar, commitment, duration)
        words = str(duration) if commitment.made_in_business_time else _plain_words(span)
        leads.append((span, Lead(words=words, send_at=send_at)))
    leads.sort(key=lambda item: item[0], reverse=True)
    return [lead for _span, lead in leads]


def _plain_words(span: timedelta) -> str:
    """``24 hours``, ``1 hour``, ``90 minutes``: a lead time in plain elapsed time."""
    if span < timedelta(minutes=1):
        return f"{round(span.total_seconds())} seconds"
    minutes = round(span.total_seconds() / 60)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _lead_send_at(
    calendar: Calendar, commitment: Commitment, duration: BusinessDuration
) -> tuple[timedelta, datetime]:
    if commitment.made_in_business_time:
        span = duration.on(calendar)
        return span, subtract_business_time(calendar, commitment.due_at, span)
    span = duration.plain()
    return span, commitment.due_at - span


def reminders_schedule(*, commitment: Commitment, case: Case, now: datetime) -> int:
    """Queue the owner's reminders still ahead; the last lead is the at-risk alert. Inside
    an ``outbox_batch`` they wait for its write (the count is then of those handed over)."""
    messages = reminder_messages(commitment=commitment, case=case, now=now)
    if outbox_holds():
        notification_enqueue_many(messages, later=True)
        return len(messages)
    return sum(n is not None for n in notification_enqueue_many(messages))


def reminder_messages(*, commitment: Commitment, case: Case, now: datetime) -> list[Outgoing]:
    """The reminders ``reminders_schedule`` queues, for a caller that queues several promises'
    reminders at once. Who hears of them is looked up once: they share the due time."""
    leads = reminder_leads(commitment=commitment, team=case.team)
    ahead = [(i, lead) for i, lead in enumerate(leads) if lead.send_at > now]
    if not ahead:
        return []
    people = case_attention_recipients(case, commitment.due_at)
    return [
        message
        for index, lead in ahead
        for message in _reminder_messages(
            commitment=commitment,
            case=case,
            lead=lead,
            at_risk=index == len(leads) - 1 and commitment.confirmed_on_track_at is None,
            people=people,
        )
    ]


def reminders_confirmed_on_track(*, commitment: Commitment, case: Case, now: datetime) -> None:
    """The owner confirmed the promise: the at-risk alert becomes a plain reminder."""
    notification_cancel(tag=f"{reminders_tag(commitment)}:at-risk")
    leads = reminder_leads(commitment=commitment, team=case.team)
    if leads and leads[-1].send_at > now:
        reminder_enqueue(commitment=commitment, case=case, lead=leads[-1], at_risk=False)


def reminders_cancel(*, commitment: Commitment) -> None:
    """No pending reminder of this promise goes out (they are cancelled, not deleted)."""
    notification_cancel(tag=reminders_tag(commitment))


def reminders_cancel_many(*, commitments: list[Commitment]) -> None:
    """``reminders_cancel`` for several promises in one statement."""
    if commitments:
        notification_cancel(tags=[reminders_tag(c) for c in commitments])


def reminders_tag(commitment: Commitment) -> str:
    """The tag every reminder of ``commitment`` carries (``reminders_cancel`` cancels by it)."""
    return f"commitment:{commitment.pk}"


def reminder_enqueue(*, commitment: Commitment, case: Case, lead: Lead, at_risk: bool) -> int:
    """One reminder per person who must hear of the promise: the owner, and, when the owner
    is away at the due time, the cover (first: the at-risk alert is theirs to act on)."""
    people = case_attention_recipients(case, commitment.due_at)
    messages = _reminder_messages(
        commitment=commitment, case=case, lead=lead, at_risk=at_risk, people=people
    )
    return sum(n is not None for n in notification_enqueue_many(messages))


def _reminder_messages(
    *, commitment: Commitment, case: Case, lead: Lead, at_risk: bool, people: list[Any]
) -> list[Outgoing]:
    what = "at-risk" if at_risk else "reminder"
    # A new due time or a new generation (a new owner) makes new keys, so new rows.
    dedupe_key = (
        f"commitment:{commitment.pk}:due:{commitment.due_at.isoformat()}:"
        f"g{commitment.reminder_generation}:{what}:{lead.words.replace(' ', '-')}"
    )
    owner_name = owner_contact(commitment.owner)["name"]
    messages = []
    for person in people:
        covering = person.pk != commitment.owner_id
        messages.append(
            Outgoing(
                recipient=agent_recipient(person),
                template=f"commitments/email/{'at_risk' if at_risk else 'reminder'}",
                context={
                    "case_ref": case.ref,
                    "case_subject": case.subject,
                    "owner_name": owner_contact(person)["name"] if covering else owner_name,
                    "covering_for": owner_name if covering else "",
                    "lead": lead.words,
                    **promise_context(commitment, case.team.time_zone),
                },
                dedupe_key=f"{dedupe_key}:cover:{person.pk}" if covering else dedupe_key,
                send_after=lead.send_at,
                tags=[reminders_tag(commitment), f"{reminders_tag(commitment)}:{what}"],
            )
        )
    return messages
