"""What promises tell people: the customer's notices (a dated promise carries an iCalendar
entry), the managers' alert when a promise is missed, and the integrators' webhooks.

Every function here queues outbox rows in the caller's transaction; nothing is sent from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import icalendar
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from cases import notices as cases_notices
from cases.mail_thread import reply_address
from cases.models import Case
from cases.notices import customer_context
from cases.recipients import agent_recipient, owner_contact
from commitments.models import Commitment, CommitmentStatus, is_customer_kind, zone
from commitments.selectors import commitment_payload, iso
from notifications.localtime import local_time_text
from notifications.services import Attachment, notification_enqueue
from notifications.webhooks import webhook_emit

ICS_EVENT_LENGTH = timedelta(minutes=15)


def local_text(moment: datetime, tz_name: str) -> str:
    """``Friday 27 November 2026, 12:00 GMT`` in the reader's zone: the one format of every
    message (``notifications.localtime``; templates use its ``local_time`` filter)."""
    return local_time_text(moment, tz_name)


def promise_context(commitment: Commitment, tz_name: str, prefix: str = "") -> dict:
    """What every email about a promise shows of it, in the reader's time zone."""
    return {
        f"{prefix}commitment_id": commitment.pk,
        f"{prefix}description": commitment.description,
        f"{prefix}due_at": iso(commitment.due_at),
        f"{prefix}due_local": local_text(commitment.due_at, tz_name),
    }


def promise_calendar_id(commitment: Commitment) -> tuple[str, int]:
    """The calendar entry's UID and SEQUENCE: one UID per promise, whatever its dates (the
    first of its chain of renegotiations), and the number of renegotiations behind it."""
    first, sequence = commitment, 0
    while (
        earlier := Commitment.objects.filter(
            successor_id=first.pk, status=CommitmentStatus.RENEGOTIATED
        )
        .only("pk")
        .first()
    ) is not None:
        first, sequence = earlier, sequence + 1
    return _calendar_uid(first.pk), sequence


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, year: int) -> icalendar.Timezone:
    """The zone's VTIMEZONE for the years around a promise, built once per zone and year.

    icalendar's default spans 1970-2038 and costs milliseconds per entry; a promise needs the
    rules of the year it falls in (and its neighbours, for entries near the new year)."""
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1)
    )


def _calendar_uid(first_id: int) -> str:
    return f"commitment-{first_id}@{settings.EMAIL_MESSAGE_ID_DOMAIN}"


def commitment_ics(
    *,
    commitment: Commitment,
    case: Case,
    now: datetime,
    replaces: Commitment | None = None,
    cancel: bool = False,
) -> Attachment:
    """The promise's iCalendar entry (RFC 5545), in the customer's time zone and language.

    One entry per promise (RFC 5546): made, it is published with SEQUENCE 0; renegotiated
    (``replaces``: the promise it replaces), the same UID is published again at the new time
    with SEQUENCE one higher, so the customer's calendar moves the entry rather than keeping
    both; withdrawn (``cancel``), METHOD:CANCEL with the same UID and a higher SEQUENCE
    removes it. The organiser is the case's reply address, so a calendar's answer lands on
    the case."""
    tz_name = case.customer.time_zone
    if replaces is None and not cancel:
        # a promise just made: the first of its chain, no query needed
        uid, sequence = _calendar_uid(commitment.pk), 0
    else:
        uid, sequence = promise_calendar_id(replaces or commitment)
        sequence += 1
    start = commitment.due_at.astimezone(zone(tz_name))
    cal = icalendar.Calendar()
    cal.add("prodid", "-//caseowner//commitments//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancel else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add(
        "dtend", (commitment.due_at.astimezone(UTC) + ICS_EVENT_LENGTH).astimezone(start.tzinfo)
    )
    organizer = icalendar.vCalAddress(f"mailto:{reply_address(case.pk)}")
    organizer.params["cn"] = icalendar.vText(settings.ORGANISATION_NAME)
    event.add("organizer", organizer)
    with translation.override(case.customer.language or settings.LANGUAGE_CODE):
        event.add("summary", f"[{case.ref}] {commitment.description}")
        event.add(
            "description",
            gettext("Promised by %(name)s, case %(ref)s.")
            % {"name": owner_contact(case.owner)["name"], "ref": case.ref},
        )
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    cal.add_component(event)
    for tzid in cal.get_missing_tzids():
        cal.subcomponents.insert(0, _vtimezone(tzid, start.year))
    return Attachment(
        filename=f"{case.ref}-promise-{commitment.pk}.ics",
        content_type="text/calendar",
        content=cal.to_ical().decode(),
    )


@dataclass(frozen=True)
class CustomerNotice:
    """An email to the customer about one of their promises (``commitments/email/<template>``)."""

    template: str
    dedupe_key: str
    extra: dict = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


def promise_notice_enqueue(*, case: Case, notice: CustomerNotice, by: Any | None) -> None:
    """Queue a promise's notice to the customer through the cases app's one door
    (``cases.notices.customer_notice_enqueue``; ``by``, the agent whose action causes it,
    counts against the daily limits; None, the product's own notice, never does). The point
    of contact is named when it is sent; a customer with no route gets a call from the owner
    instead (``notice_task_text`` says what to tell them)."""
    context = {**customer_context(case), **notice.extra}
    if notice.template == "missed":
        # "Their manager has been told" only when one is (``missed_manager_alerts``).
        context["manager_told"] = case.team.managers.filter(is_active=True).exists()
    cases_notices.customer_notice_enqueue(
        case=case,
        by=by,
        template=f"commitments/email/{notice.template}",
        context=context,
        dedupe_key=notice.dedupe_key,
        attachments=notice.attachments,
        task_text=notice_task_text(case, notice),
    )


def notice_task_text(case: Case, notice: CustomerNotice) -> str:
    """What the owner's call must tell a customer the notice cannot reach: "Call Mrs
    Campbell on 07700 900021: their promise "Replacement delivered" moved to …"."""
    extra = notice.extra
    what = f'"{extra.get("description", "")}"'
    due = extra.get("due_local", "")
    news = {
        "commitment_made": f"we promise {what} by {due}",
        "renegotiated": f"{what} moves to {due} (was {extra.get('previous_due_local', '')}): "
        f"{extra.get('reason', '')}",
        "withdrawn": f"we withdraw the promise {what}: {extra.get('reason', '')}",
        "missed": f"apologise: we missed {what}, due {due}",
    }.get(notice.template, f"about {what}")
    return f"{cases_notices.call_whom(case.customer)}: {news} ({case.ref})"


def missed_manager_alerts(*, commitment: Commitment, case: Case) -> None:
    """Each active manager of the team hears of a missed promise once, and how the customer
    hears of it: an apology (a customer's promise), the owner's call when there is no route
    to them, or nothing at all (the owner's own follow-up)."""
    customers = is_customer_kind(commitment.kind)
    owner = owner_contact(commitment.owner)
    # a customer with no route gets a call from the owner instead of the apology
    customer_call = bool(cases_notices.customer_route(case.customer).no_route)
    for manager in case.team.managers.filter(is_active=True).order_by("pk"):
        notification_enqueue(
            later=True,
            recipient=agent_recipient(manager, kind="manager"),
            template="commitments/email/missed_manager",
            context={
                "case_ref": case.ref,
                "case_subject": case.subject,
                "team_name": case.team.name,
                "owner_name": owner["name"],
                "owner_email": owner["email"],
                "manager_name": owner_contact(manager)["name"],
                "customer_apologised": customers and not customer_call,
                "customer_call": customers and customer_call,
                "owners_task": not customers,
                **promise_context(commitment, case.team.time_zone),
            },
            dedupe_key=f"commitment:{commitment.pk}:missed:manager:{manager.pk}",
            tags=[f"case:{case.pk}"],
        )


def commitment_webhook_emit(*, commitment: Commitment, case: Case, event: str) -> None:
    """Tell integrators (``commitment.<event>``) through their webhooks."""
    webhook_emit(
        scope=f"team:{case.team_id}",
        event=f"commitment.{event}",
        payload=commitment_payload(commitment),
        dedupe_key=f"commitment:{commitment.pk}:webhook:{event}",
        order=f"case:{case.pk}",
        tags=[f"case:{case.pk}"],
    )
