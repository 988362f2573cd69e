"""A customer email that could not be delivered — refused for good by the relay, or bounced
later by the customer's server — is the owner's task to call them, once per email, and a
flag on the case in their queue until the call is made."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from cases.conversations.inbound import inbound_mail_receive
from cases.conversations.services import reply_address
from cases.models import Case, CaseEvent, EventKind, OwnerTask
from cases.selectors import queue_for, queue_rows
from cases.services import case_open
from cases.task_services import owner_task_done
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver, outbox_claim_batch
from notifications.transports import EmailTransport, PermanentError
from tests.factories import CustomerFactory
from tests.mail import raw_mail

pytestmark = pytest.mark.django_db


def deliver() -> list[str]:
    return [
        notification_deliver(notification_id=c.notification_id, attempt=c.attempt)
        for c in outbox_claim_batch()
    ]


def ingrid() -> object:
    return CustomerFactory(
        full_name="Ingrid Berg",
        given_name="Ingrid",
        family_name="Berg",
        title="",
        email="ingrid@example.org",
        phone="+447700900123",
    )


def open_case(world) -> Case:
    return case_open(
        customer=ingrid(),
        team=world["team"],
        channel="email",
        subject="Bill",
        by=world["owner"],
        owner=world["owner"],
    )


def acknowledgement(case: Case) -> Notification:
    return Notification.objects.get(dedupe_key=f"case:{case.pk}:opened")


def dsn(
    *,
    original_message_id: str,
    to: str = "support@caseowner.test",
    action: str = "failed",
    status: str = "5.1.1",
    dsn_id: str = "<dsn-1@mx.example.org>",
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one: the report and the
    returned message's headers."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {dsn_id}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system. Your message could not be delivered.\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; ingrid@example.org\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: Support <support@caseowner.test>\r\n"
        "To: Ingrid Berg <ingrid@example.org>\r\n"
        "Subject: [CASE-000001] Your case\r\n"
        f"Message-ID: {original_message_id}\r\n"
        f"References: <notification-999999@{settings.EMAIL_MESSAGE_ID_DOMAIN}>\r\n"
        "\r\n--B--\r\n"
    ).encode()


def refuse(monkeypatch) -> None:
    def send(self, notification):
        raise PermanentError("550 5.1.1 <ingrid@example.org>: no such user", reason="550")

    monkeypatch.setattr(EmailTransport, "send", send)


def test_a_refused_notice_is_a_task_to_call_the_customer_and_a_queue_flag(world, monkeypatch):
    case = open_case(world)
    refuse(monkeypatch)
    deliver()
    assert acknowledgement(case).status == NotificationStatus.FAILED
    [task] = OwnerTask.objects.filter(case=case)
    assert task.text == (
        f"The email about their new case and its owner ({case.ref}) could not be delivered: "
        "call Ingrid Berg on 07700 900123"
    )
    assert "550 5.1.1" in task.reason and task.source_template == "cases/email/case_opened"
    event = CaseEvent.objects.get(case=case, kind=EventKind.OWNER_TASK_CREATED)
    assert event.data["task_id"] == task.pk
    [row] = [r for r in queue_rows(cases=list(queue_for(user=world["owner"]))) if r.case == case]
    assert row.notice_undelivered and "notice_undelivered" in row.flags


def test_the_queue_api_and_page_flag_it_until_the_call_is_made(world, monkeypatch):
    case = open_case(world)
    refuse(monkeypatch)
    deliver()
    client = Client()
    client.force_login(world["owner"])

    def flagged() -> bool:
        rows = client.get("/api/v1/queue/").json()["results"]
        return next(r for r in rows if r["ref"] == case.ref)["notice_undelivered"]

    assert flagged()
    assert "notice undelivered" in client.get("/queue/").content.decode()
    owner_task_done(
        task=OwnerTask.objects.get(case=case), by=world["owner"], summary="Called: new address."
    )
    assert not flagged()


def test_a_notice_failing_again_after_a_retry_makes_no_second_task(world, monkeypatch):
    from notifications.services import notification_retry

    case = open_case(world)
    refuse(monkeypatch)
    deliver()
    notification_retry(ids=[acknowledgement(case).pk])
    deliver()
    assert OwnerTask.objects.filter(case=case).count() == 1


def test_a_bounce_of_a_notice_is_a_task_once_however_often_it_bounces(world):
    case = open_case(world)
    deliver()  # accepted by the relay
    notice = acknowledgement(case)
    assert notice.status == NotificationStatus.SENT
    first = inbound_mail_receive(raw=dsn(original_message_id=notice.message_id), via="smtp")
    assert (first.message.case_id, first.message.matched_by) == (case.pk, "bounce")
    [task] = OwnerTask.objects.filter(case=case)
    assert task.text.startswith("The email about their new case and its owner")
    assert task.dedupe_key == f"undelivered:notice:{notice.pk}"
    again = dsn(original_message_id=notice.message_id, dsn_id="<dsn-2@mx.example.org>")
    inbound_mail_receive(raw=again, via="smtp", mail_from="")
    assert OwnerTask.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.awaiting_reply_since is None  # a bounce is no reply


def test_a_bounce_to_the_case_address_naming_no_notice_is_one_task_per_address(world):
    case = open_case(world)
    unknown = "<somebody-else@mx.example.org>"
    for n in (1, 2):
        raw = dsn(
            original_message_id=unknown, to=reply_address(case.pk), dsn_id=f"<d{n}@mx.example>"
        )
        inbound_mail_receive(raw=raw, via="smtp")
    [task] = OwnerTask.objects.filter(case=case)
    assert task.text.startswith(f"The email about their case ({case.ref}) could not be delivered")


def test_a_delay_report_and_an_auto_reply_are_no_failure(world):
    case = open_case(world)
    deliver()
    notice = acknowledgement(case)
    delayed = dsn(
        original_message_id=notice.message_id,
        to=reply_address(case.pk),
        action="delayed",
        status="4.4.1",
    )
    inbound_mail_receive(raw=delayed, via="smtp")
    away = raw_mail(
        to=reply_address(case.pk),
        sender="Ingrid Berg <ingrid@example.org>",
        subject="Out of office",
        headers={"Auto-Submitted": "auto-replied"},
    )
    inbound_mail_receive(raw=away, via="smtp", mail_from="")
    assert not OwnerTask.objects.filter(case=case).exists()


def test_a_failed_email_to_staff_is_no_task(world, monkeypatch):
    case = case_open(
        customer=ingrid(), team=world["team"], channel="email", subject="Bill", by=world["manager"]
    )
    refuse(monkeypatch)
    deliver()
    assert Notification.objects.filter(status=NotificationStatus.FAILED).count() >= 2
    assert (
        not OwnerTask.objects.filter(case=case)
        .exclude(source_template="cases/email/case_opened")
        .exists()
    )
    assert OwnerTask.objects.filter(case=case).count() == 1


def test_a_notice_whose_last_worker_died_is_a_task_too(
    world, settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.services import outbox_reclaim_expired

    case = open_case(world)
    notice = acknowledgement(case)
    Notification.objects.filter(pk=notice.pk).update(
        status=NotificationStatus.SENDING,
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        _, failed = outbox_reclaim_expired()
    assert failed == 1
    [task] = OwnerTask.objects.filter(case=case)
    assert task.dedupe_key == f"undelivered:notice:{notice.pk}"
    assert "lease expired" in task.reason
