"""Inbound email: matched to its case by reply address, or by thread or subject from the
customer's own address (never by the sender alone), stored once, automatic mail changing
nothing, unreadable mail refused for good, the rest kept for staff."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from cases.conversations.inbound import (
    InboundTooLarge,
    InboundUnreadable,
    inbound_mail_receive,
    inbound_message_attach,
)
from cases.conversations.mime import MIME_DEPTH_MAX
from cases.conversations.receiver import InboundHandler
from cases.conversations.services import contact_reply_send, reply_address
from cases.errors import CaseRuleError
from cases.models import CaseEvent, CaseStatus, Contact, EventKind, InboundMessage
from notifications.models import DeliveryLog, Notification
from tests.cases.conftest import assert_error
from tests.factories import CaseFactory, CustomerFactory
from tests.mail import bounce, nested_mail, raw_mail

pytestmark = pytest.mark.django_db


def receive(raw: bytes, **kwargs):
    kwargs.setdefault("via", "smtp")
    return inbound_mail_receive(raw=raw, **kwargs)


def waiting(case):
    case.status = CaseStatus.WAITING
    case.save()
    return case


# --- matching ------------------------------------------------------------------------------


def test_a_reply_to_the_case_address_lands_on_the_case(world):
    case = waiting(world["case"])
    received = receive(raw_mail(to=reply_address(case.pk), text="It works now."))
    assert (received.message.case, received.message.matched_by) == (case, "reply_address")
    contact = Contact.objects.get(case=case)
    assert (contact.direction, contact.channel, contact.body) == (
        "from_customer",
        "email",
        "It works now.",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.awaiting_reply_since is not None


def test_the_envelope_recipient_counts_when_the_header_does_not_show_it(world):
    case = world["case"]
    received = receive(raw_mail(to="support@caseowner.test"), rcpt_tos=[reply_address(case.pk)])
    assert received.message.case == case


def notice_of(case):
    return Notification.objects.create(
        recipient_address="a@example.org",
        recipient_kind="customer",
        template="x",
        dedupe_key="n1",
        tags=[f"case:{case.pk}"],
        send_after=case.created_at,
    )


def test_a_reply_to_a_notice_lands_by_its_thread_even_after_archiving(world):
    case = world["case"]
    customer = case.customer.email
    notice = notice_of(case)
    first = receive(raw_mail(sender=customer, in_reply_to=notice.message_id))
    assert (first.message.case, first.message.matched_by) == (case, "thread")
    DeliveryLog.objects.create(
        id=notice.pk + 1000,
        channel="email",
        recipient_address="a@example.org",
        recipient_kind="customer",
        dedupe_key="n2",
        tags=[f"case:{case.pk}"],
        status="sent",
        send_after=case.created_at,
        created_at=case.created_at,
    )
    archived = Notification(pk=notice.pk + 1000).message_id
    later = receive(raw_mail(sender=customer, references=f"<x@elsewhere> {archived}"))
    assert later.message.case == case


def test_a_reply_to_a_reply_lands_by_its_message_id(world):
    case = world["case"]
    reply = contact_reply_send(case=case, by=world["owner"], body="Here you are")
    Notification.objects.all().delete()  # the outbox row is gone: the contact still knows it
    received = receive(raw_mail(sender=case.customer.email, in_reply_to=reply.message_id))
    assert received.message.case == case


def test_a_case_reference_in_the_subject_is_the_last_resort(world):
    case = world["case"]
    sender = f"Ada <{case.customer.email.upper()}>"  # addresses compare without case
    received = receive(raw_mail(sender=sender, subject=f"Re: [{case.ref}] Broken kettle"))
    assert (received.message.case, received.message.matched_by) == (case, "subject")


def test_a_stranger_naming_the_case_in_the_subject_waits_for_staff(world):
    case = waiting(world["case"])
    received = receive(
        raw_mail(
            sender="someone@elsewhere.example",
            subject=f"Re: [{case.ref}] Refund",
            text="Please send the refund to IBAN GB00EVIL.",
        )
    )
    assert (received.message.case, received.message.status) == (None, "unmatched")
    assert not Contact.objects.exists()
    case.refresh_from_db()
    assert (case.status, case.awaiting_reply_since) == (CaseStatus.WAITING, None)


def test_a_stranger_with_a_forged_in_reply_to_waits_for_staff(world):
    case = waiting(world["case"])
    notice = notice_of(case)
    received = receive(raw_mail(sender="someone@elsewhere.example", in_reply_to=notice.message_id))
    assert (received.message.case, received.message.status) == (None, "unmatched")
    assert not Contact.objects.exists()
    case.refresh_from_db()
    assert (case.status, case.awaiting_reply_since) == (CaseStatus.WAITING, None)


def test_a_signed_reply_address_matches_whoever_sends(world):
    case = world["case"]
    received = receive(raw_mail(sender="colleague@elsewhere.example", to=reply_address(case.pk)))
    assert (received.message.case, received.message.matched_by) == (case, "reply_address")


def test_the_address_of_a_record_merged_into_the_customers_matches(world):
    case = world["case"]
    CustomerFactory(email="old-address@example.net", merged_into=case.customer)
    received = receive(raw_mail(sender="old-address@example.net", subject=f"[{case.ref}]"))
    assert (received.message.case, received.message.matched_by) == (case, "subject")


def test_an_erased_customers_case_is_matched_by_no_subject_tag(world):
    case = world["case"]
    address = case.customer.email
    case.customer.email = ""
    case.customer.save()
    received = receive(raw_mail(sender=address, subject=f"[{case.ref}]"))
    assert received.message.case is None


def test_the_sender_alone_never_matches(world):
    received = receive(raw_mail(sender=world["case"].customer.email, subject="Hello again"))
    assert received.message.case is None and received.message.status == "unmatched"
    assert not Contact.objects.exists()


def test_a_forged_reply_token_does_not_match(world):
    forged = reply_address(world["case"].pk).replace("reply+", "reply+9")
    received = receive(raw_mail(to=forged))
    assert received.message.case is None


# --- stored once, whole ------------------------------------------------------------------


def test_a_different_message_reusing_a_message_id_is_stored_as_a_new_one(world):
    to = reply_address(world["case"].pk)
    first = receive(raw_mail(to=to, message_id="<same@example.org>", text="First."))
    second = receive(raw_mail(to=to, message_id="<same@example.org>", text="Second."))
    assert not second.duplicate and second.message.pk != first.message.pk
    assert [c.body for c in Contact.objects.order_by("id")] == ["First.", "Second."]


def test_the_same_message_by_another_route_is_still_the_same(world):
    raw = raw_mail(to=reply_address(world["case"].pk), message_id="<route@example.org>")
    first = receive(raw)
    relayed = b"Received: from mx2.example.org\r\n\tby mx.caseowner.test; Sat, 5 Dec 2026\r\n"
    again = receive(relayed + raw.replace(b"\r\n", b"\n"))
    assert again.duplicate and again.message.pk == first.message.pk
    assert Contact.objects.count() == 1


def test_the_same_message_delivered_twice_is_recorded_once(world):
    raw = raw_mail(to=reply_address(world["case"].pk), message_id="<same@example.org>")
    first, again = receive(raw), receive(raw, via="http")
    assert not first.duplicate and again.duplicate
    assert again.message.pk == first.message.pk
    assert InboundMessage.objects.count() == 1 and Contact.objects.count() == 1


def test_messages_stored_before_get_the_new_key_so_a_redelivery_is_recognised(world):
    from importlib import import_module

    from django.apps import apps

    from cases.conversations.mime import inbound_dedupe_key

    migration = import_module("cases.migrations.0021_inbound_dedupe_by_content")
    raw = raw_mail(to=reply_address(world["case"].pk), message_id="<old@example.org>")
    stored = receive(raw).message
    InboundMessage.objects.filter(pk=stored.pk).update(dedupe_key="<old@example.org>")
    migration.forwards(apps, None)
    stored.refresh_from_db()
    assert stored.dedupe_key == inbound_dedupe_key(raw, "<old@example.org>")
    assert receive(raw).duplicate


def test_the_raw_message_is_kept_and_the_quoted_history_cut(world):
    text = (
        "Yes, Thursday is fine.\n\n"
        "On Fri, 4 Dec 2026 at 12:00, Amelia Hart <amelia@example.com> wrote:\n"
        "> Would Thursday suit you?\n> Kind regards\n"
    )
    raw = raw_mail(to=reply_address(world["case"].pk), text=text)
    received = receive(raw)
    assert bytes(received.message.raw) == raw
    assert Contact.objects.get().body == "Yes, Thursday is fine."


def test_html_is_sanitised_and_never_loads_images(world):
    html = (
        "<p>Hello <b>there</b></p><script>alert(1)</script>"
        '<img src="https://tracker.example/pixel.gif"><a href="javascript:evil()">x</a>'
    )
    received = receive(raw_mail(to=reply_address(world["case"].pk), html=html))
    stored = received.message.html
    assert "<b>there</b>" in stored
    for bad in ("<script", "alert(1)", "<img", "tracker.example", "javascript:"):
        assert bad not in stored


def test_an_html_only_message_becomes_plain_text(world):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"] = "ada@example.org", reply_address(world["case"].pk)
    message["Subject"], message["Message-ID"] = "Hi", "<html-only@example.org>"
    message.set_content("<p>Line one</p><p>Line &amp; two</p><script>x()</script>", subtype="html")
    receive(message.as_bytes())
    assert Contact.objects.get().body == "Line one\nLine & two"


def test_a_message_nested_too_deep_is_kept_for_staff_and_refused_for_good(world):
    raw = nested_mail(3_000)
    with pytest.raises(InboundUnreadable) as refused:
        receive(raw)
    message = InboundMessage.objects.get()
    assert (refused.value.code, refused.value.status_code) == ("message_unreadable", 422)
    assert (message.status, message.case, bytes(message.raw)) == ("unmatched", None, raw)
    assert "nested deeper than 50" in message.problem
    assert (message.subject, message.from_address) == ("Nested", "ada@example.org")
    with pytest.raises(InboundUnreadable):  # a retry: the same row, the same answer
        receive(raw, via="http")
    assert InboundMessage.objects.count() == 1


def test_mime_nesting_is_read_up_to_the_limit(world):
    received = receive(nested_mail(MIME_DEPTH_MAX - 1))
    assert received.message.text == "The innermost text." and not received.message.problem
    with pytest.raises(InboundUnreadable):
        receive(nested_mail(MIME_DEPTH_MAX, message_id="<deeper@mail.example.org>"))


def test_unreadable_mail_shows_on_the_staff_page(world, client):
    with pytest.raises(InboundUnreadable):
        receive(nested_mail(3_000))
    client.force_login(world["manager"])
    page = client.get("/manage/inbound/")
    assert b"could not be read (MIME parts nested deeper than 50 levels)" in page.content


def test_an_oversize_message_is_refused_and_not_stored(world, settings):
    settings.INBOUND_MAIL_MAX_BYTES = 2_000
    with pytest.raises(InboundTooLarge):
        receive(raw_mail(to=reply_address(world["case"].pk), text="x" * 3_000))
    assert not InboundMessage.objects.exists()


# --- automatic mail changes nothing --------------------------------------------------------


@pytest.mark.parametrize(
    "raw_of,mail_from,reason",
    [
        (
            lambda to: raw_mail(to=to, headers={"Auto-Submitted": "auto-replied"}),
            "a@x",
            "Auto-Submitted",
        ),
        (lambda to: raw_mail(to=to, headers={"Precedence": "bulk"}), "a@x", "Precedence"),
        (lambda to: raw_mail(to=to, headers={"Return-Path": "<>"}), None, "Return-Path"),
        (lambda to: raw_mail(to=to), "", "Return-Path"),
        (lambda to: bounce(to=to, null_sender=False), "mx@x", "delivery status"),
    ],
    ids=["auto-replied", "precedence-bulk", "empty-return-path", "null-sender", "dsn"],
)
def test_auto_replies_and_bounces_are_recorded_and_change_nothing(world, raw_of, mail_from, reason):
    case = waiting(world["case"])
    received = receive(raw_of(reply_address(case.pk)), mail_from=mail_from)
    assert reason in received.message.auto_reason
    case.refresh_from_db()
    assert (case.status, case.awaiting_reply_since) == (CaseStatus.WAITING, None)
    assert Contact.objects.get().auto_submitted
    assert CaseEvent.objects.filter(kind=EventKind.CONTACT_AUTOMATIC).count() == 1
    assert not Notification.objects.exists()


def test_auto_submitted_no_is_a_person(world):
    received = receive(
        raw_mail(to=reply_address(world["case"].pk), headers={"Auto-Submitted": "no"})
    )
    assert received.message.auto_reason == ""


# --- unmatched mail waits for staff --------------------------------------------------------


def test_staff_attach_an_unmatched_message_to_its_case(world):
    received = receive(raw_mail(subject="About my bill", text="Please call me."))
    message = inbound_message_attach(
        message=received.message, case=world["case"], by=world["manager"]
    )
    assert (message.status, message.case, message.routed_by) == (
        "attached",
        world["case"],
        world["manager"],
    )
    assert Contact.objects.get(case=world["case"]).body == "Please call me."
    with pytest.raises(CaseRuleError) as again:
        inbound_message_attach(message=message, case=world["case"], by=world["manager"])
    assert again.value.code == "already_routed"


def test_staff_of_another_team_cannot_attach_to_the_case(world):
    received = receive(raw_mail(subject="About my bill"))
    with pytest.raises(CaseRuleError):
        inbound_message_attach(
            message=received.message, case=world["case"], by=world["other_manager"]
        )
    assert not Contact.objects.exists()


def test_receiving_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    case = world["case"]
    raws = [
        raw_mail(to=reply_address(case.pk), references=" ".join(f"<r{i}@x>" for i in range(n)))
        for n in (1, 20)
    ]
    for raw in raws:
        # 15: the contact's webhook events ask once whether the team has endpoints.
        with django_assert_max_num_queries(15):
            receive(raw)


# --- the SMTP receiver and the HTTP endpoint --------------------------------------------------


def _envelope(raw: bytes, mail_from: str = "ada@example.org", rcpt: str = "support@x"):
    return SimpleNamespace(original_content=raw, content=raw, mail_from=mail_from, rcpt_tos=[rcpt])


@pytest.fixture
def keep_test_connection(monkeypatch):
    """The receiver drops stale connections around each message (a long-running process);
    called directly here, that would close the test's own transaction."""
    import cases.conversations.receiver as receiver

    monkeypatch.setattr(receiver, "close_old_connections", lambda: None)


def test_the_smtp_receiver_answers_250_only_once_stored(world, keep_test_connection):
    handler = InboundHandler()
    raw = raw_mail(to=reply_address(world["case"].pk))
    answer = handler.deliver(raw=raw, mail_from="ada@example.org", rcpt_tos=["x@y"])
    assert answer.startswith("250 ") and world["case"].ref in answer
    assert "delivered before" in handler.deliver(raw=raw, mail_from="ada@example.org", rcpt_tos=[])


def test_the_smtp_receiver_refuses_oversize_with_552(world, settings, keep_test_connection):
    settings.INBOUND_MAIL_MAX_BYTES = 500
    answer = InboundHandler().deliver(raw=raw_mail(text="x" * 1000), mail_from="a@x", rcpt_tos=[])
    assert answer.startswith("552 ")


def test_the_smtp_receiver_asks_for_a_retry_when_storing_fails(
    world, monkeypatch, keep_test_connection
):
    import cases.conversations.receiver as receiver

    def broken(**kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(receiver, "inbound_mail_receive", broken)
    assert InboundHandler().deliver(raw=raw_mail(), mail_from="a@x", rcpt_tos=[]).startswith("451 ")


def test_the_smtp_receiver_refuses_a_message_nested_too_deep_for_good(world, keep_test_connection):
    answer = InboundHandler().deliver(raw=nested_mail(3_000), mail_from="a@x", rcpt_tos=[])
    assert answer.startswith("554 5.6.0 ")
    assert InboundMessage.objects.get().problem


def test_the_smtp_handler_hands_the_envelope_over(monkeypatch):
    seen = {}

    def deliver(self, **kwargs):
        seen.update(kwargs)
        return "250 ok"

    monkeypatch.setattr(InboundHandler, "deliver", deliver)
    answer = asyncio.run(InboundHandler().handle_DATA(None, None, _envelope(b"raw", "", "r@x")))
    assert answer == "250 ok"
    assert seen == {"raw": b"raw", "mail_from": "", "rcpt_tos": ["r@x"]}


SECRET = "s" * 40


def post_raw(raw: bytes, *, secret: str | None = SECRET, content_type: str = "message/rfc822"):
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.post("/api/v1/inbound/email/", data=raw, content_type=content_type, **headers)


def test_the_http_endpoint_stores_then_answers_201_and_200_for_a_retry(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    raw = raw_mail(to=reply_address(world["case"].pk), message_id="<h@example.org>")
    first, again = post_raw(raw), post_raw(raw)
    assert first.status_code == 201, first.content
    assert first.json() == {
        "id": InboundMessage.objects.get().pk,
        "status": "matched",
        "case": world["case"].ref,
        "automatic": False,
        "duplicate": False,
    }
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Contact.objects.count() == 1


def test_the_http_endpoint_answers_422_for_a_message_nested_too_deep(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    body = assert_error(post_raw(nested_mail(3_000)), 422, "message_unreadable")
    assert f"message {InboundMessage.objects.get().pk}" in body["message"]


def test_the_http_endpoint_stores_a_different_message_reusing_an_id(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    to = reply_address(world["case"].pk)
    first = post_raw(raw_mail(to=to, message_id="<h@example.org>", text="One."))
    second = post_raw(raw_mail(to=to, message_id="<h@example.org>", text="Two."))
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["duplicate"] is False and InboundMessage.objects.count() == 2


def test_the_http_endpoint_needs_the_secret(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    assert_error(post_raw(raw_mail(), secret="wrong"), 401, "authentication_failed")
    assert_error(post_raw(raw_mail(), secret=None), 401, "authentication_failed")
    settings.INBOUND_MAIL_SECRET = ""
    assert_error(post_raw(raw_mail()), 403, "inbound_disabled")
    assert not InboundMessage.objects.exists()


def test_the_http_endpoint_refuses_oversize_with_413(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    settings.INBOUND_MAIL_MAX_BYTES = 1_000
    assert_error(post_raw(raw_mail(text="x" * 2_000)), 413, "message_too_large")
    assert not InboundMessage.objects.exists()


def test_the_http_endpoint_refuses_an_empty_body(world, settings):
    settings.INBOUND_MAIL_SECRET = SECRET
    assert_error(post_raw(b""), 400, "empty_message")


def test_unmatched_mail_waits_on_the_staff_page(world, client):
    receive(raw_mail(subject="Where is my parcel", text="Order 4471"))
    client.force_login(world["manager"])
    page = client.get("/manage/inbound/")
    assert page.status_code == 200 and b"Where is my parcel" in page.content
    client.force_login(world["owner"])
    assert client.get("/manage/inbound/").status_code == 404


def test_staff_put_unmatched_mail_on_a_case_from_the_page(world, client):
    message = receive(raw_mail(subject="Where is my parcel")).message
    client.force_login(world["manager"])
    answer = client.post(f"/manage/inbound/{message.pk}/attach/", {"case": world["case"].ref})
    assert answer.status_code == 302
    message.refresh_from_db()
    assert message.case == world["case"]


def test_staff_cannot_attach_to_another_teams_case_from_the_page(world, client):
    message = receive(raw_mail(subject="Where is my parcel")).message
    elsewhere = CaseFactory(team=world["other"])
    client.force_login(world["manager"])
    client.post(f"/manage/inbound/{message.pk}/attach/", {"case": elsewhere.ref})
    message.refresh_from_db()
    assert message.case is None


def test_a_quoted_block_at_the_end_is_history_too(world):
    text = "Yes, Thursday suits me.\n\n> Dear Dr Okafor,\n> Thank you.\n"
    receive(raw_mail(to=reply_address(world["case"].pk), text=text))
    assert Contact.objects.get().body == "Yes, Thursday suits me."


def test_a_message_that_is_all_quotes_keeps_its_text(world):
    receive(raw_mail(to=reply_address(world["case"].pk), text="> only a quote\n"))
    assert Contact.objects.get().body == "> only a quote"
