"""Inbound email: a customer's reply lands on its case, and nothing is ever dropped.

The raw message is parsed with the standard library (``policy=default``), its MIME parts
nested at most ``MIME_DEPTH_MAX`` deep, and stored whole; a second delivery of the same
message (same Message-ID, same content) is the same row, while a different message that
reuses a Message-ID is a new one. A message that cannot be read is kept for staff and
refused for good (HTTP 422, SMTP 554), never retried. It is matched to a case, in this order
and never by the sender's address alone (customers write about several cases, and anyone can
forge a From):

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

import hashlib
import html as html_lib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from cases.conversations.follow_up import case_for_customer_reply
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

# Deeper than any mail program nests (a forwarded message in a reply in a signed message is
# a handful); the parser recurses once per level, so a hostile message could exhaust the stack.
MIME_DEPTH_MAX = 50
# Header fields mail servers prepend in transit (RFC 5321 section 4.4 and its kin): the
# same message arriving by two routes differs only in these.
_TRANSIT_HEADERS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"envelope-to",
        b"received-spf",
        b"authentication-results",
        b"arc-seal",
        b"arc-message-signature",
        b"arc-authentication-results",
    }
)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_SUBJECT_REF = re.compile(r"\[\s*(CASE-\d{1,12})\s*\]", re.IGNORECASE)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_REPLY_LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "sv", "da", "pl"]
# What an email's HTML may keep for a staff page: text formatting and links, never images
# (a remote image tells the sender the mail was read) nor anything that runs.
_SAFE_TAGS = nh3.ALLOWED_TAGS - {"img"}


class InboundTooLarge(Exception):
    """Over ``INBOUND_MAIL_MAX_BYTES``: refused (SMTP 552, HTTP 413), never stored."""


class MimeTooDeep(Exception):
    """MIME parts nested deeper than ``MIME_DEPTH_MAX``: the message is never parsed."""


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
    # True: this message (same Message-ID, same content) was stored before; nothing new
    # was written.
    duplicate: bool


class _DepthBoundParser(BytesFeedParser):
    """The standard library's parser, refusing parts nested deeper than ``MIME_DEPTH_MAX``
    before its recursion could (``_new_message`` starts each nested part; the stack is the
    parts still open)."""

    def _new_message(self) -> None:
        if len(self._msgstack) >= MIME_DEPTH_MAX:  # type: ignore[attr-defined]
            raise MimeTooDeep(f"MIME parts nested deeper than {MIME_DEPTH_MAX} levels")
        super()._new_message()  # type: ignore[misc]


def _without_transit_headers(raw: bytes) -> bytes:
    """``raw`` from its first header field that was not prepended in transit."""
    start = 0
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end + 1
        name, colon, _ = raw[start:end].partition(b":")
        if not colon or name.strip().lower() not in _TRANSIT_HEADERS:
            break
        start = end
        while start < len(raw) and raw[start : start + 1] in (b" ", b"\t"):  # folded lines
            end = raw.find(b"\n", start)
            start = len(raw) if end < 0 else end + 1
    return raw[start:]


def inbound_dedupe_key(raw: bytes, message_id: str) -> str:
    """The Message-ID and a digest of the content: the same message delivered again (a
    retry, the same bytes by another route or with other line endings) has the same key; a
    different message reusing an id (a careless mailer, or someone pre-empting a customer's
    reply) has its own."""
    content = _without_transit_headers(raw).replace(b"\r\n", b"\n")
    digest = hashlib.sha256(content).hexdigest()
    return "sha256:" + hashlib.sha256(f"{message_id}\n{digest}".encode()).hexdigest()


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


def _message_id(message: EmailMessage) -> str:
    found = _MESSAGE_ID.search(_header(message, "Message-ID") or "")
    return found.group(0)[:255] if found else ""


def _subject(message: EmailMessage) -> str:
    return " ".join((_header(message, "Subject") or "").split())[:300]


def mail_parse(
    raw: bytes, *, mail_from: str | None = None, rcpt_tos: Sequence[str] = ()
) -> ParsedMail:
    """The parts of ``raw`` we use; ``MimeTooDeep`` for a message nested too deep to parse."""
    parser = _DepthBoundParser(policy=policy.default)
    parser.feed(raw)
    message = parser.close()
    assert isinstance(message, EmailMessage)
    message_id = _message_id(message)
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
        dedupe_key=inbound_dedupe_key(raw, message_id),
        message_id=message_id,
        from_name=name[:200],
        from_address=address[:320],
        recipients=recipients,
        thread_ids=thread[:50],
        subject=_subject(message),
        text=new_text(text),
        html=html,
        auto_reason=auto_reason(message, mail_from=mail_from),
    )


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
        message_id, subject = _message_id(headers), _subject(headers)
        name, address = parseaddr(_header(headers, "From") or "")
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
