"""Inbound email: a customer's reply lands on its case, and nothing is ever dropped.

The raw message is read by ``mime`` (its MIME parts nested at most ``MIME_DEPTH_MAX`` deep)
and stored whole; a second delivery of the same message (same Message-ID, same content) is
the same row, while a different message that reuses a Message-ID is a new one. A message
that cannot be read is kept for staff and refused for good (HTTP 422, SMTP 554), never
retried. It is matched to a case, in this order and never by the sender's address alone
(customers write about several cases, and anyone can forge a From):

1. a reply address of ours among the recipients (``reply+<signed token>@INBOUND_DOMAIN``):
   the signed token alone is enough, whoever sends;
2. ``In-Reply-To``/``References`` naming a Message-ID we sent (a notice of the case, or a
   reply written on it), when the sender is the case's customer;
3. ``[CASE-000123]`` in the subject, when the sender is the case's customer.

A thread header or a subject tag is anyone's to write, so from any other address ("the
customer's" is their record's email, or that of a record merged into theirs) the message
matches nothing and waits for staff instead of speaking on the case as the customer.

A matched message becomes a contact from the customer (``conversation.contact_record``):
the new text only (the quoted history is cut off with mail-parser-reply), HTML sanitised
with nh3 and never with remote images. Auto-replies and bounces (RFC 3834 ``Auto-Submitted``
other than ``no``, ``Precedence: bulk/junk/list``, an empty Return-Path, a delivery status
report) are recorded and change nothing, so two helpdesks can never loop. A message that
matches nothing waits for staff (``inbound_message_attach``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.conversations.follow_up import case_for_customer_reply
from cases.conversations.mime import (
    MimeTooDeep,
    ParsedMail,
    header_text,
    inbound_dedupe_key,
    mail_parse,
    message_id_of,
    subject_of,
)
from cases.conversations.services import NewContact, case_id_from_reply_address, contact_record
from cases.errors import CaseRuleError
from cases.mail_thread import case_id_from_root_message_id
from cases.models import (
    CONTACT_BODY_MAX,
    CONTACT_EXTERNAL_ID_MAX,
    CONTACT_SUMMARY_MAX,
    Case,
    Channel,
    Contact,
    ContactDirection,
    Customer,
    InboundMessage,
    InboundStatus,
    parse_ref,
)
from cases.permissions import is_team_manager, is_team_member
from cases.services import User
from cases.undelivered import bounce_match, bounce_record
from notifications.models import notification_id_from_message_id
from notifications.selectors import notification_tags

logger = logging.getLogger(__name__)

_SUBJECT_REF = re.compile(r"\[\s*(CASE-\d{1,12})\s*\]", re.IGNORECASE)


class InboundTooLarge(Exception):
    """Over ``INBOUND_MAIL_MAX_BYTES``: refused (SMTP 552, HTTP 413), never stored."""


class InboundUnreadable(CaseRuleError):
    """The message could not be read. It is stored (raw, for staff) and refused for good:
    HTTP 422, SMTP 554; a retry of it is the same stored message and the same answer."""

    def __init__(self, *, message: InboundMessage) -> None:
        super().__init__(
            "message_unreadable",
            f"The message could not be read ({message.problem}); it is kept for staff as "
            f"message {message.pk}.",
            status=422,
        )
        self.inbound = message


@dataclass(frozen=True)
class Received:
    message: InboundMessage
    # True: this message (same Message-ID, same content) was stored before; nothing new
    # was written.
    duplicate: bool


# --- matching --------------------------------------------------------------------------------


def _case(case_id: int | None) -> Case | None:
    return Case.objects.select_related("customer").filter(pk=case_id).first() if case_id else None


def _from_customer(sender: str, case: Case) -> bool:
    """Whether ``sender`` is an address of the case's customer: their record's email, or that
    of a record merged into theirs (the same person, by staff's decision). An address the
    record was corrected away from is not theirs: a correction says it was wrong."""
    if not sender:
        return False
    records = [case.customer]
    frontier = [case.customer_id]
    while frontier:  # a chain of merges (a merged record is never merged again: no cycle)
        found = list(Customer.objects.filter(merged_into_id__in=frontier).only("pk", "email"))
        records.extend(found)
        frontier = [r.pk for r in found]
    return sender.lower() in {r.email.strip().lower() for r in records if r.email}


def _case_of_thread(thread_ids: Sequence[str]) -> Case | None:
    """The case of the first Message-ID of ours the thread names (two or three queries)."""
    if not thread_ids:
        return None
    ours = dict(
        Contact.objects.filter(
            message_id__in=thread_ids, direction=ContactDirection.TO_CUSTOMER
        ).values_list("message_id", "case_id")
    )
    notification_ids = {
        mid: nid for mid in thread_ids if (nid := notification_id_from_message_id(mid)) is not None
    }
    tags = notification_tags(list(notification_ids.values()))
    for mid in thread_ids:
        if mid in ours:
            return _case(ours[mid])
        for tag in tags.get(notification_ids.get(mid, -1), []):
            if tag.startswith("case:") and tag[5:].isdigit():
                return _case(int(tag[5:]))
        # the case's root id, which every email of the case carries (``cases.mail_thread``)
        if (case_id := case_id_from_root_message_id(mid)) is not None:
            return _case(case_id)
    return None


def mail_match(parsed: ParsedMail) -> tuple[Case | None, str]:
    """(case, how it matched) — or (None, "") for staff to route. Only our signed reply
    address matches whoever sends; a thread or a subject tag only from the customer."""
    for address in parsed.recipients:
        if case := _case(case_id_from_reply_address(address)):
            return case, "reply_address"
    sender = parsed.from_address.strip()
    if not sender:
        return None, ""
    if (case := _case_of_thread(parsed.thread_ids)) and _from_customer(sender, case):
        return case, "thread"
    ref = _SUBJECT_REF.search(parsed.subject)
    if ref and (case := _case(parse_ref(ref.group(1)))) and _from_customer(sender, case):
        return case, "subject"
    return None, ""


# --- receiving -------------------------------------------------------------------------------


def _file(message: InboundMessage, case: Case) -> None:
    """The message as a contact from the customer on ``case`` (an automatic one changes
    nothing else); a resolved case reopens, or its follow-up opens (``follow_up``)."""
    if not message.is_auto:
        case = case_for_customer_reply(case=case, at=message.received_at)
        if case.pk != message.case_id:
            message.case = case
            message.save(update_fields=["case"])
    text = message.text
    if len(text) > CONTACT_BODY_MAX:
        text = text[: CONTACT_BODY_MAX - 60].rstrip() + "\n[…cut here; the whole message is kept.]"
    contact_record(
        case=case,
        contact=NewContact(
            direction=ContactDirection.FROM_CUSTOMER,
            channel=Channel.EMAIL,
            body=text,
            summary=(message.subject or "(no subject)")[:CONTACT_SUMMARY_MAX],
            at=message.received_at,
            external_id=f"email:{message.dedupe_key}"[:CONTACT_EXTERNAL_ID_MAX],
            message_id=message.message_id,
            auto_submitted=message.is_auto,
        ),
        by=None,
        inbound=message,
    )
    bounce_record(case=case, message=message)


def inbound_mail_receive(
    *,
    raw: bytes,
    via: str,
    mail_from: str | None = None,
    rcpt_tos: Sequence[str] = (),
) -> Received:
    """Store one raw RFC 5322 message and file it on its case; one transaction, so whoever
    delivered it may be told "stored" only once it is. ``mail_from`` is the SMTP envelope's
    sender ("" for a bounce's null sender; None when unknown, e.g. over HTTP)."""
    if len(raw) > settings.INBOUND_MAIL_MAX_BYTES:
        raise InboundTooLarge(f"{len(raw)} bytes; at most {settings.INBOUND_MAIL_MAX_BYTES}")
    if not raw.strip():
        raise CaseRuleError("empty_message", "The message is empty.")
    try:
        parsed = mail_parse(raw, mail_from=mail_from, rcpt_tos=rcpt_tos)
    except MimeTooDeep as exc:
        raise _keep_unreadable(raw=raw, via=via, mail_from=mail_from, problem=str(exc)) from exc
    except Exception as exc:  # a message the parser cannot take never will: kept, refused
        logger.exception("inbound mail: a message could not be parsed")
        problem = f"the parser failed: {type(exc).__name__}"
        raise _keep_unreadable(raw=raw, via=via, mail_from=mail_from, problem=problem) from exc
    earlier = InboundMessage.objects.filter(dedupe_key=parsed.dedupe_key).first()
    if earlier is not None:
        return Received(message=earlier, duplicate=True)
    try:
        with transaction.atomic():
            case, matched_by = mail_match(parsed)
            if case is None and parsed.auto_reason:  # a bounce of ours comes back to its case
                case, matched_by = bounce_match(raw)
            if case is not None and case.customer.erased_at is not None:
                case, matched_by = None, ""  # nothing of theirs goes on the case again
            message = InboundMessage.objects.create(
                dedupe_key=parsed.dedupe_key,
                message_id=parsed.message_id,
                raw=raw,
                size=len(raw),
                via=via,
                mail_from=(mail_from or "")[:320],
                from_address=parsed.from_address,
                from_name=parsed.from_name,
                subject=parsed.subject,
                text=parsed.text,
                html=parsed.html,
                auto_reason=parsed.auto_reason,
                status=InboundStatus.MATCHED if case else InboundStatus.UNMATCHED,
                case=case,
                matched_by=matched_by,
                received_at=timezone.now(),
            )
            if case is not None:
                _file(message, case)
            return Received(message=message, duplicate=False)
    except IntegrityError:
        # Delivered twice at once: the other delivery stored it first.
        earlier = InboundMessage.objects.filter(dedupe_key=parsed.dedupe_key).first()
        if earlier is None:
            raise
        return Received(message=earlier, duplicate=True)


def _keep_unreadable(
    *, raw: bytes, via: str, mail_from: str | None, problem: str
) -> InboundUnreadable:
    """Store a message that could not be parsed, for staff (its top-level headers read on
    their own, which needs no recursion); the error that refuses it."""
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        assert isinstance(headers, EmailMessage)
        message_id, subject = message_id_of(headers), subject_of(headers)
        name, address = parseaddr(header_text(headers, "From") or "")
    except Exception:  # noqa: BLE001 - the raw bytes are kept whatever the headers hold
        message_id, subject, name, address = "", "", "", ""
    key = inbound_dedupe_key(raw, message_id)
    message = InboundMessage.objects.filter(dedupe_key=key).first()
    if message is None:
        try:
            with transaction.atomic():
                message = InboundMessage.objects.create(
                    dedupe_key=key,
                    message_id=message_id,
                    raw=raw,
                    size=len(raw),
                    via=via,
                    mail_from=(mail_from or "")[:320],
                    from_address=address[:320],
                    from_name=name[:200],
                    subject=subject,
                    text=f"(This message could not be read: {problem}. The raw message is kept.)",
                    problem=problem[:200],
                    status=InboundStatus.UNMATCHED,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            message = InboundMessage.objects.filter(dedupe_key=key).first()
            if message is None:
                raise
    return InboundUnreadable(message=message)


@transaction.atomic
def inbound_message_attach(*, message: InboundMessage, case: Case, by: User) -> InboundMessage:
    """Staff route a message that matched no case: it becomes a contact on ``case``."""
    if not (is_team_manager(by, case.team) or is_team_member(by, case.team)):
        raise CaseRuleError(
            "not_in_team", "You can route mail only to your teams' cases.", status=403
        )
    locked = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
    if locked is None or locked.status != InboundStatus.UNMATCHED:
        raise CaseRuleError("already_routed", "This message is already on a case.", status=409)
    locked.status = InboundStatus.ATTACHED
    locked.case = case
    locked.matched_by = "staff"
    locked.routed_by = by
    locked.save(update_fields=["status", "case", "matched_by", "routed_by"])
    _file(locked, case)
    return locked
