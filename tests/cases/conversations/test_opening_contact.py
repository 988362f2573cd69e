"""The contact a case is opened for: a call, chat or visit is the first response itself; the
customer's own message on an email case is where first response is measured from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cases.conversations.services import contact_reply_send
from cases.intake import CaseIntake, case_intake
from cases.models import Contact, ContactDirection
from reports.first_response import first_response_attainment
from reports.selectors import Window
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def open_case(world, channel, **fields):
    return case_intake(
        intake=CaseIntake(
            channel=channel,
            subject="Meter reading wrong",
            description=fields.pop("description", "The meter shows 4,000 kWh too many."),
            customer_id=CustomerFactory().pk,
            owner_id=world["owner"].pk,
            **fields,
        ),
        by=world["colleague"],
    )


@pytest.mark.parametrize("channel", ["phone", "chat", "in_person"])
def test_a_case_opened_on_a_live_channel_records_the_conversation(world, channel):
    with time_machine.travel(NOW, tick=False):
        case = open_case(world, channel)
    contact = Contact.objects.get(case=case)
    assert (contact.direction, contact.channel, contact.at) == (
        ContactDirection.TO_CUSTOMER,
        channel,
        NOW,
    )
    # whoever took the call opened the case: they spoke for us
    assert contact.agent == world["colleague"]
    assert contact.summary == "Meter reading wrong"
    assert contact.body == "The meter shows 4,000 kWh too many."
    case.refresh_from_db()
    assert case.awaiting_reply_since is None


@pytest.mark.parametrize("channel", ["phone", "chat"])
def test_a_live_case_opened_while_talking_is_answered_not_waiting(world, channel):
    with time_machine.travel(NOW, tick=False):
        case = open_case(world, channel)
    report = first_response_attainment(
        team=case.team, window=Window.ending(NOW.date(), 1), now=NOW + timedelta(hours=2)
    )
    (line,) = report.channels
    assert (line.answered, line.answered_within_target, line.waiting, line.unanswered) == (
        1,
        1,
        0,
        0,
    )


def test_the_customers_own_message_opens_an_email_case(world):
    with time_machine.travel(NOW, tick=False):
        case = open_case(world, "email")
    contact = Contact.objects.get(case=case)
    assert (contact.direction, contact.channel, contact.at, contact.agent) == (
        ContactDirection.FROM_CUSTOMER,
        "email",
        NOW,
        None,
    )
    assert contact.body == "The meter shows 4,000 kWh too many."
    case.refresh_from_db()
    # a new case is waiting for its first reply, not "customer replied"
    assert case.awaiting_reply_since is None


def test_first_response_is_measured_from_when_the_customer_wrote(world):
    opened = NOW + timedelta(hours=2)  # 12:00, inside the team's working hours
    wrote = NOW
    with time_machine.travel(opened, tick=False):
        case = open_case(world, "email", contact_at=wrote)
    assert Contact.objects.get(case=case).at == wrote
    answered = opened + timedelta(hours=1)
    with time_machine.travel(answered, tick=False):
        contact_reply_send(case=case, by=world["owner"], body="Corrected: 1,234 kWh.")
    report = first_response_attainment(
        team=case.team, window=Window.ending(NOW.date(), 1), now=answered
    )
    (line,) = report.channels
    assert line.seconds == [3 * 3600]


def test_an_email_case_without_a_description_opens_with_its_subject(world):
    with time_machine.travel(NOW, tick=False):
        case = open_case(world, "email", description="")
    contact = Contact.objects.get(case=case)
    assert (contact.summary, contact.body) == ("Meter reading wrong", "")
