"""Writes on commitments: each function is one transaction that records its timeline event,
keeps ``Case.next_due_at`` equal to the earliest open promise and queues its notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

import notifications.services as outbox
from cases.handoff_services import handoff_record_commitment_missed
from cases.models import OPEN_STATUSES, Case, Channel
from cases.permissions import can_change_case, is_team_manager
from cases.services import (
    agent_recipient,
    case_event_record,
    customer_context,
    customer_recipient,
    owner_contact,
)
from commitments.calendars import (
    BusinessDuration,
    Calendar,
    add_business_time,
    parse_business_duration,
    subtract_business_time,
)
from commitments.errors import CommitmentRuleError
from commitments.models import (
    KINDS_ENDED_BY_RESOLUTION,
    BusinessCalendar,
    ClosedDay,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    PromiseEventKind,
    zone,
)
from notifications.services import Attachment, notification_cancel, notification_enqueue

User = Any  # the configured user model

# A promise is due; it is "2 business days"-style words, a business-time span, or an instant.
Due = datetime | timedelta | str

DESCRIPTION_MAX = 500
# How far ahead a promise may be due: beyond this it is a plan, not a promise.
MAX_AHEAD = timedelta(days=730)
ICS_EVENT_LENGTH = timedelta(minutes=15)


# --- calendars -------------------------------------------------------------------------------


def business_calendar_of(team: Any) -> BusinessCalendar:
    """The team's calendar row, or an unsaved default one (Mon–Fri 09–17, no holidays)."""
    try:
        return team.calendar
    except BusinessCalendar.DoesNotExist:
        return BusinessCalendar(team=team)


def team_calendar(team: Any) -> Calendar:
    return business_calendar_of(team).as_calendar()


def business_time_add_for_team(*, team: Any, start: datetime, duration: timedelta) -> datetime:
    """``duration`` of the team's business time after ``start`` (hand-off offer timers)."""
    return add_business_time(team_calendar(team), start, duration)


@dataclass(frozen=True)
class CalendarSettings:
    """A change to a team's calendar; None leaves a setting as it is."""

    weekly_hours: dict[str, list[list[str]]] | None = None
    around_the_clock: bool | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    reminder_leads: list[str] | None = None
    closed_days: list[tuple[date, str]] | None = None  # replaces the list when given


@transaction.atomic
def business_calendar_update(*, team: Any, by: User, changes: CalendarSettings) -> BusinessCalendar:
    """A manager sets the team's working time. Promises already made keep their due times
    and reminders; new ones use the new calendar."""
    if not is_team_manager(by, team):
        raise CommitmentRuleError(
            "not_team_manager", "Only a manager of the team can change its calendar.", status=403
        )
    row = BusinessCalendar.objects.select_for_update().filter(team=team).first()
    row = row or BusinessCalendar(team=team)
    for name in ("weekly_hours", "around_the_clock", "reminder_leads"):
        value = getattr(changes, name)
        if value is not None:
            setattr(row, name, value)
    if changes.holiday_country is not None:
        row.holiday_country = changes.holiday_country.strip().upper()
    if changes.holiday_subdivision is not None:
        row.holiday_subdivision = changes.holiday_subdivision.strip().upper()
    try:
        row.full_clean(exclude=["team"])
    except ValidationError as exc:
        raise CommitmentRuleError(
            "invalid_calendar",
            "The calendar has invalid settings.",
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None
    row.save()
    if changes.closed_days is not None:
        ClosedDay.objects.filter(calendar=row).delete()
        ClosedDay.objects.bulk_create(
            [ClosedDay(calendar=row, day=day, name=name) for day, name in changes.closed_days],
            ignore_conflicts=True,
        )
    team.calendar = row
    return row


@dataclass(frozen=True)
class ResolvedDue:
    due_at: datetime
    in_business_time: bool
    words: str  # "2 business days", or "" for an instant


def due_resolve(*, team: Any, due: Due, now: datetime) -> ResolvedDue:
    """Turn an instant, a business-time span or words into a due instant on the team's calendar."""
    if isinstance(due, datetime):
        if timezone.is_naive(due):
            raise CommitmentRuleError(
                "due_at_naive",
                "A due time needs a time zone.",
                fields={"due_at": ["Give a time zone offset."]},
            )
        if due <= now:
            raise CommitmentRuleError(
                "due_in_past",
                "A promise must be due in the future.",
                fields={"due_at": ["Must be in the future."]},
            )
        # As a UTC instant: later arithmetic (lead times) is then real elapsed time.
        resolved = ResolvedDue(
            due_at=_whole_second(due.astimezone(UTC)), in_business_time=False, words=""
        )
    else:
        resolved = _due_in_business_time(team=team, due=due, now=now)
    if resolved.due_at - now > MAX_AHEAD:
        raise CommitmentRuleError(
            "due_too_far",
            f"A promise can be due at most {MAX_AHEAD.days} days ahead.",
            fields={"within" if resolved.in_business_time else "due_at": ["Too far ahead."]},
        )
    return resolved


def _due_in_business_time(*, team: Any, due: timedelta | str, now: datetime) -> ResolvedDue:
    calendar = team_calendar(team)
    if calendar.standard_day <= timedelta():
        raise _no_hours()
    words = ""
    if isinstance(due, timedelta):
        span = due
    else:
        duration = parse_business_duration(due)
        if duration is None:
            raise CommitmentRuleError(
                "invalid_within",
                f"Cannot read {due!r}; write e.g. “2 business days” or “4 business hours”.",
                fields={"within": ["Write e.g. “2 business days” or “4 business hours”."]},
            )
        span, words = duration.on(calendar), str(duration)
    if span <= timedelta():
        raise CommitmentRuleError(
            "due_in_past",
            "A promise must be due in the future.",
            fields={"within": ["Must be a positive duration."]},
        )
    if span > MAX_AHEAD:
        raise CommitmentRuleError(
            "due_too_far",
            f"A promise can be due at most {MAX_AHEAD.days} days ahead.",
            fields={"within": ["Too far ahead."]},
        )
    try:
        due_at = add_business_time(calendar, now, span)
    except ValueError:
        raise _no_hours() from None
    return ResolvedDue(due_at=_whole_second(due_at), in_business_time=True, words=words)


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


# --- helpers ---------------------------------------------------------------------------------


def _lock_case(case: Case | int) -> Case:
    pk = case if isinstance(case, int) else case.pk
    return (
        Case.objects.select_related("customer", "team", "owner")
        .select_for_update(of=("self",))
        .get(pk=pk)
    )


def _lock_commitment(commitment: Commitment) -> tuple[Commitment, Case]:
    """Lock the case first, then the commitment: one order everywhere, so no deadlocks."""
    case = _lock_case(commitment.case_id)
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    locked.case = case
    return locked, case


def _require_change(by: User | None, case: Case) -> None:
    if by is not None and not can_change_case(by, case):
        raise CommitmentRuleError(
            "not_case_owner",
            "Only the case's owner or a manager of its team can change its promises.",
            status=403,
        )


def _require_open(commitment: Commitment) -> None:
    if not commitment.is_open:
        raise CommitmentRuleError(
            "commitment_not_open",
            f"This promise has already ended ({commitment.get_status_display().lower()}).",
            status=409,
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CommitmentRuleError(
            "reason_required",
            "Say why, in words the customer will read.",
            fields={"reason": ["This field may not be blank."]},
        )
    return reason


def case_next_due_refresh(*, case: Case) -> None:
    """Keep ``Case.next_due_at`` equal to the earliest open promise, in the caller's transaction."""
    earliest = Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN).aggregate(
        m=Min("due_at")
    )["m"]
    if case.next_due_at != earliest:
        case.next_due_at = earliest
        Case.objects.filter(pk=case.pk).update(next_due_at=earliest)


def local_text(moment: datetime, tz_name: str) -> str:
    """``Friday 27 November 2026, 12:00 GMT`` in the reader's zone."""
    local = moment.astimezone(zone(tz_name))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def _tag(commitment: Commitment) -> str:
    return f"commitment:{commitment.pk}"


def _key(commitment: Commitment, what: str) -> str:
    return f"commitment:{commitment.pk}:due:{commitment.due_at.isoformat()}:{what}"


def commitment_payload(commitment: Commitment) -> dict:
    """The JSON shape integrators see (API field names)."""
    return {
        "id": commitment.pk,
        "case": commitment.case.ref,
        "owner": {"id": commitment.owner_id},
        "description": commitment.description,
        "kind": commitment.kind,
        "due_at": _iso(commitment.due_at),
        "status": commitment.status,
        "ended_at": _iso(commitment.ended_at),
        "end_reason": commitment.end_reason,
        "successor": commitment.successor_id,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _webhook(commitment: Commitment, case: Case, event: str) -> None:
    """Tell integrators, when the outbox offers webhooks."""
    emit = getattr(outbox, "webhook_emit", None)
    if emit is None:
        return
    emit(
        scope=f"team:{case.team_id}",
        event=f"commitment.{event}",
        payload=commitment_payload(commitment),
        dedupe_key=f"commitment:{commitment.pk}:webhook:{event}",
    )


def commitment_ics(*, commitment: Commitment, case: Case, now: datetime) -> Attachment:
    """An iCalendar event at the promised time, in the customer's time zone."""
    tz_name = case.customer.time_zone
    start = commitment.due_at.astimezone(zone(tz_name))
    cal = icalendar.Calendar()
    cal.add("prodid", "-//caseowner//commitments//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"commitment-{commitment.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add(
        "dtend", (commitment.due_at.astimezone(UTC) + ICS_EVENT_LENGTH).astimezone(start.tzinfo)
    )
    event.add("summary", f"[{case.ref}] {commitment.description}")
    event.add("description", f"Promised by {owner_contact(case.owner)['name']}, case {case.ref}.")
    cal.add_component(event)
    cal.add_missing_timezones()
    return Attachment(
        filename=f"{case.ref}-promise-{commitment.pk}.ics",
        content_type="text/calendar",
        content=cal.to_ical().decode(),
    )


def _customer_notice(
    *,
    case: Case,
    template: str,
    dedupe_key: str,
    extra: dict,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    notification_enqueue(
        recipient=customer_recipient(case),
        template=template,
        context={**customer_context(case), **extra},
        dedupe_key=dedupe_key,
        tags=[f"case:{case.pk}"],
        attachments=attachments,
    )


def _promise_context(commitment: Commitment, tz_name: str, prefix: str = "") -> dict:
    return {
        f"{prefix}commitment_id": commitment.pk,
        f"{prefix}description": commitment.description,
        f"{prefix}due_at": _iso(commitment.due_at),
        f"{prefix}due_local": local_text(commitment.due_at, tz_name),
    }


def _schedule_reminders(*, commitment: Commitment, case: Case, now: datetime) -> int:
    """Queue the owner's reminders still ahead; the last lead is the at-risk alert."""
    leads = reminder_leads(commitment=commitment, team=case.team)
    queued = 0
    for index, lead in enumerate(leads):
        if lead.send_at <= now:
            continue
        at_risk = index == len(leads) - 1 and commitment.confirmed_on_track_at is None
        queued += _enqueue_reminder(commitment=commitment, case=case, lead=lead, at_risk=at_risk)
    return queued


def _enqueue_reminder(*, commitment: Commitment, case: Case, lead: Lead, at_risk: bool) -> int:
    what = "at-risk" if at_risk else "reminder"
    tags = [_tag(commitment), f"{_tag(commitment)}:{what}"]
    created = notification_enqueue(
        recipient=agent_recipient(commitment.owner),
        template=f"commitments/email/{'at_risk' if at_risk else 'reminder'}",
        context={
            "case_ref": case.ref,
            "case_subject": case.subject,
            "owner_name": owner_contact(commitment.owner)["name"],
            "lead": lead.words,
            **_promise_context(commitment, case.team.time_zone),
        },
        dedupe_key=_key(
            commitment, f"g{commitment.reminder_generation}:{what}:{lead.words.replace(' ', '-')}"
        ),
        send_after=lead.send_at,
        tags=tags,
    )
    return 1 if created else 0


def _end(
    *,
    commitment: Commitment,
    status: str,
    by: User | None,
    reason: str,
    now: datetime,
    successor: Commitment | None = None,
) -> None:
    """End a promise exactly once and cancel its pending reminders in the same transaction."""
    commitment.status = status
    commitment.ended_at = now
    commitment.ended_by = by
    commitment.end_reason = reason
    commitment.successor = successor
    commitment.save(update_fields=["status", "ended_at", "ended_by", "end_reason", "successor"])
    notification_cancel(tag=_tag(commitment))


# --- services --------------------------------------------------------------------------------


@transaction.atomic
def commitment_create(
    *,
    case: Case,
    by: User | None,
    description: str,
    kind: str,
    due: Due,
    notify_customer: bool = True,
) -> Commitment:
    """Record a promise on an open case, schedule its reminders and tell the customer.

    ``by`` None means the product made the promise (first response, hand-off follow-up).
    """
    case = _lock_case(case)
    _require_change(by, case)
    now = timezone.now()
    commitment = _create(case=case, by=by, description=description, kind=kind, due=due, now=now)
    if notify_customer:
        tz_name = case.customer.time_zone
        _customer_notice(
            case=case,
            template="commitments/email/commitment_made",
            dedupe_key=f"commitment:{commitment.pk}:made",
            extra=_promise_context(commitment, tz_name),
            attachments=(commitment_ics(commitment=commitment, case=case, now=now),),
        )
    return commitment


def _create(
    *, case: Case, by: User | None, description: str, kind: str, due: Due, now: datetime
) -> Commitment:
    """The shared part of making a promise, inside a caller's transaction on a locked case."""
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Write the promise in the customer's words."]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    if kind not in CommitmentKind.values:
        errors["kind"] = [f"One of: {', '.join(CommitmentKind.values)}."]
    elif kind == CommitmentKind.FIRST_RESPONSE and by is not None:
        errors["kind"] = ["The first-reply promise is made when the case opens."]
    if errors:
        raise CommitmentRuleError(
            "invalid_commitment", "The promise has invalid fields.", fields=errors
        )
    if case.status not in OPEN_STATUSES:
        raise CommitmentRuleError(
            "case_not_open", "Promises can be made only on an open case.", status=409
        )
    resolved = due_resolve(team=case.team, due=due, now=now)
    commitment = Commitment(
        case=case,
        made_by=by,
        owner=case.owner,
        description=description,
        kind=kind,
        due_at=resolved.due_at,
        made_at=now,
        made_in_business_time=resolved.in_business_time,
        business_duration=resolved.words,
        at_risk_from=resolved.due_at,
    )
    leads = reminder_leads(commitment=commitment, team=case.team)
    if leads:
        commitment.at_risk_from = leads[-1].send_at
    commitment.save()
    _schedule_reminders(commitment=commitment, case=case, now=now)
    case_next_due_refresh(case=case)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_MADE,
        actor=by,
        at=now,
        data={
            "commitment_id": commitment.pk,
            "description": commitment.description,
            "kind": commitment.kind,
            "due_at": _iso(commitment.due_at),
            **({"within": resolved.words} if resolved.words else {}),
        },
    )
    _webhook(commitment, case, "made")
    return commitment


@transaction.atomic
def commitment_mark_kept(*, commitment: Commitment, by: User) -> Commitment:
    """The promise was kept: no later reminder goes out."""
    commitment, case = _lock_commitment(commitment)
    _require_change(by, case)
    _require_open(commitment)
    now = timezone.now()
    _end(commitment=commitment, status=CommitmentStatus.KEPT, by=by, reason="", now=now)
    case_next_due_refresh(case=case)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_KEPT,
        actor=by,
        at=now,
        data={
            "commitment_id": commitment.pk,
            "description": commitment.description,
            "on_time": now <= commitment.due_at,
        },
    )
    _webhook(commitment, case, "kept")
    return commitment


@transaction.atomic
def commitment_renegotiate(
    *, commitment: Commitment, by: User, due: Due, reason: str
) -> Commitment:
    """Replace a promise with a new date and tell the customer at once (the delay notice).

    Returns the successor, which carries the same words, kind and owner.
    """
    commitment, case = _lock_commitment(commitment)
    _require_change(by, case)
    _require_open(commitment)
    reason = _require_reason(reason)
    now = timezone.now()
    successor = _create(
        case=case,
        by=by,
        description=commitment.description,
        kind=commitment.kind,
        due=due,
        now=now,
    )
    if successor.due_at == commitment.due_at:
        raise CommitmentRuleError(
            "same_due_time",
            "The new date is the same as the current one.",
            fields={"due_at": ["Choose a different time."]},
        )
    _end(
        commitment=commitment,
        status=CommitmentStatus.RENEGOTIATED,
        by=by,
        reason=reason,
        now=now,
        successor=successor,
    )
    case_next_due_refresh(case=case)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_RENEGOTIATED,
        actor=by,
        at=now,
        data={
            "commitment_id": commitment.pk,
            "successor_id": successor.pk,
            "from_due_at": _iso(commitment.due_at),
            "to_due_at": _iso(successor.due_at),
            "reason": reason,
            "before_due": now <= commitment.due_at,
        },
    )
    tz_name = case.customer.time_zone
    _customer_notice(
        case=case,
        template="commitments/email/renegotiated",
        dedupe_key=f"commitment:{commitment.pk}:renegotiated",
        extra={
            **_promise_context(successor, tz_name),
            "reason": reason,
            "previous_due_local": local_text(commitment.due_at, tz_name),
        },
        attachments=(commitment_ics(commitment=successor, case=case, now=now),),
    )
    _webhook(commitment, case, "renegotiated")
    return successor


@transaction.atomic
def commitment_withdraw(*, commitment: Commitment, by: User, reason: str) -> Commitment:
    """Take a promise back, with a reason the customer is told."""
    commitment, case = _lock_commitment(commitment)
    _require_change(by, case)
    _require_open(commitment)
    reason = _require_reason(reason)
    now = timezone.now()
    _end(commitment=commitment, status=CommitmentStatus.WITHDRAWN, by=by, reason=reason, now=now)
    case_next_due_refresh(case=case)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_WITHDRAWN,
        actor=by,
        at=now,
        data={"commitment_id": commitment.pk, "reason": reason},
    )
    _customer_notice(
        case=case,
        template="commitments/email/withdrawn",
        dedupe_key=f"commitment:{commitment.pk}:withdrawn",
        extra={**_promise_context(commitment, case.customer.time_zone), "reason": reason},
    )
    _webhook(commitment, case, "withdrawn")
    return commitment


@transaction.atomic
def commitment_confirm_on_track(*, commitment: Commitment, by: User) -> Commitment:
    """The owner says the promise will be kept: no at-risk alert, a plain reminder instead."""
    commitment, case = _lock_commitment(commitment)
    _require_change(by, case)
    _require_open(commitment)
    now = timezone.now()
    commitment.confirmed_on_track_at = now
    commitment.save(update_fields=["confirmed_on_track_at"])
    notification_cancel(tag=f"{_tag(commitment)}:at-risk")
    leads = reminder_leads(commitment=commitment, team=case.team)
    if leads and leads[-1].send_at > now:
        _enqueue_reminder(commitment=commitment, case=case, lead=leads[-1], at_risk=False)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_CONFIRMED,
        actor=by,
        at=now,
        data={"commitment_id": commitment.pk},
    )
    return commitment


@transaction.atomic
def commitment_mark_missed(*, commitment: Commitment, now: datetime | None = None) -> bool:
    """Mark a due, still-open promise missed; False (and nothing sent) if it is not.

    Safe to call any number of times, from any number of processes: the case and the
    commitment are locked and re-read, and every notice has a dedupe key.
    """
    now = now or timezone.now()
    commitment, case = _lock_commitment(commitment)
    if not commitment.is_open or commitment.due_at > now:
        return False
    _mark_missed(commitment=commitment, case=case, now=now)
    return True


def _mark_missed(*, commitment: Commitment, case: Case, now: datetime) -> None:
    recovery = None
    is_recovery = Commitment.objects.filter(
        successor=commitment, status=CommitmentStatus.MISSED
    ).exists()
    if case.status in OPEN_STATUSES and not is_recovery:
        calendar = team_calendar(case.team)
        recovery = _create(
            case=case,
            by=None,
            description=f"Contact you personally about: {commitment.description}"[:DESCRIPTION_MAX],
            kind=CommitmentKind.UPDATE,
            due=max(calendar.standard_day, timedelta(hours=1)),
            now=now,
        )
    _end(
        commitment=commitment,
        status=CommitmentStatus.MISSED,
        by=None,
        reason="Due time passed with the promise still open.",
        now=now,
        successor=recovery,
    )
    case_next_due_refresh(case=case)
    case_event_record(
        case=case,
        kind=PromiseEventKind.COMMITMENT_MISSED,
        actor=None,
        at=now,
        data={
            "commitment_id": commitment.pk,
            "due_at": _iso(commitment.due_at),
            "owner_id": commitment.owner_id,
            **({"recovery_id": recovery.pk} if recovery else {}),
        },
    )
    tz_name = case.customer.time_zone
    next_step = (
        _promise_context(recovery, tz_name, prefix="next_")
        if recovery
        else {"next_description": "", "next_due_local": ""}
    )
    _customer_notice(
        case=case,
        template="commitments/email/missed",
        dedupe_key=f"commitment:{commitment.pk}:missed:apology",
        extra={**_promise_context(commitment, tz_name), **next_step},
    )
    owner = owner_contact(commitment.owner)
    for manager in case.team.managers.filter(is_active=True).order_by("pk"):
        notification_enqueue(
            recipient=agent_recipient(manager, kind="manager"),
            template="commitments/email/missed_manager",
            context={
                "case_ref": case.ref,
                "case_subject": case.subject,
                "team_name": case.team.name,
                "owner_name": owner["name"],
                "owner_email": owner["email"],
                "manager_name": owner_contact(manager)["name"],
                **_promise_context(commitment, case.team.time_zone),
            },
            dedupe_key=f"commitment:{commitment.pk}:missed:manager:{manager.pk}",
            tags=[f"case:{case.pk}"],
        )
    handoff_record_commitment_missed(case_id=case.pk, commitment_id=commitment.pk)
    _webhook(commitment, case, "missed")


def commitments_sweep_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Mark due open promises missed; returns how many this call marked.

    Each promise is claimed in its own short transaction: the case row, then the commitment
    row, both with SKIP LOCKED, so concurrent sweeps share the work and never wait on the
    API or each other; anything skipped is picked up by the next run.
    """
    now = now or timezone.now()
    due = list(
        Commitment.objects.filter(status=CommitmentStatus.OPEN, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", "case_id")[:limit]
    )
    marked = 0
    for commitment_id, case_id in due:
        with transaction.atomic():
            case = (
                Case.objects.select_related("customer", "team", "owner")
                .select_for_update(skip_locked=True, of=("self",))
                .filter(pk=case_id)
                .first()
            )
            if case is None:
                continue
            commitment = (
                Commitment.objects.select_for_update(skip_locked=True)
                .filter(pk=commitment_id, status=CommitmentStatus.OPEN, due_at__lte=now)
                .first()
            )
            if commitment is None:
                continue
            commitment.case = case
            _mark_missed(commitment=commitment, case=case, now=now)
            marked += 1
    return marked


# --- handlers registered in cases.hooks --------------------------------------------------------


def on_case_opened(*, case: Case, by: User, now: datetime) -> None:
    """The first-response promise, from the channel's target on the team's calendar (in
    plain time if the calendar has no working hours ahead, so a case always opens)."""
    channel = Channel(case.channel).label.lower() if case.channel in Channel.values else "message"
    locked = _lock_case(case)
    target = case.team.first_response_target(case.channel)
    description = f"A first reply to your {channel} from your case owner"

    def make(due: Due) -> Commitment:
        return _create(
            case=locked,
            by=None,
            description=description,
            kind=CommitmentKind.FIRST_RESPONSE,
            due=due,
            now=now,
        )

    try:
        make(target)
    except CommitmentRuleError as err:
        if err.code != "calendar_has_no_hours":
            raise
        make(now + target)
    case.next_due_at = locked.next_due_at


def on_handoff_accepted(*, case: Case, handoff: Any, now: datetime) -> None:
    """Open promises follow the case to its new owner, reminders included; and a follow-up
    promise ("check the hand-off worked", one business day) is made for the new owner."""
    given, case = case, _lock_case(case)
    moving = list(
        Commitment.objects.select_for_update()
        .filter(case=case, status=CommitmentStatus.OPEN)
        .exclude(owner_id=case.owner_id)
        .order_by("pk")
    )
    for commitment in moving:
        notification_cancel(tag=_tag(commitment))
        commitment.owner = case.owner
        commitment.reminder_generation = F("reminder_generation") + 1
        commitment.save(update_fields=["owner", "reminder_generation"])
        commitment.refresh_from_db(fields=["reminder_generation"])
        _schedule_reminders(commitment=commitment, case=case, now=now)
    calendar = team_calendar(case.team)
    _create(
        case=case,
        by=None,
        description=(
            f"Check with you that the hand-off to {owner_contact(case.owner)['name']} worked"
        ),
        kind=CommitmentKind.UPDATE,
        due=calendar.standard_day or timedelta(days=1),
        now=now,
    )
    given.next_due_at = case.next_due_at


def on_case_closed(*, case: Case, by: User, now: datetime) -> None:
    """Resolving or closing a case ends the promises it fulfils as kept: the product's own
    (first reply, hand-off follow-up, the step after a missed promise) and any "resolution"
    promise. A promise a person made for something else — a callback, a refund, a delivery —
    must be kept or withdrawn first (``open_commitments``, 409), so a case never closes over a
    promise the customer is still waiting for without them being told."""
    open_ones = list(
        Commitment.objects.select_for_update()
        .filter(case=case, status=CommitmentStatus.OPEN)
        .order_by("due_at", "pk")
    )
    blocking = [
        c for c in open_ones if c.made_by_id is not None and c.kind not in KINDS_ENDED_BY_RESOLUTION
    ]
    if blocking:
        raise CommitmentRuleError(
            "open_commitments",
            "Keep or withdraw the case's open promises before resolving or closing it.",
            fields={
                "commitments": [f"{c.pk}: {c.description} (due {_iso(c.due_at)})" for c in blocking]
            },
            status=409,
        )
    for commitment in open_ones:
        _end(
            commitment=commitment,
            status=CommitmentStatus.KEPT,
            by=by,
            reason="Case resolved.",
            now=now,
        )
        case_event_record(
            case=case,
            kind=PromiseEventKind.COMMITMENT_KEPT,
            actor=by,
            at=now,
            data={
                "commitment_id": commitment.pk,
                "on_time": now <= commitment.due_at,
                "by_resolution": True,
            },
        )
        commitment.case = case
        _webhook(commitment, case, "kept")
    case_next_due_refresh(case=case)
