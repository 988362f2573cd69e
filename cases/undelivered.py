"""A customer notice that could not be delivered is the owner's to fix by phone.

The outbox tells cases of a notice refused for good, or given up on after its last attempt
(``notifications.hooks.delivery_failed``); the customer's mail server tells us later, in a
bounce (a delivery status notification, RFC 3464) that arrives on the case's reply address.
Either way the case's owner gets one task per notice — "The email about … could not be
delivered: call Mrs Campbell on …" — on their queue and the timeline, and the queue flags the
case (``notice_undelivered``) until the task is done. A second failure or bounce of the same
notice changes nothing (the task's dedupe key). A bounce that only says "delayed" is no
failure; auto-replies are no bounces."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases.locking import lock_case_row
from cases.models import Case, InboundMessage, OwnerTask
from cases.notices import call_whom, owner_task_create
from notifications.models import DeliveryLog, Notification, notification_id_from_message_id

# Every task of an undelivered notice has a dedupe key with this prefix (the queue's flag).
UNDELIVERED_KEY_PREFIX = "undelivered:"

# Notices whose failure needs no call: the old address told of its change may well be dead.
NO_TASK_TEMPLATES = frozenset({"cases/email/address_changed"})

_MESSAGE_ID_HEADER = re.compile(rb"(?im)^message-id:[ \t]*(<[^<>\s]+>)")
_ACTION = re.compile(rb"(?im)^action:[ \t]*([a-z]+)")
_STATUS = re.compile(rb"(?im)^status:[ \t]*([245])\.\d{1,3}\.\d{1,3}")
_DSN = re.compile(rb"(?i)report-type[ \t]*=[ \t]*\"?delivery-status")
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})


@dataclass(frozen=True)
class FailedNotice:
    """What a task needs to know of the notice that failed."""

    id: int
    template: str
    recipient_kind: str
    tags: list[str]
    context: dict


def undelivered_key(notice_id: int) -> str:
    return f"{UNDELIVERED_KEY_PREFIX}notice:{notice_id}"


def _about(notice: FailedNotice) -> str:
    """What the email was about, in the owner's words."""
    name = notice.template.rsplit("/", 1)[-1]
    promise = notice.context.get("description", "")
    quoted = f' "{promise}"' if promise else ""
    return {
        "commitment_made": f"the promise{quoted}",
        "renegotiated": f"the new date of the promise{quoted}",
        "withdrawn": f"withdrawing the promise{quoted}",
        "missed": f"the apology for the missed promise{quoted}",
        "case_opened": "their new case and its owner",
        "handoff_introduction": "their new owner",
        "reply": "a reply to them",
    }.get(name, "their case")


def _case_of(notice: FailedNotice) -> Case | None:
    case_ids = [int(t[5:]) for t in notice.tags if t.startswith("case:") and t[5:].isdigit()]
    if not case_ids:
        return None
    return Case.objects.select_related("customer").filter(pk=case_ids[0]).first()


def notice_undelivered(*, notice: FailedNotice, reason: str, key: str = "") -> OwnerTask | None:
    """The owner's task for a customer notice that could not be delivered (``reason``: the
    server's answer), once per notice, in the caller's transaction. None: not a customer
    notice of a case, a notice that needs no call, an erased customer, or a task made
    before. ``key``: the task's dedupe key when the notice is not known by its id."""
    if notice.recipient_kind != "customer" or notice.template in NO_TASK_TEMPLATES:
        return None
    case = _case_of(notice)
    if case is None or case.customer.erased_at is not None:
        return None
    lock_case_row(case.pk)
    case = Case.objects.select_related("customer").get(pk=case.pk)  # the owner as it is now
    whom = call_whom(case.customer)
    text = (
        f"The email about {_about(notice)} ({case.ref}) could not be delivered: "
        f"{whom[:1].lower()}{whom[1:]}"
    )
    if not case.customer.phone:
        text += " (no phone number on file: find another way to reach them)"
    return owner_task_create(
        case=case,
        text=text,
        reason=f"email not delivered: {' '.join(reason.split())}" if reason else "email bounced",
        source_template=notice.template,
        dedupe_key=key or undelivered_key(notice.id),
        now=timezone.now(),
    )


def notice_delivery_failed(*, notification: Notification) -> None:
    """A ``notifications.hooks.delivery_failed`` handler (its own transaction)."""
    notice_undelivered(
        notice=FailedNotice(
            id=notification.pk,
            template=notification.template,
            recipient_kind=notification.recipient_kind,
            tags=list(notification.tags or []),
            context=notification.context or {},
        ),
        reason=notification.last_error,
    )


# --- bounces -----------------------------------------------------------------------------------


def is_bounce(message: InboundMessage) -> bool:
    """A delivery status notification, or a null-sender message from a mail server; an
    auto-reply ("I am out of the office") is not one."""
    if not message.auto_reason:
        return False
    if _DSN.search(bytes(message.raw)):
        return True
    local = message.from_address.partition("@")[0].lower()
    return message.auto_reason.startswith("empty Return-Path") and local in _DAEMONS


def bounce_is_permanent(raw: bytes) -> bool:
    """False when the report says only that delivery is delayed (or went through); a report
    without per-recipient fields says the message could not be delivered."""
    actions = {a.lower() for a in _ACTION.findall(raw)}
    statuses = set(_STATUS.findall(raw))
    if b"failed" in actions or b"5" in statuses:
        return True
    return not (actions or statuses)


def bounced_notice(raw: bytes) -> FailedNotice | None:
    """The notice of ours a bounce returns: the Message-ID header of the original it
    carries (ours: ``<notification-<id>@…>``), wherever the outbox keeps the row now."""
    for found in _MESSAGE_ID_HEADER.findall(raw):
        notice_id = notification_id_from_message_id(found.decode("ascii", "replace"))
        if notice_id is None:
            continue
        row = (
            Notification.objects.filter(pk=notice_id)
            .values("template", "recipient_kind", "tags", "context")
            .first()
            or DeliveryLog.objects.filter(pk=notice_id)
            .values("template", "recipient_kind", "tags")
            .first()
        )
        if row is not None:
            return FailedNotice(
                id=notice_id,
                template=row["template"],
                recipient_kind=row["recipient_kind"],
                tags=list(row["tags"] or []),
                context=dict(row.get("context") or {}),  # type: ignore[call-overload]
            )
    return None


def bounce_match(raw: bytes) -> tuple[Case | None, str]:
    """(case, "bounce") for a bounce that matched no case otherwise (it went to the sender
    address, not the case's reply address) and returns a customer notice of ours, carried
    whole or as its headers; (None, "") for anything else. A forged one can do no more than
    ask the owner to call their customer."""
    if not _DSN.search(raw):
        return None, ""
    notice = bounced_notice(raw)
    case = _case_of(notice) if notice is not None and notice.recipient_kind == "customer" else None
    return (case, "bounce") if case is not None else (None, "")


def bounce_record(*, case: Case, message: InboundMessage) -> OwnerTask | None:
    """A bounce filed on ``case`` (in its transaction): the notice it returns becomes the
    owner's task. A bounce naming no notice of ours is about the customer's address: one task
    per case and address."""
    if not is_bounce(message):
        return None
    raw = bytes(message.raw)
    if not bounce_is_permanent(raw):
        return None
    notice = bounced_notice(raw)
    reason = f"bounced: {message.subject}"
    if notice is not None:
        return notice_undelivered(notice=notice, reason=reason)
    address = hashlib.sha256(case.customer.email.strip().lower().encode()).hexdigest()[:32]
    return notice_undelivered(
        notice=FailedNotice(
            id=0, template="", recipient_kind="customer", tags=[f"case:{case.pk}"], context={}
        ),
        reason=reason,
        key=f"{UNDELIVERED_KEY_PREFIX}case:{case.pk}:address:{address}",
    )


def undelivered_exists() -> Exists:
    """Has the case (``OuterRef("pk")``) an undelivered notice still to be called about?
    For an annotation of a case list (the open tasks' partial index answers it)."""
    return Exists(
        OwnerTask.objects.filter(
            case_id=OuterRef("pk"),
            done_at__isnull=True,
            dedupe_key__startswith=UNDELIVERED_KEY_PREFIX,
        )
    )
