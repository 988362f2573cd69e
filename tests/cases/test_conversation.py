"""Contacts on the timeline, and the reply written on the case page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.core import mail

from cases import hooks
from cases.conversation import (
    NewContact,
    case_id_from_reply_address,
    contact_record,
    contact_reply_send,
    reply_address,
)
from cases.errors import CaseRuleError
from cases.models import CaseEvent, CaseStatus, Contact, EventKind
from notifications.models import Notification
from notifications.services import notification_deliver, outbox_claim_batch
from tests.factories import CustomerFactory

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
    assert latest.headers["references"] == ["<a@example.org>", first.message_id, "<b@example.org>"]


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
    assert "Reply-To" not in opened.message()
