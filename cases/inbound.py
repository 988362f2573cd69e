"""Inbound email: a customer's reply lands on its case, and nothing is ever dropped.

The raw message is parsed with the standard library (``policy=default``) and stored whole;
a second delivery of the same Message-ID is the same row. It is matched to a case, in this
order and never by the sender's address alone (customers write about several cases, and
anyone can forge a From):

1. a reply address of ours among the recipients (``reply+<signed token>@INBOUND_DOMAIN``);
2. ``In-Reply-To``/``References`` naming a Message-ID we sent (a notice of the case, or a
   reply written on it);
3. ``[CASE-000123]`` in the subject.

A matched message becomes a contact from the customer (``conversation.contact_record``):
the new text only (the quoted history is cut off with mail-parser-reply), HTML sanitised
with nh3 and never with remote images. Auto-replies and bounces (RFC 3834 ``Auto-Submitted``
other than ``no``, ``Precedence: bulk/junk/list``, an empty Return-Path, a delivery status
report) are recorded and change nothing, so two helpdesks can never loop. A message that
matches nothing waits for staff (``inbound_message_attach``).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from cases.conversation import NewContact, case_id_from_reply_address, contact_record
from cases.errors import CaseRuleError
from cases.models import (
    CONTACT_BODY_MAX,
    CONTACT_EXTERNAL_ID_MAX,
    CONTACT_SUMMARY_MAX,
    Case,
    Channel,
    Contact,
    ContactDirection,
    InboundMessage,
    InboundStatus,
    parse_ref,
)
from cases.permissions import is_team_manager, is_team_member
from cases.services import User
from notifications.models import notification_id_from_message_id
from notifications.selectors import notification_tags

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_SUBJECT_REF = re.compile(r"\[\s*(CASE-\d{1,12})\s*\]", re.IGNORECASE)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_REPLY_LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "sv", "da", "pl"]
# What an email's HTML may keep for a staff page: text formatting and links, never images
# (a remote image tells the sender the mail was read) nor anything that runs.
_SAFE_TAGS = nh3.ALLOWED_TAGS - {"img"}


class InboundTooLarge(Exception):
    """Over ``INBOUND_MAIL_MAX_BYTES``: refused (SMTP 552, HTTP 413), never stored."""


@dataclass(frozen=True)
class ParsedMail:
    dedupe_key: str
    message_id: str
    from_name: str
    from_address: str
    recipients: tuple[str, ...]
    thread_ids: tuple[str, ...]  # In-Reply-To first, then References newest first
    subject: str
    text: str
    html: str
    auto_reason: str


@dataclass(frozen=True)
class Received:
    message: InboundMessage
    # True: this Message-ID was stored before; nothing new was written.
    duplicate: bool


def _header(message: EmailMessage, name: str) -> str | None:
    """A header's text, None when absent; a malformed header reads as its raw text."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - hostile headers must not stop the message being kept
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return str(raw[0]) if raw else None
    return None if value is None else str(value)


def auto_reason(message: EmailMessage, *, mail_from: str | None) -> str:
    """Why the message is automatic (an auto-reply, a list, a bounce), or "" for a person's."""
    submitted = (_header(message, "Auto-Submitted") or "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"[:100]
    precedence = (_header(message, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    return_path = _header(message, "Return-Path")
    if (return_path is not None and return_path.strip() in ("", "<>")) or mail_from == "":
        return "empty Return-Path (a bounce)"
    if (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type") or "").lower() == "delivery-status"
    ):
        return "delivery status notification"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(message, name) is not None:
            return name
    return ""


def _content(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def sanitise_html(raw_html: str) -> str:
    """HTML a staff page may show: nh3 (ammonia) with no images, scripts or styles."""
    return nh3.clean(
        raw_html,
        tags=_SAFE_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(raw_html: str) -> str:
    text = html_lib.unescape(
        nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", raw_html), tags=set())
    )
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def new_text(text: str) -> str:
    """The text the sender wrote now, without the quoted history."""
    try:
        reply = EmailReplyParser(languages=_REPLY_LANGUAGES).parse_reply(text=text)
    except Exception:  # noqa: BLE001 - a parser failure keeps the whole text, never loses it
        reply = ""
    lines = (reply or text).strip().splitlines()
    # A quoted block at the end with no "On … wrote:" line above it is history too.
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    return "\n".join(lines).strip() or text.strip()


def mail_parse(
    raw: bytes, *, mail_from: str | None = None, rcpt_tos: Sequence[str] = ()
) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    found = _MESSAGE_ID.search(_header(message, "Message-ID") or "")
    message_id = found.group(0)[:255] if found else ""
    name, address = parseaddr(_header(message, "From") or "")
    listed = [_header(message, h) or "" for h in _RECIPIENT_HEADERS]
    recipients = tuple(dict.fromkeys([*rcpt_tos, *(a for _, a in getaddresses(listed) if a)]))
    replying = _MESSAGE_ID.findall(_header(message, "In-Reply-To") or "")
    references = _MESSAGE_ID.findall(_header(message, "References") or "")
    thread = tuple(dict.fromkeys([*replying, *reversed(references)]))
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    html = sanitise_html(_content(rich)) if rich is not None else ""
    text = _content(plain) if plain is not None else html_to_text(_content(rich)) if rich else ""
    return ParsedMail(
        dedupe_key=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=message_id,
        from_name=name[:200],
        from_address=address[:320],
        recipients=recipients,
        thread_ids=thread[:50],
        subject=" ".join((_header(message, "Subject") or "").split())[:300],
        text=new_text(text),
        html=html,
        auto_reason=auto_reason(message, mail_from=mail_from),
    )


# --- matching --------------------------------------------------------------------------------


def _case(case_id: int | None) -> Case | None:
    return Case.objects.filter(pk=case_id).first() if case_id else None


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
    return None


def mail_match(parsed: ParsedMail) -> tuple[Case | None, str]:
    """(case, how it matched) — or (None, "") for staff to route."""
    for address in parsed.recipients:
        if case := _case(case_id_from_reply_address(address)):
            return case, "reply_address"
    if case := _case_of_thread(parsed.thread_ids):
        return case, "thread"
    ref = _SUBJECT_REF.search(parsed.subject)
    if ref and (case := _case(parse_ref(ref.group(1)))):
        return case, "subject"
    return None, ""


# --- receiving -------------------------------------------------------------------------------


def _file(message: InboundMessage, case: Case) -> None:
    """The message as a contact from the customer on ``case`` (an automatic one changes
    nothing else)."""
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
    parsed = mail_parse(raw, mail_from=mail_from, rcpt_tos=rcpt_tos)
    earlier = InboundMessage.objects.filter(dedupe_key=parsed.dedupe_key).first()
    if earlier is not None:
        return Received(message=earlier, duplicate=True)
    try:
        with transaction.atomic():
            case, matched_by = mail_match(parsed)
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
