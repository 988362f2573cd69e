"""A raw inbound message read into the parts the inbound rules use (``inbound``): who sent
it, to whom, the thread it answers, its subject, the text the sender wrote now (the quoted
history cut off with mail-parser-reply), HTML sanitised with nh3 and never with remote images,
and why it is automatic (RFC 3834 ``Auto-Submitted``, ``Precedence``, an empty Return-Path, a
delivery status report), or "". Parsing only: nothing here reads or writes the database.

The standard library parses it (``policy=default``), its MIME parts nested at most
``MIME_DEPTH_MAX`` deep; ``inbound_dedupe_key`` says when two deliveries are one message.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

import nh3
from mailparser_reply import EmailReplyParser

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
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_REPLY_LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "sv", "da", "pl"]
# What an email's HTML may keep for a staff page: text formatting and links, never images
# (a remote image tells the sender the mail was read) nor anything that runs.
_SAFE_TAGS = nh3.ALLOWED_TAGS - {"img"}


class MimeTooDeep(Exception):
    """MIME parts nested deeper than ``MIME_DEPTH_MAX``: the message is never parsed."""


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


def header_text(message: EmailMessage, name: str) -> str | None:
    """A header's text, None when absent; a malformed header reads as its raw text."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - hostile headers must not stop the message being kept
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return str(raw[0]) if raw else None
    return None if value is None else str(value)


def auto_reason(message: EmailMessage, *, mail_from: str | None) -> str:
    """Why the message is automatic (an auto-reply, a list, a bounce), or "" for a person's."""
    submitted = (header_text(message, "Auto-Submitted") or "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"[:100]
    precedence = (header_text(message, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    return_path = header_text(message, "Return-Path")
    if (return_path is not None and return_path.strip() in ("", "<>")) or mail_from == "":
        return "empty Return-Path (a bounce)"
    if (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type") or "").lower() == "delivery-status"
    ):
        return "delivery status notification"
    for name in ("X-Autoreply", "X-Autorespond"):
        if header_text(message, name) is not None:
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


def message_id_of(message: EmailMessage) -> str:
    found = _MESSAGE_ID.search(header_text(message, "Message-ID") or "")
    return found.group(0)[:255] if found else ""


def subject_of(message: EmailMessage) -> str:
    return " ".join((header_text(message, "Subject") or "").split())[:300]


def mail_parse(
    raw: bytes, *, mail_from: str | None = None, rcpt_tos: Sequence[str] = ()
) -> ParsedMail:
    """The parts of ``raw`` we use; ``MimeTooDeep`` for a message nested too deep to parse."""
    parser = _DepthBoundParser(policy=policy.default)
    parser.feed(raw)
    message = parser.close()
    assert isinstance(message, EmailMessage)
    message_id = message_id_of(message)
    name, address = parseaddr(header_text(message, "From") or "")
    listed = [header_text(message, h) or "" for h in _RECIPIENT_HEADERS]
    recipients = tuple(dict.fromkeys([*rcpt_tos, *(a for _, a in getaddresses(listed) if a)]))
    replying = _MESSAGE_ID.findall(header_text(message, "In-Reply-To") or "")
    references = _MESSAGE_ID.findall(header_text(message, "References") or "")
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
        subject=subject_of(message),
        text=new_text(text),
        html=html,
        auto_reason=auto_reason(message, mail_from=mail_from),
    )
