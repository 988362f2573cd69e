"""Contacts on the timeline, and the reply written on the case page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.core import mail

from cases import hooks
from cases.conversations.services import (
    NewContact,
    case_id_from_reply_address,
    contact_record,
    contact_reply_send,
    reply_address,
)
from cases.customers.services import CustomerChanges, customer_update
from cases.errors import CaseRuleError
from cases.mail_thread import case_root_message_id
from cases.models import CaseEvent, CaseStatus, Contact, EventKind
from notifications.models import Notification
from notifications.services import notification_deliver, outbox_claim_batch
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def call(**overrides):
    fields = {"direction": "to_customer", "channel": "phone", "summary": "Called about the refund"}
    fields.update(overrides)
    return NewContact(**fields)


def deliver_all():
    for claim in outbox_claim_batch():
        notification_deliver(notification_id=claim.notification_id, attempt=claim.attempt)


# --- recording ---------------------------------------------------------------------------


def test_a_contact_goes_on_the_timeline_with_who_and_how(world):
    recorded = contact_record(case=world["case"], contact=call(), by=world["owner"])
    assert recorded.created
    contact = recorded.contact
    assert (contact.direction, contact.channel, contact.agent) == (
        "to_customer",
        "phone",
        world["owner"],
    )
    event = CaseEvent.objects.get(case=world["case"], kind=EventKind.CONTACT_TO_CUSTOMER)
    assert event.actor == world["owner"]
    assert event.data["contact_id"] == contact.pk
    assert event.data["summary"] == "Called about the refund"


def test_the_same_external_id_twice_is_recorded_once(world):
    first = contact_record(
        case=world["case"], contact=call(external_id="call-77"), by=world["owner"]
    )
    again = contact_record(
        case=world["case"], contact=call(external_id="call-77", summary="Other"), by=world["owner"]
    )
    assert not again.created and again.contact.pk == first.contact.pk
    assert Contact.objects.filter(case=world["case"]).count() == 1
    assert CaseEvent.objects.filter(kind=EventKind.CONTACT_TO_CUSTOMER).count() == 1


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"channel": "pigeon"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"body": "x" * 10_001}, "body"),
        ({"summary": "", "body": "  "}, "body"),
        ({"at": NOW + timedelta(seconds=61)}, "at"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(world, overrides, field):
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(CaseRuleError) as refused:
            contact_record(case=world["case"], contact=call(**overrides), by=world["owner"])
    assert refused.value.code == "invalid_contact" and field in refused.value.fields
    assert not Contact.objects.exists()
    assert not CaseEvent.objects.filter(kind__startswith="contact").exists()


def test_a_contact_up_to_a_minute_ahead_of_our_clock_is_accepted(world):
    with time_machine.travel(NOW, tick=False):
        contact_record(
            case=world["case"], contact=call(at=NOW + timedelta(seconds=60)), by=world["owner"]
        )
    assert Contact.objects.count() == 1


def test_an_agent_of_another_team_cannot_be_named(world):
    with pytest.raises(CaseRuleError) as refused:
        contact_record(case=world["case"], contact=call(agent=world["outsider"]), by=world["owner"])
    assert "agent" in refused.value.fields
    assert not Contact.objects.exists()


def test_the_customer_writing_flags_the_case_and_reopens_it_when_waiting(world):
    case = world["case"]
    case.status = CaseStatus.WAITING
    case.save()
    with time_machine.travel(NOW, tick=False):
        contact_record(
            case=case,
            contact=call(direction="from_customer", channel="chat", body="Any news?"),
            by=None,
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.awaiting_reply_since == NOW
    changed = CaseEvent.objects.get(case=case, kind=EventKind.STATUS_CHANGED)
    assert changed.data == {
        "from": "waiting_on_customer",
        "to": "open",
        "reason": "The customer replied.",
    }


def test_the_next_contact_to_the_customer_clears_the_flag(world):
    case = world["case"]
    contact_record(case=case, contact=call(direction="from_customer", body="Hello?"), by=None)
    case.refresh_from_db()
    assert case.awaiting_reply_since is not None
    contact_record(case=case, contact=call(), by=world["owner"])
    case.refresh_from_db()
    assert case.awaiting_reply_since is None


def test_an_automatic_message_changes_nothing_and_runs_no_handler(world, monkeypatch):
    seen = []
    monkeypatch.setattr(hooks, "contact_recorded", [lambda **kw: seen.append(kw)])
    case = world["case"]
    case.status = CaseStatus.WAITING
    case.save()
    contact_record(
        case=case,
        contact=call(
            direction="from_customer", channel="email", body="I am away", auto_submitted=True
        ),
        by=None,
    )
    case.refresh_from_db()
    assert (case.status, case.awaiting_reply_since) == (CaseStatus.WAITING, None)
    assert seen == []
    assert CaseEvent.objects.filter(kind=EventKind.CONTACT_AUTOMATIC).count() == 1


def test_handlers_hear_of_each_contact_in_its_transaction(world, monkeypatch):
    seen = []
    monkeypatch.setattr(hooks, "contact_recorded", [lambda **kw: seen.append(kw["contact"].pk)])
    recorded = contact_record(case=world["case"], contact=call(), by=world["owner"])
    assert seen == [recorded.contact.pk]


def test_resolving_a_case_clears_the_flag(world):
    from cases.services import case_change_status

    case = world["case"]
    contact_record(case=case, contact=call(direction="from_customer", body="Thanks"), by=None)
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=world["owner"])
    case.refresh_from_db()
    assert case.awaiting_reply_since is None


# --- the reply address -------------------------------------------------------------------


def test_the_reply_address_leads_back_to_its_case_and_cannot_be_forged(settings):
    settings.INBOUND_DOMAIN = "reply.example.com"
    address = reply_address(42)
    assert address.startswith("reply+42.") and address.endswith("@reply.example.com")
    assert case_id_from_reply_address(address) == 42
    assert case_id_from_reply_address(address.replace("reply+42.", "reply+43.")) is None
    assert case_id_from_reply_address(address.replace("@reply.", "@other.")) is None
    assert case_id_from_reply_address("ada@example.org") is None


# --- the reply written on the case page --------------------------------------------------


def test_a_reply_goes_out_from_the_owner_with_a_reply_to_for_the_case(world, settings):
    settings.ORGANISATION_NAME = "Northwind Energy"
    settings.DEFAULT_FROM_EMAIL = "Northwind <support@northwind.example>"
    case = world["case"]
    contact = contact_reply_send(case=case, by=world["owner"], body="Dear Ms Okafor,\n\nDone.")
    deliver_all()
    [sent] = mail.outbox
    message = message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    owner_name = world["owner"].agent_profile.display_name
    assert message["From"].addresses[0].display_name == f"{owner_name} via Northwind Energy"
    assert message["From"].addresses[0].addr_spec == "support@northwind.example"
    assert case_id_from_reply_address(str(message["Reply-To"])) == case.pk
    assert message["Message-ID"] == contact.message_id
    assert message["Auto-Submitted"] == "no"
    assert message["Subject"] == f"Re: [{case.ref}] {case.subject}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Dear Ms Okafor,\n\nDone.")
    assert owner_name in text and case.ref in text
    assert "Dear Dear" not in text


def test_a_reply_answers_the_customers_last_email_in_its_thread(world):
    case = world["case"]
    contact_record(
        case=case,
        contact=call(
            direction="from_customer", channel="email", body="First", message_id="<a@example.org>"
        ),
        by=None,
    )
    first = contact_reply_send(case=case, by=world["owner"], body="Answer one")
    contact_record(
        case=case,
        contact=call(
            direction="from_customer", channel="email", body="Again", message_id="<b@example.org>"
        ),
        by=None,
    )
    contact_reply_send(case=case, by=world["owner"], body="Answer two")
    latest = Notification.objects.order_by("-pk").first()
    assert latest.headers["in_reply_to"] == "<b@example.org>"
    # the case's root first: every email of the case threads under it
    root = case_root_message_id(case.pk)
    assert latest.headers["references"] == [
        root,
        "<a@example.org>",
        first.message_id,
        "<b@example.org>",
    ]


def test_the_reply_is_a_contact_that_clears_the_flag(world):
    case = world["case"]
    contact_record(case=case, contact=call(direction="from_customer", body="Hello?"), by=None)
    contact = contact_reply_send(case=case, by=world["owner"], body="Hello!")
    case.refresh_from_db()
    assert (contact.direction, contact.channel, contact.agent) == (
        "to_customer",
        "email",
        world["owner"],
    )
    assert case.awaiting_reply_since is None


def test_a_colleague_cannot_reply_on_the_owners_case(world):
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=world["case"], by=world["colleague"], body="Hi")
    assert refused.value.code == "not_case_owner"
    assert (
        not Contact.objects.exists()
        and not Notification.objects.filter(template__endswith="reply").exists()
    )


def test_a_customer_without_email_cannot_be_emailed(world):
    case = world["case"]
    case.customer = CustomerFactory(email="")
    case.save()
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=case, by=world["owner"], body="Hi")
    assert refused.value.code == "customer_has_no_email"
    assert not Contact.objects.exists()


def test_other_notices_say_they_are_automatic(world):
    from cases.services import case_open

    case_open(
        customer=CustomerFactory(),
        team=world["team"],
        channel="email",
        subject="Meter",
        by=world["owner"],
        owner=world["owner"],
    )
    deliver_all()
    opened = next(m for m in mail.outbox if "Your request: Meter" in m.subject)
    assert opened.extra_headers["Auto-Submitted"] == "auto-generated"
    # automatic, yet the customer's answer to it still lands on the case
    assert opened.message()["Reply-To"].startswith("reply+")


# --- replies and the customer notice limits ------------------------------------------------


def reply_emails() -> list[Notification]:
    return list(Notification.objects.filter(template="cases/email/reply").order_by("pk"))


def test_replies_stop_at_the_per_case_notice_limit(world, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 3
    case = world["case"]
    for n in range(3):
        contact_reply_send(case=case, by=world["owner"], body=f"Answer {n}")
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=case, by=world["owner"], body="Answer 4")
    assert (refused.value.code, refused.value.status_code) == ("notice_limit_reached", 429)
    assert len(reply_emails()) == 3
    assert Contact.objects.filter(case=case).count() == 3


def test_replies_count_towards_the_agents_daily_limit(world, settings):
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 2
    other_case = CaseFactory(team=world["team"], owner=world["owner"])
    contact_reply_send(case=world["case"], by=world["owner"], body="One")
    contact_reply_send(case=world["case"], by=world["owner"], body="Two")
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=other_case, by=world["owner"], body="Three")
    assert refused.value.code == "notice_limit_reached"
    assert not Contact.objects.filter(case=other_case).exists()


def change_email(world, email: str, by=None):
    return customer_update(
        customer=world["case"].customer,
        by=by or world["owner"],
        changes=CustomerChanges(email=email),
    )


def test_a_changed_address_is_told_to_the_old_one_without_the_new_one_in_full(world):
    case = world["case"]
    old = case.customer.email
    change_email(world, "new.person@example.net")
    [notice] = Notification.objects.filter(template="cases/email/address_changed")
    assert notice.recipient_address == old
    assert notice.context["new_address"] == "n***@example.net"
    assert "customer_url" not in notice.context
    deliver_all()
    [sent] = mail.outbox
    assert old in sent.to[0]
    assert case.ref in sent.subject and "n***@example.net" in sent.body
    assert "new.person" not in sent.body


def test_an_agent_cannot_reply_to_an_address_they_changed_within_the_hour(world):
    change_email(world, "elsewhere@example.net")
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=world["case"], by=world["owner"], body="Your refund")
    assert (refused.value.code, refused.value.status_code) == ("recent_address_change", 409)
    assert not reply_emails() and not Contact.objects.exists()


def test_a_manager_may_reply_to_an_address_the_owner_changed(world):
    change_email(world, "elsewhere@example.net")
    contact_reply_send(case=world["case"], by=world["manager"], body="Your refund")
    assert [n.recipient_address for n in reply_emails()] == ["elsewhere@example.net"]


def test_the_owner_may_reply_to_an_address_a_manager_changed(world):
    change_email(world, "elsewhere@example.net", by=world["manager"])
    contact_reply_send(case=world["case"], by=world["owner"], body="Your refund")
    assert [n.recipient_address for n in reply_emails()] == ["elsewhere@example.net"]


def test_the_agent_may_reply_to_the_address_they_changed_after_the_hour(world):
    with time_machine.travel(NOW, tick=False):
        change_email(world, "elsewhere@example.net")
    with time_machine.travel(NOW + timedelta(minutes=60, seconds=1), tick=False):
        contact_reply_send(case=world["case"], by=world["owner"], body="Your refund")
    assert len(reply_emails()) == 1


def test_a_first_address_given_needs_no_second_person(world):
    customer = world["case"].customer
    customer.email = ""
    customer.save()
    change_email(world, "first@example.net")
    contact_reply_send(case=world["case"], by=world["owner"], body="As promised, in writing")
    assert len(reply_emails()) == 1
    assert not Notification.objects.filter(template="cases/email/address_changed").exists()


def test_clearing_the_address_then_setting_a_new_one_is_still_a_change(world):
    old = world["case"].customer.email
    change_email(world, "")
    change_email(world, "elsewhere@example.net")
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=world["case"], by=world["owner"], body="Your refund")
    assert refused.value.code == "recent_address_change"
    [told] = Notification.objects.filter(template="cases/email/address_changed")
    assert (told.recipient_address, told.context["new_address"]) == (old, "")


def test_a_change_while_every_case_is_closed_still_holds_the_reply(world):
    case = world["case"]
    case.status = CaseStatus.RESOLVED
    case.save()
    change_email(world, "elsewhere@example.net")
    with pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=case, by=world["owner"], body="One more thing")
    assert refused.value.code == "recent_address_change"


def test_changing_the_address_and_replying_cannot_mail_a_list_of_strangers(world, settings):
    # the review's report: with the limits at 1, five changes and five replies sent five emails
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 1
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 1
    strangers = [f"stranger{n}@example.net" for n in range(5)]
    for address in strangers:
        for action in (
            lambda a=address: change_email(world, a),
            lambda: contact_reply_send(case=world["case"], by=world["owner"], body="Buy now"),
        ):
            try:
                action()
            except CaseRuleError as refused:
                assert refused.code in {"notice_limit_reached", "recent_address_change"}
    assert not Notification.objects.filter(recipient_address__in=strangers).exists()
    assert Notification.objects.filter(recipient_kind="customer").count() <= 1
