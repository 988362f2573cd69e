"""What the cases app's notices share: the one door every customer notice goes through (with
its daily limits), the customer email's context, times written in the reader's zone, and the
staff page a notice links to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases.availability import owner_back_text
from cases.contacts import PointOfContact, customer_recipient, point_of_contact
from cases.errors import CaseRuleError
from cases.links import customer_url
from cases.models import Case, CustomerNoticeSent
from notifications.models import Notification
from notifications.services import Attachment, notification_enqueue

User = Any  # the configured user model


NOTICE_LIMIT_WINDOW = timedelta(days=1)
NOTICE_LEDGER_PRUNE_BATCH = 1000


def customer_notice_limit_check(*, case: Case, by: User, now: datetime) -> None:
    """Refuse (429 ``notice_limit_reached``) a notice the agent's action would cause past the
    per-case or per-agent limit of any 24 hours: a flood of renegotiations, or cases opened
    for any address, cannot turn the product into a mailer."""
    since = now - NOTICE_LIMIT_WINDOW
    per_case = settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY
    per_agent = settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY
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


def customer_notice_enqueue(
    *,
    case: Case,
    by: User | None,
    template: str,
    context: dict,
    dedupe_key: str,
    attachments: Iterable[Attachment] = (),
    tags: Iterable[str] = (),
) -> Notification | None:
    """The one door for every customer notice. ``by`` is the agent whose action causes it;
    None for the product's own notices (an apology, a first-reply promise), which are never
    held back. Call it inside the action's transaction: a refusal undoes the whole action."""
    now = timezone.now()
    if by is not None:
        customer_notice_limit_check(case=case, by=by, now=now)
    notification = notification_enqueue(
        recipient=customer_recipient(case),
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        tags=[f"case:{case.pk}", *tags],
        attachments=attachments,
    )
    if notification is not None and by is not None:
        CustomerNoticeSent.objects.create(case=case, agent=by, at=now)
    return notification


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


def customer_context(case: Case) -> dict:
    """What every customer email needs: reference, greeting, owner and link; and, while the
    owner is away, who covers and until when (``cover`` and ``owner_back`` for the layout's
    cover sentence)."""
    contact = point_of_contact(case=case, at=timezone.now())
    context = {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "customer_name": case.customer.salutation_name,
        "customer_time_zone": case.customer.time_zone,
        "owner": contact.owner,
        "customer_url": customer_url(case_id=case.pk, generation=case.link_generation),
    }
    if contact.covering:
        context.update(cover_context(contact, case.customer.time_zone))
    return context


def cover_context(contact: PointOfContact, tz_name: str) -> dict:
    """The keys the email layout's cover sentence reads: ``covering``, ``cover`` (the
    cover's public card) and ``owner_back`` (the owner's return, in the reader's zone)."""
    return {
        "covering": True,
        "cover": contact.contact,
        "owner_back": owner_back_text(contact.owner_back_at, tz_name),
    }


def local_time_text(moment: datetime | None, tz_name: str) -> str:
    """``Friday 27 November 2026, 12:00 (Europe/London)``; an unknown zone reads as UTC."""
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = moment.astimezone(tz)
    return f"{local:%A %d %B %Y, %H:%M} ({tz_name})"


def staff_case_url(case: Case) -> str:
    """The case page, for notices to agents and managers."""
    return f"{settings.SITE_URL}/cases/{case.ref}/"
