"""What the cases app's notices share: the one door every customer notice goes through (with
its daily limits), the customer email's context, times written in the reader's zone, and the
staff page a notice links to. The point of contact a notice names (the owner, the cover while
they are away) is ``cases.notice_contact``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy

from caseowner.types import User
from cases.customers.links import customer_url
from cases.errors import CaseRuleError
from cases.events import case_event_webhooks, notice_failed_emit
from cases.locking import lock_case_row
from cases.mail_thread import case_root_message_id, reply_address
from cases.models import (
    OPEN_STATUSES,
    TASK_TEXT_MAX,
    Case,
    CaseEvent,
    Channel,
    Customer,
    CustomerNoticeSent,
    EventKind,
    OwnerTask,
)
from cases.notice_contact import POINT_OF_CONTACT_MARKER, point_of_contact_context
from notifications.localtime import local_time_text
from notifications.models import Notification, NotificationChannel
from notifications.services import Attachment, EmailHeaders, Recipient, notification_enqueue

NOTICE_LIMIT_WINDOW = timedelta(days=1)
NOTICE_LEDGER_PRUNE_BATCH = 1000


# Advisory-lock key space of the per-agent limit (the first of the two keys; the agent's id is
# the second), so no other advisory lock of the product can share a key with it.
AGENT_NOTICE_LOCK_SPACE = 0x6E6F74  # "not"


def customer_notice_limit_lock(*, by: User) -> None:
    """Serialise the agent's notices until the caller's transaction ends, so the count and the
    ledger row it leads to are one step: without it, seven concurrent promises past a limit of
    three all counted below it and all went out.

    The per-case count is held by the case's row lock, which every caller of the door already
    holds (``lock_case``, or a case it has just created); the per-agent count by a
    transaction-scoped advisory lock on the agent on PostgreSQL, taken after the case's (their
    actions on different cases take turns). On SQLite writes serialise anyway. One
    transaction causing notices on two cases by one agent would take the agent's lock between
    two case locks; no service does that."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [AGENT_NOTICE_LOCK_SPACE, int(by.pk)]
            )


def customer_notice_limit_check(*, case: Case, by: User, now: datetime) -> int | None:
    """Refuse (429 ``notice_limit_reached``) a notice the agent's action would cause past the
    per-case or per-agent limit of any 24 hours: a flood of renegotiations or replies, or
    cases opened for any address, cannot turn the product into a mailer. The caller holds the
    case's row lock; the agent's is taken here (``customer_notice_limit_lock``) and held until
    the caller's transaction, which writes the ledger row, ends.

    On PostgreSQL the statement that counts writes the ledger row when both counts are below
    their limits, and its id is returned (the caller deletes it if no notice goes out after
    all); elsewhere None, and the caller writes it."""
    customer_notice_limit_lock(by=by)
    since = now - NOTICE_LIMIT_WINDOW
    per_case = settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY
    per_agent = settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY
    recorded: int | None = None
    if connection.vendor == "postgresql":
        # A statement of its own after the lock's: its snapshot sees every notice the agent's
        # other transactions, which held the lock before, committed.
        counts, recorded = _count_and_record(
            case=case, by=by, now=now, limits=(per_case, per_agent)
        )
    else:
        # Both counts in one statement (each side still on its own index).
        counts = (
            CustomerNoticeSent.objects.filter(at__gt=since)
            .filter(Q(case_id=case.pk) | Q(agent_id=by.pk))
            .aggregate(
                case=Count("pk", filter=Q(case_id=case.pk)),
                agent=Count("pk", filter=Q(agent_id=by.pk)),
            )
        )
    if counts["case"] >= per_case:
        raise CaseRuleError(
            "notice_limit_reached",
            f"This case's customer has had {per_case} notices in the last 24 hours; "
            "call them instead, or try again later.",
            status=429,
        )
    if counts["agent"] >= per_agent:
        raise CaseRuleError(
            "notice_limit_reached",
            f"Your actions have sent customers {per_agent} notices in the last 24 hours, "
            "the most allowed; a manager can help if this is real work.",
            status=429,
        )
    return recorded


_LEDGER = CustomerNoticeSent._meta.db_table


def _count_and_record(
    *, case: Case, by: User, now: datetime, limits: tuple[int, int]
) -> tuple[dict[str, int], int | None]:
    """The case's and the agent's notices in the window, and the ledger row written when
    both are below ``limits`` (its id, else None), in one statement."""
    since = now - NOTICE_LIMIT_WINDOW
    sql = (
        "WITH counts AS (SELECT COUNT(*) FILTER (WHERE case_id = %(case)s) AS for_case, "
        "COUNT(*) FILTER (WHERE agent_id = %(agent)s) AS for_agent "
        f'FROM "{_LEDGER}" WHERE at > %(since)s AND (case_id = %(case)s OR agent_id = %(agent)s)), '
        f'written AS (INSERT INTO "{_LEDGER}" (case_id, agent_id, at) '
        "SELECT %(case)s, %(agent)s, %(now)s FROM counts "
        "WHERE for_case < %(per_case)s AND for_agent < %(per_agent)s RETURNING id) "
        "SELECT for_case, for_agent, (SELECT id FROM written) FROM counts"
    )
    params = {
        "case": case.pk,
        "agent": by.pk,
        "since": since,
        "now": now,
        "per_case": limits[0],
        "per_agent": limits[1],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for_case, for_agent, recorded = cursor.fetchone()
    return {"case": for_case, "agent": for_agent}, recorded


@dataclass(frozen=True)
class Route:
    """How a notice reaches the customer: a channel and an address, or why it cannot."""

    channel: str = NotificationChannel.EMAIL
    address: str = ""
    no_route: str = ""  # why there is no route ("customer has no email address")


def customer_route(customer: Customer) -> Route:
    """The route of a written notice, from the customer's preferred channel and the details
    on file. Email is the only transport for customer notices: any customer with an address
    is written to (a phone-preferring customer too: a letter they can keep); one without an
    address has no route, whatever they prefer."""
    if customer.email:
        return Route(address=customer.email)
    if customer.preferred_channel in (Channel.PHONE, Channel.IN_PERSON) or customer.phone:
        return Route(no_route="customer has no email address (phone only)")
    return Route(no_route="customer has no email address")


def customer_notice_enqueue(
    *,
    case: Case,
    by: User | None,
    template: str,
    context: dict,
    dedupe_key: str,
    attachments: Iterable[Attachment] = (),
    tags: Iterable[str] = (),
    task_text: str = "",
    task_if_no_route: bool = True,
    headers: EmailHeaders | None = None,
    to_address: str = "",
) -> Notification | None:
    """The one door for every customer notice. ``by`` is the agent whose action causes it;
    None for the product's own notices (an apology, a first-reply promise), which are never
    held back. Call it inside the action's transaction, holding the case's row lock (the
    limits count under it): a refusal undoes the whole action.

    A notice with no route to the customer is not dropped: its outbox row records why
    (status ``no_route``, nothing attempted) and the case's owner gets a task ("Call Mrs
    Campbell: …"; ``task_text`` says what to tell them) on their queue and the timeline. An
    erased customer gets neither: nothing of theirs is to be used again. ``task_if_no_route``
    False: the customer hears it in the conversation under way (a case opened on a call), so
    the outbox row alone records it.

    ``headers``: a reply's own (From name, thread); every notice carries the case's Reply-To
    and thread headers (``case_email_headers``). ``to_address``: an address other
    than the one on file (the old one, told that it was changed); it counts as any other."""
    now = timezone.now()
    customer = case.customer
    if customer.erased_at is not None:
        return None
    route = Route(address=to_address) if to_address else customer_route(customer)
    recorded = None
    if by is not None and not route.no_route:
        recorded = customer_notice_limit_check(case=case, by=by, now=now)
    notification = notification_enqueue(
        recipient=Recipient(address=route.address, name=customer.full_name, kind="customer"),
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        tags=[f"case:{case.pk}", *tags],
        attachments=attachments,
        headers=case_email_headers(case, headers),
        no_route=route.no_route,
    )
    if notification is None:
        if recorded is not None:  # the key was used before: no notice, no ledger row
            CustomerNoticeSent.objects.filter(pk=recorded).delete()
        return None
    if route.no_route and task_if_no_route:
        # (a customer who heard it in the conversation under way missed nothing)
        notice_failed_emit(
            case=case,
            notice_id=notification.pk,
            template=template,
            reason=f"no_route: {route.no_route}",
        )
        owner_task_create(
            case=case,
            text=task_text or default_task_text(case, template),
            reason=route.no_route,
            source_template=template,
            dedupe_key=dedupe_key,
            now=now,
        )
    elif by is not None and recorded is None:
        CustomerNoticeSent.objects.create(case=case, agent=by, at=now)
    return notification


def case_email_headers(case: Case, headers: EmailHeaders | None = None) -> EmailHeaders:
    """``headers`` with the case's Reply-To (an answer lands on the case, never in the
    sender's mailbox) and, where the caller gave no thread (a reply gives the conversation's,
    ``cases.mail_thread.case_thread``), the case's root id: every notice threads under it
    without a query, and an answer to it names the notice's own Message-ID."""
    headers = headers or EmailHeaders()
    if not headers.in_reply_to:
        root = case_root_message_id(case.pk)
        headers = replace(headers, in_reply_to=root, references=(root,))
    return replace(headers, reply_to=headers.reply_to or reply_address(case.pk))


# --- a changed email address ---------------------------------------------------------------

# How long a reply to a changed address waits for a second person (``reply_address_check``).
ADDRESS_CHANGE_HOLD = timedelta(hours=1)


def masked_address(address: str) -> str:
    """ "n***@example.org": enough for the owner of the old address to recognise their new
    one, too little to hand a stranger's address to whoever reads the old mailbox."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def customer_address_changed(
    *, customer: Customer, old_address: str, new_address: str, by: User, now: datetime
) -> Notification | None:
    """The old address is told that mail about the customer's case now goes elsewhere, from
    ``customer_update`` in its transaction. The notice counts against ``by``'s limits like any
    notice their action causes (a refusal undoes the change), so changing the address again
    and again cannot mail a list of strangers either. It goes on the customer's newest open
    case, else their newest; and the change is put on that case's timeline when no open case
    had it, so ``reply_address_check`` always finds who made it. None: no old address, or no
    case."""
    cases = (
        Case.objects.filter(customer_id=customer.pk)
        .select_related("customer", "team", "owner__agent_profile")
        .order_by("-pk")
    )
    case = cases.filter(status__in=OPEN_STATUSES).first() or cases.first()
    if case is None:
        return None
    lock_case_row(case.pk)  # the limits count under it (after the customer's: the same order)
    if case.status not in OPEN_STATUSES:
        case_event = {
            "customer_id": customer.pk,
            "changes": {"email": {"from": old_address, "to": new_address}},
        }
        CaseEvent.objects.create(
            case=case, kind=EventKind.CUSTOMER_UPDATED, actor=by, at=now, data=case_event
        )
    if not old_address:
        return None
    context = without_customer_link(customer_context(case))
    context["new_address"] = masked_address(new_address) if new_address else ""
    return customer_notice_enqueue(
        case=case,
        by=by,
        template="cases/email/address_changed",
        context=context,
        dedupe_key=f"customer:{customer.pk}:address-changed:{secrets.token_hex(8)}",
        tags=[f"customer:{customer.pk}"],
        task_if_no_route=False,
        to_address=old_address,
    )


def without_customer_link(context: dict) -> dict:
    """A notice to an address we no longer trust carries no link into the case."""
    return {k: v for k, v in context.items() if k != "customer_url"}


def reply_address_check(*, case: Case, by: User, now: datetime) -> None:
    """Refuse (409 ``recent_address_change``) ``by``'s reply to an address they set themselves
    within ``ADDRESS_CHANGE_HOLD`` in place of another one: one person alone cannot point a
    case's mail somewhere new and write to it at once. Anyone else who may reply on the case
    may (a second person has looked: their reply is the confirmation), and so may the same agent
    after the hour, by which time the old address has been told. An address given where
    there was none (a caller who wants it in writing) is no redirection and waits for nobody."""
    changes = [
        (actor_id, data["changes"]["email"])
        for actor_id, data in CaseEvent.objects.filter(
            case__customer_id=case.customer_id,
            kind=EventKind.CUSTOMER_UPDATED,
            at__gt=now - ADDRESS_CHANGE_HOLD,
            data__changes__has_key="email",
        )
        .order_by("-at", "-pk")
        .values_list("actor_id", "data")
    ]
    if not changes:
        return
    last_actor, last = changes[0]
    if last_actor != by.pk or last.get("to") != case.customer.email:
        return
    if any(change.get("from") for _actor, change in changes):
        raise CaseRuleError(
            "recent_address_change",
            "You changed this customer's email address within the last hour: a manager of "
            "the team can send this reply, or send it yourself once the hour is over (the "
            "old address has been told of the change).",
            status=409,
        )


def customer_notice_ledger_prune(
    *, now: datetime | None = None, batch_size: int = NOTICE_LEDGER_PRUNE_BATCH
) -> int:
    """Delete the ledger rows older than the limits' window (they no longer count towards any
    limit), ``batch_size`` rows per short transaction so the table is never locked long.
    Returns how many rows went."""
    cutoff = (now or timezone.now()) - NOTICE_LIMIT_WINDOW
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                CustomerNoticeSent.objects.filter(at__lte=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return deleted
            deleted += CustomerNoticeSent.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            return deleted


def call_whom(customer: Customer) -> str:
    """ "Call Mrs Campbell on 07700 900021" — how a task names the person to call."""
    number = customer.phone_national
    return f"Call {customer.salutation_name}" + (f" on {number}" if number else "")


def default_task_text(case: Case, template: str) -> str:
    """What a task says when the notice's sender gave no words of its own."""
    what = {
        "cases/email/case_opened": "introduce yourself as the owner of their case",
        "cases/email/handoff_introduction": "introduce yourself as their new contact",
    }.get(template, "tell them the news on their case")
    return f"{call_whom(case.customer)}: {what} ({case.ref}, {case.subject})"


def owner_task_create(
    *, case: Case, text: str, reason: str, source_template: str, dedupe_key: str, now: datetime
) -> OwnerTask | None:
    """One task for the owner per notice (its dedupe key), on the timeline; in the caller's
    transaction. None if the notice made one before."""
    task, created = OwnerTask.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "case": case,
            "owner_id": case.owner_id,
            "text": text[:TASK_TEXT_MAX],
            "reason": reason[:200],
            "source_template": source_template,
            "created_at": now,
        },
    )
    if not created:
        return None
    event = CaseEvent.objects.create(
        case=case,
        kind=EventKind.OWNER_TASK_CREATED,
        actor=None,
        at=now,
        data={"task_id": task.pk, "text": task.text, "reason": task.reason},
    )
    case_event_webhooks(event)
    return task


def customer_context(case: Case) -> dict:
    """What every customer email needs: reference, greeting, owner and link; and, while the
    owner is away, who covers and until when (``cover`` and ``owner_back`` for the layout's
    cover sentence). The owner and cover keys are read again when the email is sent."""
    context = {
        POINT_OF_CONTACT_MARKER: case.pk,
        "case_ref": case.ref,
        "case_subject": case.subject,
        "customer_name": notice_salutation(case.customer),
        "customer_time_zone": case.customer.time_zone,
        # the language the email is written in (``render_email``), and who signs for whom
        "language": case.customer.language,
        "organisation": settings.ORGANISATION_NAME,
        "customer_url": customer_url(case_id=case.pk, generation=case.link_generation),
    }
    context.update(point_of_contact_context(case))
    return context


# A title in the customer's language ("Mr Wang" → "Herr Wang").
TITLE_WORDS = {
    "Mr": pgettext_lazy("title", "Mr"),
    "Mrs": pgettext_lazy("title", "Mrs"),
    "Ms": pgettext_lazy("title", "Ms"),
    "Miss": pgettext_lazy("title", "Miss"),
    "Mx": pgettext_lazy("title", "Mx"),
    "Dr": pgettext_lazy("title", "Dr"),
    "Prof": pgettext_lazy("title", "Prof"),
}


def notice_salutation(customer: Customer) -> str:
    """``Customer.salutation_name`` in the customer's language: their own words as they are,
    a title in their language with the family name they gave, else the whole name."""
    if customer.addressed_as or not (customer.title and customer.family_name):
        return customer.salutation_name
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        return f"{TITLE_WORDS.get(customer.title, customer.title)} {customer.family_name}"


def staff_case_url(case: Case) -> str:
    """The case page, for notices to agents and managers."""
    return f"{settings.SITE_URL}/cases/{case.ref}/"


__all__ = [
    "Route",
    "call_whom",
    "customer_context",
    "customer_notice_enqueue",
    "customer_route",
    "local_time_text",
    "owner_task_create",
    "staff_case_url",
]
