"""An email's bytes written directly (``notifications.wire``) are the bytes Django's email
classes write for it: every template, non-ASCII names and subjects, long headers, threads."""

from __future__ import annotations

import random
from email import message_from_bytes, policy
from email.utils import formataddr
from pathlib import Path
from smtplib import quoteaddr

import pytest
from django.conf import settings
from django.core.mail import BadHeaderError
from django.core.mail.message import sanitize_address

from notifications import wire
from notifications.models import Notification
from notifications.transports import EmailTransport

DATE = "Mon, 02 Mar 2026 09:00:00 -0000"
BOUNDARY = "===============4711081522317779202=="
TEMPLATES = sorted(
    str(path.relative_to(Path(settings.BASE_DIR) / "templates")).removesuffix(".subject.txt")
    for path in (Path(settings.BASE_DIR) / "templates").glob("*/email/*.subject.txt")
)
NAMES = [
    "Ada Okafor",
    "Zoë Ångström-Łukasiewicz",
    "O'Brien, Siobhán",
    'Jo "JJ" Jones',
    "渡辺 美咲",
    "A very long name of somebody who has a great many given names and surnames indeed",
    "",
]
_PERSON = {
    "name": "Amelia Hart",
    "email": "amelia@caseowner.test",
    "phone": "+44 20 7946 0000",
    "job_title": "Agent",
    "working_hours": "9–17",
}
_PROMISE = {"description": "Call back about the refund", "due_at": "2026-03-03T10:00:00+00:00"}
CONTEXT = {
    **{
        key: f"{key} – sample"
        for key in (
            "actions_taken agent_name assigned_by_name cancelled_by_name case_subject "
            "channel comment covering_for customer_email customer_expectations "
            "customer_full_name customer_needs decline_reason description follow_up_of job "
            "lead manager_name name new_address next_step offered_by_name organisation "
            "owner_email owner_name previous_owner_name reason receiver_name ref score "
            "sender_name team_name text what"
        ).split()
    },
    **{
        key: "2026-03-03T10:00:00+00:00"
        for key in "due_at due_local next_due_at offered_at previous_due_at starts ends "
        "back owner_back when previous_due_local".split()
    },
    "case_ref": "CASE-000042",
    "case_url": "https://caseowner.test/cases/42/",
    "customer_url": "https://caseowner.test/customers/7/",
    "url": "https://caseowner.test/x/",
    "subject": "Your case",
    "body": "Hello.\nWe are on it.",
    "customer_name": "Mrs Okafor",
    "owner": _PERSON,
    "cover": _PERSON,
    "promise": _PROMISE,
    "promises": [_PROMISE],
    "promises_missed": 1,
    "promises_renegotiated": 2,
    "new": True,
    "previous": "2026-03-02T10:00:00+00:00",
    "cases": [
        {"ref": "CASE-000042", "url": "https://caseowner.test/cases/42/", "promises": [_PROMISE]}
    ],
    "handoffs": [{"ref": "CASE-000043", "url": "https://caseowner.test/cases/43/"}],
    "case": {
        "ref": "CASE-000042",
        "url": "https://caseowner.test/cases/42/",
        "promises": [_PROMISE],
    },
    "customer_time_zone": "Europe/Berlin",
    "language": "en",
}


def old_bytes(message, monkeypatch) -> bytes:
    """What Django's backend sends: ``message().as_bytes`` with the same date and boundary."""
    monkeypatch.setattr("django.core.mail.message.formatdate", lambda **_: DATE)
    built = message.message()
    if built.is_multipart():
        built.set_boundary(BOUNDARY)
    return built.as_bytes(linesep="\r\n")


def notification(pk: int = 42, **fields) -> Notification:
    values = {
        "template": "notifications/email/message",
        "context": dict(CONTEXT),
        "recipient_name": "Ada Okafor",
        "recipient_address": "ada@example.org",
        "headers": {},
    }
    values.update(fields)
    return Notification(pk=pk, channel="email", recipient_kind="customer", **values)


def assert_same(n: Notification, monkeypatch) -> bytes:
    message = EmailTransport().build(n)
    new = wire.message_bytes(message, date=DATE, boundary=BOUNDARY)
    assert new == old_bytes(EmailTransport().build(n), monkeypatch)
    return new


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("name", NAMES)
def test_every_template_is_written_as_django_writes_it(template, name, monkeypatch):
    assert_same(notification(template=template, recipient_name=name), monkeypatch)


@pytest.mark.parametrize(
    "subject",
    [
        "Hello",
        "Ihre Rückerstattung ist unterwegs",
        "A subject long enough to be folded over more than one line by the email package, surely",
        "Two  spaces and a trailing one ",
        "=?utf-8?q?looks_encoded?= but is not",
        "Semi;colons,commas\tand a tab",
        "Ein sehr langer Betreff mit Umlauten: äöü ÄÖÜ ß, der gefaltet werden muss, ganz gewiss",
    ],
)
def test_subjects_plain_long_and_encoded(subject, monkeypatch):
    context = {**CONTEXT, "subject": subject}
    assert_same(notification(context=context), monkeypatch)


@pytest.mark.parametrize(
    "body",
    [
        "Plain text.",
        "Grüße aus Köln – 你好",
        "Windows line ends\r\nand a lone\rreturn",
        "x" * 1200,  # longer than SMTP allows: Django writes it quoted-printable
        "From the start of a line.\n.A leading dot\n",
    ],
)
def test_bodies(body, monkeypatch):
    assert_same(notification(context={**CONTEXT, "body": body}), monkeypatch)


def test_a_thread_a_sender_name_and_a_reply_address(monkeypatch):
    headers = {
        "from_name": "Amelia Hart (Käse & Co.)",
        "reply_to": "case-000042+reply@caseowner.test",
        "in_reply_to": "<abc@mail.example.org>",
        "references": [f"<ref-{i}@mail.example.org>" for i in range(8)],
        "auto_submitted": "auto-replied",
    }
    raw = assert_same(notification(headers=headers), monkeypatch)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Amelia Hart (Käse & Co.)"
    assert parsed["Auto-Submitted"] == "auto-replied"


def test_an_attachment_is_written_by_django(monkeypatch):
    attachment = {"filename": "call.ics", "content_type": "text/calendar", "content": "BEGIN:X"}
    n = notification(attachments=[attachment])
    message = EmailTransport().build(n)
    monkeypatch.setattr("django.core.mail.message.formatdate", lambda **_: DATE)
    raw = wire.message_bytes(message)
    assert b'filename="call.ics"' in raw


def test_random_subjects_and_names_match(monkeypatch):
    rng = random.Random(7)
    alphabet = "abc XYZ 09 .,;:'\"()<>@=?_-éßø中\t"
    for pk in range(200):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        subject = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 120)))
        n = notification(pk=pk, recipient_name=name, context={**CONTEXT, "subject": subject})
        assert_same(n, monkeypatch)


def test_a_line_break_in_a_header_is_refused_as_django_refuses_it():
    message = EmailTransport().build(notification(recipient_name="Ada\r\nBcc: x@example.org"))
    with pytest.raises(BadHeaderError):
        wire.message_bytes(message)


def test_the_boundary_is_drawn_anew_and_never_occurs_in_the_parts(monkeypatch):
    message = EmailTransport().build(notification())
    raw = wire.message_bytes(message)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().startswith("Dear Mrs Okafor")
    monkeypatch.setattr(wire.random, "randrange", lambda _: 1)
    taken = "===============0000000000000000001=="
    body = f"--{taken}\n"
    message = EmailTransport().build(notification(context={**CONTEXT, "body": body}))
    assert f'boundary="{taken}.0"'.encode() in wire.message_bytes(message)


@pytest.mark.parametrize(
    "address",
    ["ada@example.org", "Ada.O+tag@Mail.Example.ORG", "x@bücher.example", "üser@example.org"],
)
@pytest.mark.parametrize("name", NAMES)
def test_the_envelope_recipient_is_djangos(address, name):
    try:
        to = formataddr((name, address))
    except UnicodeEncodeError:  # a non-ASCII local part: formataddr refuses it, as before
        return
    assert wire.envelope_recipient(to, address) == quoteaddr(sanitize_address(to, "utf-8"))


@pytest.fixture
def sink(settings):
    from notifications.transports import transport_for
    from tests.integration.smtp_sink import SmtpSink

    server = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    transport_for("email")._close()
    yield server
    transport_for("email")._close()
    server.stop()


def test_the_smtp_server_receives_what_django_would_send(sink, monkeypatch):
    from django.core import mail

    n = notification(recipient_name="Zoë Ångström", context={**CONTEXT, "subject": "Grüße"})
    assert EmailTransport().send(n) == n.message_id
    mail.get_connection().send_messages([EmailTransport().build(n)])
    ours, djangos = sink.snapshot()
    assert ours.to == djangos.to == "Zoë Ångström <ada@example.org>"
    assert ours.subject == djangos.subject == "[CASE-000042] Grüße"
    assert ours.text == djangos.text
    assert (
        ours.message.get_body(("html",)).get_content()
        == djangos.message.get_body(("html",)).get_content()
    )


def test_a_refused_recipient_is_refused_as_smtplib_refuses_it(sink):
    from notifications.transports import PermanentError

    sink.reject("gone@example.org")
    with pytest.raises(PermanentError) as refused:
        EmailTransport().send(notification(recipient_address="gone@example.org"))
    assert str(refused.value).startswith("recipient refused: Ada Okafor <gone@example.org>: 550")
    EmailTransport().send(notification(pk=43))  # the session goes on
    assert [r.message_id for r in sink.snapshot()] == [notification(pk=43).message_id]
