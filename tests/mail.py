"""Raw emails as customers' mail programs, auto-responders and mail servers write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def raw_mail(
    *,
    to: str = "support@caseowner.test",
    sender: str = "Ada Okafor <ada@example.org>",
    subject: str = "Re: your case",
    text: str = "Thank you, that fixed it.",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def bounce(*, to: str, original_subject: str = "Re: your case", null_sender: bool = True) -> bytes:
    """A delivery status notification (RFC 3464) from a mail server, null sender."""
    message = EmailMessage()
    message["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    message["To"] = to
    message["Subject"] = f"Undelivered Mail Returned to Sender: {original_subject}"
    message["Message-ID"] = make_msgid(domain="mx.example.org")
    if null_sender:
        message["Return-Path"] = "<>"
    message.set_content("This is the mail system. Your message could not be delivered.")
    message.make_mixed()
    message.set_type("multipart/report")
    message.set_param("report-type", "delivery-status")
    return message.as_bytes()


def nested_mail(depth: int, *, message_id: str = "<deep@mail.example.org>") -> bytes:
    """A message whose multipart parts nest ``depth`` levels below the top (one text part
    innermost): ``depth`` 3,000 is about 200 KB."""
    lines = [
        "From: Ada Okafor <ada@example.org>",
        "To: support@caseowner.test",
        "Subject: Nested",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
    ]
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', "", f"--b{level}"]
    lines += ["Content-Type: text/plain", "", "The innermost text."]
    lines += [f"--b{level}--" for level in reversed(range(depth))]
    return ("\r\n".join(lines) + "\r\n").encode()
