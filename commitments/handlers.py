"""What commitments does when ``cases`` tells it of a case event (``cases.hooks``; registered
in ``CommitmentsConfig.ready``). Each runs inside the case's own transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from cases.hooks import DuePromise, PromiseOutcomes
from cases.models import Case, Channel
from cases.recipients import owner_contact
from commitments import callback_cover
from commitments.calendar_services import (
    business_calendar_of,
    first_response_calendar,
    team_calendar,
)
from commitments.calendars import Calendar, add_business_time
from commitments.errors import CommitmentRuleError
from commitments.lifecycle import User, lock_existing_case, promise_make
from commitments.models import (
    KINDS_ENDED_BY_RESOLUTION,
    OWNER_KINDS,
    BusinessCalendar,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
)
from commitments.scheduling import (
    DueLike,
    reminder_messages,
    reminders_cancel,
    reminders_cancel_many,
    reminders_schedule,
)
from commitments.selectors import iso
from commitments.services import promise_keep
from notifications.services import notification_enqueue_many

# The first-reply promise in the customer's words, by the channel they came in on.
FIRST_REPLY_WORDS: dict[str, Promise] = {
    Channel.EMAIL: gettext_lazy("A reply to your email"),
    Channel.WEB: gettext_lazy("A reply to your web form message"),
    Channel.SOCIAL: gettext_lazy("A reply to your social media message"),
    Channel.CHAT: gettext_lazy("A reply to your chat message"),
    Channel.PHONE: gettext_lazy("A call back about your phone call"),
    Channel.IN_PERSON: gettext_lazy("A follow-up to your visit"),
}


def first_reply_description(channel: str, language: str = "") -> str:
    """The promise's words in the customer's ``language`` (they are stored as written: the
    customer page, emails and calendar entry show them as the customer was promised)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return str(FIRST_REPLY_WORDS.get(channel, gettext_lazy("A reply to your message")))


def on_case_opened(*, case: Case, by: User, now: datetime) -> None:
    """The first-response promise, from the channel's target on its one clock
    (``first_response_calendar``: the team's business time, in plain time if the calendar has
    no working hours, or none ahead, so a case always opens): the clock the first-response
    report counts too.

    A live channel (target under the team's live threshold: chat, phone, in person by
    default) gets no promise: its first response is a service level measured from the
    contacts (``reports.first_response``), so a missed target never reaches the customer."""
    if case.team.first_response_is_live(case.channel):
        return
    locked = lock_existing_case(case.pk)
    target = case.team.first_response_target(case.channel)
    description = first_reply_description(case.channel, case.customer.language)

    def make(due: DueLike) -> Commitment:
        return promise_make(
            case=locked,
            by=None,
            description=description,
            kind=CommitmentKind.FIRST_RESPONSE,
            due=due,
            now=now,
        )

    if first_response_calendar(case.team, case.channel) is None:
        make(now + target)
        case.next_due_at = locked.next_due_at
        return
    try:
        make(target)
    except CommitmentRuleError as err:
        if err.code != "calendar_has_no_hours":
            raise
        make(now + target)
    case.next_due_at = locked.next_due_at


def on_handoff_accepted(*, case: Case, handoff: Any, now: datetime) -> None:
    """Open promises follow the case to its new owner, reminders included; and the new
    owner's own follow-up ("check the hand-off worked", one business day) is made: an owner
    kind, so the customer is never told of it nor apologised to about it.

    ``case`` is the row ``cases`` locked and read in this transaction, its new owner set
    (``cases.hooks``): it is not locked or read again."""
    if getattr(handoff, "to_team_id", None) is not None:
        # the case moved to another team: its promises' reports move with it
        Commitment.objects.filter(case=case).update(team_id=case.team_id)
    moving = list(
        Commitment.objects.select_for_update()
        .filter(case=case, status=CommitmentStatus.OPEN)
        .exclude(owner_id=case.owner_id)
        .order_by("pk")
    )
    if moving:
        # All carried promises at once: their reminders cancelled, owner and generation moved,
        # and the new owner's reminders queued, each in one statement.
        reminders_cancel_many(commitments=moving)
        ids = [c.pk for c in moving]
        Commitment.objects.filter(pk__in=ids).update(
            owner=case.owner, reminder_generation=F("reminder_generation") + 1
        )
        messages = []
        for commitment in moving:
            commitment.owner = case.owner
            # locked above (FOR UPDATE): the generation read is the one the update raised
            commitment.reminder_generation += 1
            messages += reminder_messages(commitment=commitment, case=case, now=now)
        notification_enqueue_many(messages, later=True)
        if any(c.kind == CommitmentKind.CALLBACK for c in moving):
            # a callback the customer booked: the new owner makes the call
            callback_cover.on_handoff_accepted(case=case, handoff=handoff, now=now)
    calendar = team_calendar(case.team)
    promise_make(
        case=case,
        by=None,
        description=handoff_check_description(owner_contact(case.owner)["name"]),
        kind=CommitmentKind.HANDOFF_CHECK,
        due=calendar.standard_day or timedelta(days=1),
        now=now,
    )


def handoff_check_description(new_owner_name: str) -> str:
    return f"Check with the customer that the hand-off to {new_owner_name} worked"


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
                "commitments": [f"{c.pk}: {c.description} (due {iso(c.due_at)})" for c in blocking]
            },
            status=409,
        )
    for commitment in open_ones:
        commitment.case = case
        promise_keep(
            commitment=commitment,
            case=case,
            by=by,
            now=now,
            reason="Case resolved.",
            data={"by_resolution": True},
        )


def on_contact_recorded(*, case: Case, contact: Any, now: datetime) -> None:
    """The first contact to the customer keeps the first-response promise: the reply is the
    proof, nobody has to click "keep"."""
    if not contact.to_customer:
        return
    first = list(
        Commitment.objects.select_for_update().filter(
            case=case, kind=CommitmentKind.FIRST_RESPONSE, status=CommitmentStatus.OPEN
        )
    )
    for commitment in first:
        commitment.case = case
        promise_keep(
            commitment=commitment,
            case=case,
            by=contact.agent,
            now=now,
            kept_at=contact.at,
            reason="Answered by the first contact to the customer.",
            data={"by_contact": contact.pk},
        )


def business_time_add_for_team(*, team: Any, start: datetime, duration: timedelta) -> datetime:
    """``duration`` of the team's business time after ``start`` (hand-off offer timers)."""
    return add_business_time(team_calendar(team), start, duration)


@dataclass(frozen=True)
class CalendarWorkingTime:
    """An agent's working hours on a business calendar (``hooks.WorkingTime``); an
    interval's end is not working time (back at 17:00 means back on the next opening)."""

    calendar: Calendar

    def next_opening(self, after: datetime) -> datetime | None:
        try:
            opens, _closes = next(self.calendar.intervals_from(after))
        except ValueError:
            return None
        return opens

    def is_working(self, at: datetime) -> bool:
        return self.next_opening(at) == at


def working_time_for_agent(*, team: Any, tz_name: str, weekly_hours: dict) -> CalendarWorkingTime:
    """The team's calendar (holidays, closed days) in the agent's zone, with the agent's own
    weekly hours when they have some."""
    row = business_calendar_of(team)
    calendar = row.as_calendar(tz_name)
    if weekly_hours:
        own = BusinessCalendar(weekly_hours=weekly_hours).parsed_weekly_hours()
        calendar = replace(calendar, weekly=own, around_the_clock=False)
    return CalendarWorkingTime(calendar)


def on_availability_changed(
    *, agent: Any, start: datetime, end: datetime | None, now: datetime
) -> int:
    """Reminders of the agent's open promises due in [start, end) are queued again, so they
    go to whoever covers then (``cases.availability.hours.case_attention_recipients``); the ones
    already sent are not sent again (a past lead is skipped)."""
    due = Commitment.objects.filter(owner=agent, status=CommitmentStatus.OPEN, due_at__gte=start)
    if end is not None:
        due = due.filter(due_at__lt=end)
    moved = 0
    for commitment in due.select_related("case__team", "case__owner").order_by("pk"):
        reminders_cancel(commitment=commitment)
        commitment.reminder_generation = F("reminder_generation") + 1
        commitment.save(update_fields=["reminder_generation"])
        commitment.refresh_from_db(fields=["reminder_generation"])
        reminders_schedule(commitment=commitment, case=commitment.case, now=now)
        moved += 1
    return moved


def promises_due_for_owner(*, owner_id: int, start: datetime, end: datetime) -> list[DuePromise]:
    rows = Commitment.objects.filter(
        owner_id=owner_id, status=CommitmentStatus.OPEN, due_at__gte=start, due_at__lt=end
    ).values_list("case_id", "pk", "description", "due_at")
    return [DuePromise(case_id=c, id=i, description=d, due_at=t) for c, i, d, t in rows]


def on_customer_erased(*, case_ids: list[int], placeholder: str) -> list[str]:
    """The customer's words go from their promises (descriptions, the reasons they were
    told); status, dates, owners and successors stay, so the commitments report is unchanged.
    The tags name the reminders and notices that quote them."""
    promises = Commitment.objects.filter(case_id__in=case_ids)
    ids = list(promises.order_by("pk").values_list("pk", flat=True))
    promises.update(description=placeholder)
    promises.exclude(end_reason="").update(end_reason=placeholder)
    return [f"commitment:{pk}" for pk in ids]


def promise_outcomes_of_case(*, case: Case) -> PromiseOutcomes:
    """How the case's promises to the customer ended, in one query (the satisfaction
    snapshot at close). The handler runs before the promises the close keeps are kept: an
    open one counts as kept, since the close either keeps it or is refused."""
    counts = (
        Commitment.objects.filter(case_id=case.pk)
        .exclude(kind__in=OWNER_KINDS)
        .aggregate(
            kept=Count("pk", filter=Q(status__in=[CommitmentStatus.KEPT, CommitmentStatus.OPEN])),
            renegotiated=Count("pk", filter=Q(status=CommitmentStatus.RENEGOTIATED)),
            missed=Count("pk", filter=Q(status=CommitmentStatus.MISSED)),
        )
    )
    return PromiseOutcomes(**counts)
