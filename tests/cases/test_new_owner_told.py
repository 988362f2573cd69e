"""Every new owner is told once, whatever made them owner, and the timeline says truly whether
the team's rule chose them."""

from __future__ import annotations

import pytest

from cases.handoffs.services import handoff_accept
from cases.intake import CaseIntake, case_intake
from cases.models import CaseEvent, EventKind
from cases.services import case_open
from notifications.models import Notification
from notifications.rendering import render_email
from tests.factories import CustomerFactory, TeamFactory, make_agent, offer

pytestmark = pytest.mark.django_db


def told(user):
    return Notification.objects.filter(
        template="cases/email/case_assigned", recipient_address=user.email
    )


def opened_event(case):
    return CaseEvent.objects.get(case=case, kind=EventKind.OPENED)


def test_an_owner_named_by_another_agent_is_told_once(world):
    case = case_intake(
        intake=CaseIntake(
            channel="email",
            subject="Invoice wrong",
            customer_id=CustomerFactory().pk,
            owner_id=world["receiver"].pk,
        ),
        by=world["owner"],
    )
    assert case.owner == world["receiver"]
    assert opened_event(case).data["assigned_by_rule"] is False
    [notice] = told(world["receiver"])
    email = render_email(template=notice.template, context=notice.context)
    name = world["owner"].agent_profile.display_name
    assert f"{name} named you the owner of a new case" in email.text
    assert f"{name} named you the owner of a new case" in email.html
    assert "assignment rule" not in email.text + email.html


def test_the_owner_the_rule_picks_is_told_and_the_flag_says_so(world):
    case = case_open(
        customer=CustomerFactory(),
        team=world["team"],
        channel="email",
        subject="Broken",
        by=world["manager"],
    )
    assert opened_event(case).data["assigned_by_rule"] is True
    [notice] = told(case.owner)
    assert "assignment rule" in render_email(template=notice.template, context=notice.context).text


def test_the_rule_picking_the_caller_records_the_rule_and_mails_nobody(db):
    team = TeamFactory()
    agent = make_agent(team)
    case = case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="Broken", by=agent
    )
    assert case.owner == agent
    assert opened_event(case).data["assigned_by_rule"] is True
    assert not told(agent).exists()  # they opened it and are looking at it


def test_an_agent_who_names_themselves_is_not_mailed_and_not_the_rule(world):
    case = case_open(
        customer=CustomerFactory(),
        team=world["team"],
        channel="email",
        subject="Broken",
        by=world["owner"],
        owner=world["owner"],
    )
    assert opened_event(case).data["assigned_by_rule"] is False
    assert not told(world["owner"]).exists()


@pytest.mark.parametrize("offered_by", ["owner", "manager"], ids=["hand-off", "reassignment"])
def test_a_new_owner_by_hand_off_or_reassignment_was_told_once(world, offered_by):
    case = case_open(
        customer=CustomerFactory(),
        team=world["team"],
        channel="email",
        subject="Broken",
        by=world["owner"],
        owner=world["owner"],
    )
    handoff = offer(case, by=world[offered_by], to=world["receiver"])
    handoff_accept(handoff=handoff, by=world["receiver"])
    to_receiver = Notification.objects.filter(
        recipient_address=world["receiver"].email, template__startswith="cases/"
    )  # the promises' reminders move to them too
    assert list(to_receiver.values_list("template", flat=True)) == ["cases/email/handoff_offered"]
