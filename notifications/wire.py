"""An email's bytes as they go to the SMTP server, written directly.

Django's ``EmailMultiAlternatives.message().as_bytes(linesep="\\r\\n")`` builds a tree of
``email`` objects and folds every header through ``email.header.Header`` (a compiled regular
expression per message for the MIME boundary, three parses of each address): most of a
worker's CPU per email. Here what is the same for every message (the MIME skeleton, the parts'
headers, a sender's ``From`` and envelope address, ``Auto-Submitted``) is built once and kept;
per message only the subject, recipient, date, ids and bodies are written, each header through
a short path when it is one plain ASCII line, else through the ``email`` package exactly as
Django writes it. The bytes are the same as Django's (tests/notifications/test_wire.py holds
them equal for every template, non-ASCII names and subjects included); a message outside the
short path (attachments, a body line longer than SMTP allows, a charset other than UTF-8) is
built by Django itself.
"""

from __future__ import annotations

import random
import re
import smtplib
import sys
from email import policy
from email.utils import formatdate
from functools import lru_cache
from smtplib import quoteaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)

CRLF = b"\r\n"
_FOLD = policy.compat32.clone(linesep="\r\n")
# A header value Header.encode() leaves as it is: printable ASCII words, one space apart,
# on one line of at most 78 characters with its name.
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")
# An address whose envelope form is itself: dot-atoms of ASCII letters, digits and the
# usual signs, a domain of ASCII labels.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9-]{1,63}"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\Z")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_BOUNDARY_DIGITS = "%0" + str(len(repr(sys.maxsize - 1))) + "d"


def header_exact(name: str, value: str) -> bytes:
    """One header line as Django writes it: checked for CR/LF (``BadHeaderError``), a
    non-ASCII value encoded (RFC 2047), folded by the ``email`` package's compat32 policy."""
    name, value = forbid_multi_line_headers(name, value, "utf-8")
    return _FOLD.fold_binary(name, value)


def header(name: str, value: str) -> bytes:
    if len(name) + len(value) <= 76 and _PLAIN.match(value):
        return f"{name}: {value}\r\n".encode()
    return header_exact(name, value)


# Values that repeat from message to message (a sender, Auto-Submitted): folded once.
header_kept = lru_cache(maxsize=512)(header)


@lru_cache(maxsize=256)
def envelope_sender(from_email: str) -> str:
    """The ``MAIL FROM`` address (``<addr>``) of a ``From`` value, as Django's backend and
    smtplib give it."""
    return quoteaddr(sanitize_address(from_email, "utf-8"))


def envelope_recipient(to: str, address: str) -> str:
    """The ``RCPT TO`` address (``<addr>``) of the ``To`` value ``to``, written from
    ``address`` (its address part); Django's and smtplib's own parse when the address is
    not plain ASCII."""
    if _PLAIN_ADDRESS.match(address):
        return f"<{address}>"
    return quoteaddr(sanitize_address(to, "utf-8"))


def _refused(smtp: smtplib.SMTP, code: int) -> None:
    # as smtplib's sendmail leaves the session after a refusal
    if code == 421:
        smtp.close()
        return
    try:
        smtp.rset()
    except smtplib.SMTPServerDisconnected:
        pass


def smtp_send(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes, *, to: str) -> None:
    """``smtp.sendmail(…)`` for one recipient whose envelope addresses are written already
    (``envelope_sender``, ``envelope_recipient``): the same commands and the same errors
    (``SMTPSenderRefused``, ``SMTPRecipientsRefused`` keyed by the ``To`` value as Django's
    backend gives it, ``SMTPDataError``), without parsing both addresses once more."""
    smtp.ehlo_or_helo_if_needed()
    size = f" size={len(data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:{sender}{size}")
    code, answer = smtp.getreply()
    if code != 250:
        _refused(smtp, code)
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    smtp.putcmd("rcpt", f"TO:{recipient}")
    code, answer = smtp.getreply()
    if code not in (250, 251):
        _refused(smtp, code)
        raise smtplib.SMTPRecipientsRefused({sanitize_address(to, "utf-8"): (code, answer)})
    code, answer = smtp.data(data)
    if code != 250:
        _refused(smtp, code)
        raise smtplib.SMTPDataError(code, answer)


def _part_headers(subtype: str, eight_bit: bool) -> bytes:
    return (
        header_kept("Content-Type", f'text/{subtype}; charset="utf-8"')
        + b"MIME-Version: 1.0\r\n"
        + header_kept("Content-Transfer-Encoding", "8bit" if eight_bit else "7bit")
    )


def _body(text: str) -> bytes:
    """Line ends as CRLF, as the generator writes a text part (UTF-8, 7 or 8 bit)."""
    if "\r" in text:
        return "\r\n".join(_NEWLINES.split(text)).encode("utf-8", "surrogateescape")
    return text.replace("\n", "\r\n").encode("utf-8", "surrogateescape")


def _long_lines(text: str) -> bool:
    """Django sends a body with a line over 998 bytes quoted-printable."""
    if len(text) <= RFC5322_EMAIL_LINE_LENGTH_LIMIT // 4:
        return False
    return any(
        len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in text.splitlines()
    )


def _boundary(parts: list[bytes]) -> str:
    """A boundary as the generator draws it, and one that occurs in no part."""
    boundary = ("=" * 15) + (_BOUNDARY_DIGITS % random.randrange(sys.maxsize)) + "=="
    chosen, counter = boundary, 0
    while any(b"--" + chosen.encode() in part for part in parts):
        chosen, counter = f"{boundary}.{counter}", counter + 1
    return chosen


def message_bytes(
    message: EmailMultiAlternatives, *, date: str | None = None, boundary: str | None = None
) -> bytes:
    """``message.message().as_bytes(linesep="\\r\\n")``, written directly where it can be.

    ``date`` and ``boundary`` stand in for the current time and a random boundary (tests);
    raises what Django's build raises (``BadHeaderError`` for a CR/LF in a header,
    ``ValueError`` for an address that cannot be written).
    """
    encoding = message.encoding or settings.DEFAULT_CHARSET
    html = [
        content
        for content, mimetype in message.alternatives
        if mimetype == "text/html" and isinstance(content, str)
    ]
    text = message.body
    if (
        not isinstance(text, str)
        or message.attachments
        or encoding.lower() != "utf-8"
        or len(message.alternatives) != len(html)
        or len(html) > 1
        or message.cc
        or not text
        or "Message-ID" not in message.extra_headers
        or any(k.lower() in ("from", "to", "cc", "reply-to", "date") for k in message.extra_headers)
        or _long_lines(text)
        or (html and _long_lines(html[0]))
    ):
        built = message.message()
        if date:
            built.replace_header("Date", date)
        if boundary and built.is_multipart():
            built.set_boundary(boundary)
        return built.as_bytes(linesep="\r\n")

    lines = [
        header("Subject", str(message.subject)),
        header_kept("From", str(message.from_email)),
    ]
    if message.to:
        lines.append(header("To", ", ".join(str(v) for v in message.to)))
    if message.reply_to:
        lines.append(header_kept("Reply-To", ", ".join(str(v) for v in message.reply_to)))
    lines.append(header("Date", date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    for name, value in message.extra_headers.items():
        kept = name.lower() == "auto-submitted"
        lines.append(header_kept(name, value) if kept else header(name, str(value)))
    headers = b"".join(lines)

    text_part = _body(text)
    if not html:
        return _part_headers("plain", not text.isascii()) + headers + CRLF + text_part
    parts = [
        _part_headers("plain", not text.isascii()) + CRLF + text_part,
        _part_headers("html", not html[0].isascii()) + CRLF + _body(html[0]),
    ]
    chosen = boundary or _boundary(parts)
    delimiter = b"--" + chosen.encode()
    return b"".join(
        [
            _multipart_header(chosen),
            b"MIME-Version: 1.0\r\n",
            headers,
            CRLF,
            delimiter,
            CRLF,
            parts[0],
            CRLF,
            delimiter,
            CRLF,
            parts[1],
            CRLF,
            delimiter,
            b"--",
            CRLF,
        ]
    )


def _multipart_header(boundary: str) -> bytes:
    value = f'multipart/alternative; boundary="{boundary}"'
    if len(boundary) == len(_SAMPLE_BOUNDARY):
        return _MULTIPART_FOLDED.replace(_SAMPLE_BOUNDARY.encode(), boundary.encode())
    return _FOLD.fold_binary("Content-Type", value)


_SAMPLE_BOUNDARY = "=" * 15 + "0" * len(repr(sys.maxsize - 1)) + "=="
_MULTIPART_FOLDED = _FOLD.fold_binary(
    "Content-Type", f'multipart/alternative; boundary="{_SAMPLE_BOUNDARY}"'
)
