"""Every customer email can be answered: its Reply-To is the case's signed reply address (which
the inbound path files on the case), and all of a case's emails thread as one conversation."""

from __future__ import annotations

import pytest

from cases.mail_thread import case_id_from_reply_address, case_root_message_id
from notifications.models import Notification
from notifications.transports import EmailTransport
from tests.test_customer_notices_read_right import build_world

pytestmark = pytest.mark.django_db


def test_every_customer_email_carries_the_cases_reply_to_and_thread(time_machine, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language="en", with_manager=True, customer_kind="plain")
    notices = list(Notification.objects.filter(recipient_kind="customer").order_by("pk"))
    templates = {n.template for n in notices}
    # the emails that invite an answer are among them
    assert {"commitments/email/renegotiated", "commitments/email/withdrawn"} <= templates
    for n in notices:
        message = EmailTransport().build(n).message()
        case_id = int(next(t for t in n.tags if t.startswith("case:")).split(":")[1])
        assert case_id_from_reply_address(message["Reply-To"]) == case_id, n.template
        root = case_root_message_id(case_id)
        assert root in message["References"].split(), n.template
        assert message["In-Reply-To"], n.template
        assert message["Message-ID"] == n.message_id


def test_an_email_that_says_reply_to_this_email_has_somewhere_to_reply_to(time_machine, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language="en", with_manager=False, customer_kind="title")
    for n in Notification.objects.filter(recipient_kind="customer"):
        message = EmailTransport().build(n)
        if "reply to this email" in message.body.lower():
            assert message.reply_to and message.reply_to[0].startswith("reply+"), n.template
            assert message.reply_to[0].endswith(f"@{settings.INBOUND_DOMAIN}")


def test_an_answer_naming_only_the_cases_root_lands_on_the_case_from_the_customer(world):
    from cases.conversations.inbound import inbound_mail_receive
    from cases.mail_thread import case_root_message_id
    from tests.mail import raw_mail

    case = world["case"]
    root = case_root_message_id(case.pk)
    received = inbound_mail_receive(
        raw=raw_mail(sender=case.customer.email, in_reply_to=root, references=root), via="smtp"
    )
    assert (received.message.case, received.message.matched_by) == (case, "thread")
    stranger = inbound_mail_receive(
        raw=raw_mail(sender="someone@elsewhere.example", in_reply_to=root), via="smtp"
    )
    assert stranger.message.case is None
