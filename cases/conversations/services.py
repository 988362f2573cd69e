"""Contacts with the customer: recording one (every way in: the case page's reply, the API,
inbound email) and the reply written on the case page.

A reply goes out through the outbox from "<writer> via <organisation>", with a Reply-To that
leads back to this case (``reply+<signed token>@INBOUND_DOMAIN``) and the thread's headers,
so the customer's answer lands on the case whatever their mail program keeps of it.

"Customer replied" (``Case.awaiting_reply_since``) is set by a contact from the customer and
cleared by the next contact to them — an answer, not a page view, is what the customer waits
for — or by resolving the case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases import hooks
from cases.errors import CaseRuleError
from cases.locking import lock_case
from cases.mail_thread import case_id_from_reply_address, case_thread, reply_address
from cases.models import (
    CONTACT_BODY_MAX,
    CONTACT_EXTERNAL_ID_MAX,
    CONTACT_SUMMARY_MAX,
    Case,
    CaseStatus,
    Channel,
    Contact,
    ContactDirection,
    EventKind,
    InboundMessage,
)
from cases.notice_contact import without_point_of_contact_marker
from cases.notices import customer_context, customer_notice_enqueue, reply_address_check
from cases.permissions import can_change_case, is_team_manager, is_team_member
from cases.recipients import display_name, owner_contact
from cases.services import User, case_event_record
from notifications.services import EmailHeaders

# A contact may be logged a little ahead of our clock (the caller's clock drifts), no more.
FUTURE_TOLERANCE = timedelta(minutes=1)
# How much of a contact's text its timeline event repeats.
EXCERPT_CHARS = 1_000

# --- recording a contact ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewContact:
    """A contact as a caller reports it. ``at`` None: now. ``agent`` None on a contact to the
    customer: the caller."""

    direction: str
    channel: str
    body: str = ""
    summary: str = ""
    at: datetime | None = None
    agent: User | None = None
    external_id: str = ""
    message_id: str = ""
    auto_submitted: bool = False
    # The message or call the case was opened for (``cases.intake``): the customer's wait
    # begins there, but a new case is not "customer replied".
    opening: bool = False


@dataclass(frozen=True)
class RecordedContact:
    contact: Contact
    # False: the external id was recorded before; ``contact`` is that first record.
    created: bool


def contact_check(contact: NewContact, *, now: datetime) -> None:
    """Every rule a contact's fields obey, before anything is written."""
    errors: dict[str, list[str]] = {}
    if contact.direction not in ContactDirection.values:
        errors["direction"] = [f"One of: {', '.join(ContactDirection.values)}."]
    if contact.channel not in Channel.values:
        errors["channel"] = [f"One of: {', '.join(Channel.values)}."]
    if contact.at is not None and contact.at > now + FUTURE_TOLERANCE:
        errors["at"] = ["A contact cannot be in the future."]
    if len(contact.body) > CONTACT_BODY_MAX:
        errors["body"] = [f"At most {CONTACT_BODY_MAX} characters."]
    if len(contact.summary) > CONTACT_SUMMARY_MAX:
        errors["summary"] = [f"At most {CONTACT_SUMMARY_MAX} characters."]
    if len(contact.external_id) > CONTACT_EXTERNAL_ID_MAX:
        errors["external_id"] = [f"At most {CONTACT_EXTERNAL_ID_MAX} characters."]
    if not contact.body.strip() and not contact.summary.strip():
        errors["body"] = ["Give the contact's text or a summary of it."]
    if errors:
        raise CaseRuleError("invalid_contact", "The contact has invalid fields.", fields=errors)


def can_record_contacts(user: User, case: Case) -> bool:
    """Whoever works in or manages the case's team records what happened with the customer
    (the case page's "Log a contact", an integration's ``POST …/contacts/``)."""
    if user.is_superuser or is_team_manager(user, case.team_id):
        return True
    return case.owner_id == user.pk or is_team_member(user, case.team)


def _check_people(case: Case, *, by: User | None, agent: User | None) -> None:
    if by is not None and not can_record_contacts(by, case):
        raise CaseRuleError(
            "not_in_team", "Only the case's team can record its contacts.", status=403
        )
    if agent is not None and not (
        agent.is_active and (is_team_member(agent, case.team) or is_team_manager(agent, case.team))
    ):
        raise CaseRuleError(
            "invalid_contact",
            "The contact has invalid fields.",
            fields={"agent": ["Not an active agent of the case's team."]},
        )


def _event_kind(contact: Contact) -> str:
    if contact.auto_submitted:
        return EventKind.CONTACT_AUTOMATIC
    if contact.to_customer:
        return EventKind.CONTACT_TO_CUSTOMER
    return EventKind.CONTACT_FROM_CUSTOMER


def _customer_wrote(case: Case, contact: Contact, now: datetime) -> None:
    """The customer is waiting for an answer; a case waiting on them is open again."""
    fields = ["awaiting_reply_since", "updated_at"]
    if case.awaiting_reply_since is None:
        case.awaiting_reply_since = contact.at
    if case.status == CaseStatus.WAITING:
        case.status = CaseStatus.OPEN
        fields.append("status")
        case_event_record(
            case=case,
            kind=EventKind.STATUS_CHANGED,
            actor=None,
            at=now,
            data={
                "from": CaseStatus.WAITING,
                "to": CaseStatus.OPEN,
                "reason": "The customer replied.",
            },
        )
    case.updated_at = now
    case.save(update_fields=fields)


@transaction.atomic
def contact_record(
    *,
    case: Case,
    contact: NewContact,
    by: User | None,
    inbound: InboundMessage | None = None,
) -> RecordedContact:
    """Record one contact on the case's timeline; the same external id twice is one contact.

    ``by`` is whoever reports it (None: the product itself, e.g. an email received). A contact
    to the customer clears "customer replied" and runs ``hooks.contact_recorded`` (it keeps a
    first-response promise); one from the customer flags the queue and reopens a case waiting
    on them. An automatic message (auto-reply, bounce) is recorded and changes nothing else.
    """
    now = timezone.now()
    contact_check(contact, now=now)
    if contact.agent is None and contact.direction == ContactDirection.TO_CUSTOMER:
        contact = replace(contact, agent=by)
    locked = lock_case(case.pk)
    if locked is None:  # pragma: no cover - cases are never deleted (PROTECT)
        raise CaseRuleError("not_found", f"No case {case.ref}.", status=404)
    case = locked
    _check_people(case, by=by, agent=contact.agent)
    if contact.external_id:
        earlier = Contact.objects.filter(case=case, external_id=contact.external_id).first()
        if earlier is not None:
            return RecordedContact(contact=earlier, created=False)
    row = Contact.objects.create(
        case=case,
        direction=contact.direction,
        channel=contact.channel,
        at=contact.at or now,
        agent=contact.agent,
        summary=contact.summary.strip(),
        body=contact.body.strip(),
        external_id=contact.external_id,
        message_id=contact.message_id[:255],
        inbound=inbound,
        auto_submitted=contact.auto_submitted,
        created_at=now,
    )
    text = row.body or row.summary
    case_event_record(
        case=case,
        kind=_event_kind(row),
        actor=row.agent,
        at=row.at,
        data={
            "contact_id": row.pk,
            "direction": row.direction,
            "channel": row.channel,
            "summary": row.summary,
            "excerpt": text[:EXCERPT_CHARS],
            "truncated": len(text) > EXCERPT_CHARS,
            **({"sender": inbound.from_address} if inbound is not None else {}),
            **({"auto_reason": inbound.auto_reason} if inbound and inbound.auto_reason else {}),
        },
    )
    if row.auto_submitted:
        return RecordedContact(contact=row, created=True)
    if row.to_customer:
        if case.awaiting_reply_since is not None:
            case.awaiting_reply_since = None
            case.save(update_fields=["awaiting_reply_since"])
    elif not contact.opening:
        _customer_wrote(case, row, now)
    hooks.run(hooks.contact_recorded, case=case, contact=row, now=now)
    return RecordedContact(contact=row, created=True)


# --- the reply written on the case page ------------------------------------------------------


def reply_signature_context(case: Case, by: User) -> dict:
    """The writer signs their own words (no send-time point of contact here): the owner's
    cover while the owner is away signs "<cover>, covering for <owner>" beside the owner's
    return; anyone else signs with their own card, and the email says nothing of a cover."""
    context = without_point_of_contact_marker(customer_context(case))
    writer = owner_contact(by)
    if context.get("covering") and context.get("cover") == writer:
        return context
    context = {
        k: v
        for k, v in context.items()
        if k not in ("covering", "cover", "owner_back", "from_name")
    }
    return {**context, "owner": writer}


@transaction.atomic
def contact_reply_send(*, case: Case, by: User, body: str) -> Contact:
    """Email the customer the writer's own words, as a contact on the case.

    A reply is a customer notice like any other: it goes through the one door
    (``customer_notice_enqueue``) and counts against the same per-case and per-agent daily
    limits (429 ``notice_limit_reached``: nothing is recorded). A reply to an address the
    writer set themselves in the last hour waits for a second person (409
    ``recent_address_change``, ``reply_address_check``)."""
    case = lock_case(case.pk) or case
    if not can_change_case(by, case):
        raise CaseRuleError(
            "not_case_owner",
            "Only the case's owner, their cover while they are away, or a manager of its team"
            " can reply to the customer.",
            status=403,
        )
    if not case.customer.email:
        raise CaseRuleError(
            "customer_has_no_email",
            "The customer has no email address on file; call them and record the call.",
            status=409,
        )
    if not body.strip():
        raise CaseRuleError(
            "invalid_contact",
            "Write the reply.",
            fields={"body": ["This field may not be blank."]},
        )
    reply_address_check(case=case, by=by, now=timezone.now())
    in_reply_to, references = case_thread(case)
    recorded = contact_record(
        case=case,
        contact=NewContact(
            direction=ContactDirection.TO_CUSTOMER,
            channel=Channel.EMAIL,
            body=body,
            summary=f"Re: {case.subject}"[:CONTACT_SUMMARY_MAX],
            agent=by,
        ),
        by=by,
    )
    contact = recorded.contact
    notification = customer_notice_enqueue(
        case=case,
        by=by,
        template="cases/email/reply",
        context={**reply_signature_context(case, by), "text": contact.body},
        dedupe_key=f"contact:{contact.pk}:reply",
        tags=[f"contact:{contact.pk}"],
        headers=EmailHeaders(
            from_name=f"{display_name(by)} via {settings.ORGANISATION_NAME}",
            reply_to=reply_address(case.pk),
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted="no",
        ),
    )
    if notification is not None:
        contact.message_id = notification.message_id
        contact.save(update_fields=["message_id"])
    return contact


__all__ = [
    "NewContact",
    "RecordedContact",
    "can_record_contacts",
    "case_id_from_reply_address",
    "contact_check",
    "contact_record",
    "contact_reply_send",
    "reply_address",
]
