"""The conversation end to end with real parts: PostgreSQL, Redis, Celery beat and a worker
delivering to an SMTP server on loopback, and ``manage.py receive_mail`` (a subprocess on a
free port) receiving the customer's answers sent with smtplib."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.test import Client

from cases.models import CaseStatus, Contact, InboundMessage
from cases.services import case_change_status, case_open
from commitments.models import Commitment, CommitmentKind, CommitmentStatus
from notifications.models import Notification
from tests.factories import AgentFactory, CustomerFactory, TeamFactory
from tests.integration.celery_worker import current_database_url, wait_for
from tests.integration.smtp_sink import free_port
from tests.mail import bounce, nested_mail

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receive_mail(outbox_processes, tmp_path):
    """``manage.py receive_mail`` on a free loopback port, against the test database."""
    port = free_port()
    log = open(tmp_path / "receive_mail.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "receive_mail", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**outbox_processes.env, "DATABASE_URL": current_database_url()},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def listening() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=1) as smtp:
                return smtp.noop()[0] == 250
        except OSError:
            return False

    try:
        wait_for(listening, timeout=30, interval=0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        log.close()
        print((tmp_path / "receive_mail.log").read_text(errors="replace")[-3000:])


def send(port: int, raw: bytes, *, mail_from: str, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail(mail_from, [to], raw)


def answer(*, to: str, sender: str, subject: str, text: str, in_reply_to: str, headers=None):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="mail.example.org")
    message["In-Reply-To"] = message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message, message.as_bytes()


def test_a_conversation_by_email_goes_round_and_lands_on_the_case(
    outbox_processes, smtp_sink, receive_mail
):
    team = TeamFactory(time_zone="Europe/London")
    owner = AgentFactory(team=team, display_name="Amelia Hart").user
    customer = CustomerFactory(full_name="Ada Okafor", title="Dr", email="ada@example.org")
    case = case_open(
        customer=customer, team=team, channel="email", subject="Meter", by=owner, owner=owner
    )
    outbox_processes.start()

    # The acknowledgement arrives; the customer answers it (matched by its thread).
    [ack] = wait_for(lambda: smtp_sink.snapshot(), timeout=30)
    first, raw = answer(
        to="support@caseowner.test",
        sender="Ada Okafor <ada@example.org>",
        subject=f"Re: {ack.subject}",
        text="The meter reads 4471.\n\nOn Tue, caseowner wrote:\n> We have your request",
        in_reply_to=ack.message_id,
    )
    send(receive_mail, raw, mail_from="ada@example.org", to="support@caseowner.test")
    inbound = Contact.objects.get(case=case, direction="from_customer")
    assert inbound.body == "The meter reads 4471."

    # The owner replies from the case page.
    client = Client()
    client.force_login(owner)
    page = client.post(f"/cases/{case.ref}/reply/", {"body": "Dear Dr Okafor,\n\nThank you."})
    assert page.status_code == 302
    reply = Contact.objects.get(case=case, direction="to_customer")
    assert Commitment.objects.get(case=case, kind=CommitmentKind.FIRST_RESPONSE).status == (
        CommitmentStatus.KEPT
    )
    [received] = wait_for(
        lambda: [r for r in smtp_sink.snapshot() if r.message_id == reply.message_id], timeout=30
    )
    mail = received.message
    assert mail["From"].addresses[0].display_name == "Amelia Hart via caseowner"
    reply_to = str(mail["Reply-To"])
    assert reply_to.startswith("reply+") and reply_to.endswith("@reply.caseowner.test")
    assert mail["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in str(mail["References"])
    assert received.text.replace("\r\n", "\n").startswith("Dear Dr Okafor,\n\nThank you.")

    # Waiting on the customer; their answer to the reply reopens the case and flags it.
    case_change_status(case=case, status=CaseStatus.WAITING, by=owner)
    _, raw = answer(
        to=reply_to,
        sender="Ada Okafor <ada@example.org>",
        subject=f"Re: {received.subject}",
        text="Yes, Thursday suits me.\n\n> Dear Dr Okafor,\n> Thank you.",
        in_reply_to=reply.message_id,
    )
    send(receive_mail, raw, mail_from="ada@example.org", to=reply_to)
    send(receive_mail, raw, mail_from="ada@example.org", to=reply_to)  # delivered twice
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    latest = Contact.objects.filter(case=case).order_by("-id").first()
    assert latest.body == "Yes, Thursday suits me." and latest.inbound.matched_by == "reply_address"
    assert Contact.objects.filter(case=case, body="Yes, Thursday suits me.").count() == 1
    rows = client.get("/api/v1/queue/").json()["results"]
    assert [(r["ref"], r["customer_replied"]) for r in rows] == [(case.ref, True)]
    timeline = client.get(f"/cases/{case.ref}/").content.decode()
    assert "Yes, Thursday suits me." in timeline

    # An auto-reply and a bounce change nothing and trigger nothing.
    case_change_status(case=case, status=CaseStatus.WAITING, by=owner)
    notifications = Notification.objects.count()
    _, auto = answer(
        to=reply_to,
        sender="ada@example.org",
        subject="Out of office",
        text="I am away until Monday.",
        in_reply_to=reply.message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    send(receive_mail, auto, mail_from="ada@example.org", to=reply_to)
    send(receive_mail, bounce(to=reply_to), mail_from="", to=reply_to)
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING
    assert Notification.objects.count() == notifications
    assert InboundMessage.objects.filter(case=case).exclude(auto_reason="").count() == 2


def test_a_message_nested_too_deep_is_refused_for_good_and_kept(receive_mail):
    """554 (permanent: the sender's server bounces it at once), never 451 (retried for days
    a message that will never parse); staff still see it."""
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(receive_mail, nested_mail(3_000), mail_from="x@example.org", to="support@x.test")
    assert refused.value.smtp_code == 554
    kept = InboundMessage.objects.get()
    assert (kept.status, kept.size) == ("unmatched", len(nested_mail(3_000)))
    assert kept.problem
