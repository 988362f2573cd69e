"""A customer's email to a resolved or closed case: within the team's days it reopens the
case, later it opens a linked follow-up with the same owner; either way the owner's queue
flags it. Through the real inbound path (a raw message to the case's reply address)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cases.conversations.inbound import inbound_mail_receive, inbound_message_attach
from cases.conversations.services import reply_address
from cases.models import Case, CaseEvent, CaseStatus, Contact, EventKind, InboundMessage
from cases.services import case_change_status
from notifications.models import Notification
from notifications.rendering import render_email
from tests.cases.conftest import client_for
from tests.factories import make_agent
from tests.mail import bounce, raw_mail

pytestmark = pytest.mark.django_db

RESOLVED = datetime(2026, 11, 2, 9, tzinfo=UTC)


def resolve(world, status=CaseStatus.RESOLVED):
    with time_machine.travel(RESOLVED, tick=False):
        return case_change_status(case=world["case"], status=status, by=world["owner"])


def customer_writes(case, *, days, text="It broke again."):
    with time_machine.travel(RESOLVED + timedelta(days=days), tick=False):
        return inbound_mail_receive(
            raw=raw_mail(to=reply_address(case.pk), text=text), via="smtp"
        ).message


def queue_of(user):
    response = client_for(user).get("/api/v1/queue/", {"page_size": 50})
    assert response.status_code == 200, response.content
    return {row["ref"]: row for row in response.json()["results"]}


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_a_reply_within_the_teams_days_reopens_the_case(world, status):
    case = resolve(world, status)
    message = customer_writes(case, days=3)
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (CaseStatus.OPEN, None)
    assert case.awaiting_reply_since == RESOLVED + timedelta(days=3)
    assert message.case == case
    assert Contact.objects.get(case=case).body == "It broke again."
    event = CaseEvent.objects.filter(case=case, kind=EventKind.REOPENED).get()
    assert (event.actor, event.data["reason"]) == (None, "The customer replied.")
    assert not Case.objects.filter(follow_up_of=case).exists()


def test_the_reopened_case_is_flagged_in_the_owners_queue(world):
    case = resolve(world)
    customer_writes(case, days=1)
    row = queue_of(world["owner"])[case.ref]
    assert row["customer_replied"] is True


def test_after_the_teams_days_a_linked_follow_up_opens_with_the_same_owner(world):
    case = resolve(world)
    message = customer_writes(case, days=15, text="Same problem, new meter.")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    follow_up = Case.objects.get(follow_up_of=case)
    assert (follow_up.owner, follow_up.team, follow_up.customer, follow_up.status) == (
        world["owner"],
        case.team,
        case.customer,
        CaseStatus.OPEN,
    )
    assert follow_up.subject.startswith(f"Follow-up to {case.ref}")
    assert message.case == follow_up
    assert Contact.objects.get(case=follow_up).body == "Same problem, new meter."
    assert not Contact.objects.filter(case=case).exists()
    linked = CaseEvent.objects.filter(case=case, kind=EventKind.FOLLOW_UP_OPENED).get()
    assert linked.data["follow_up_id"] == follow_up.pk and follow_up.ref in linked.data["reason"]
    assert queue_of(world["owner"])[follow_up.ref]["customer_replied"] is True


def test_the_follow_ups_owner_is_told_once_as_of_any_new_case(world):
    case = resolve(world)
    customer_writes(case, days=15, text="Same problem, new meter.")
    follow_up = Case.objects.get(follow_up_of=case)
    [notice] = Notification.objects.filter(
        template="cases/email/case_assigned", recipient_address=world["owner"].email
    )
    assert notice.dedupe_key == f"case:{follow_up.pk}:assigned:{world['owner'].pk}"
    email = render_email(template=notice.template, context=notice.context)
    said = f"The customer wrote again about {case.ref} well after it was resolved"
    assert said in email.text and said in email.html
    assert follow_up.ref in email.text
    assert "assignment rule" not in email.text + email.html


def test_the_owner_the_rule_gives_a_follow_up_to_is_told(world):
    case = resolve(world)
    world["owner"].is_active = False
    world["owner"].save()
    customer_writes(case, days=40)
    follow_up = Case.objects.get(follow_up_of=case)
    told = Notification.objects.filter(template="cases/email/case_assigned")
    assert list(told.values_list("recipient_address", flat=True)) == [follow_up.owner.email]


def test_the_number_of_days_is_the_teams(world):
    world["team"].follow_up_after_days = 30
    world["team"].save()
    case = resolve(world)
    customer_writes(case, days=20)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and not Case.objects.filter(follow_up_of=case).exists()


def test_the_default_is_fourteen_days(world):
    assert world["team"].follow_up_after_days == 14
    case = resolve(world)
    customer_writes(case, days=14)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_an_owner_who_left_the_team_hands_the_follow_up_to_the_teams_rule(world):
    case = resolve(world)
    owner = world["owner"]
    owner.is_active = False
    owner.save()
    customer_writes(case, days=40)
    follow_up = Case.objects.get(follow_up_of=case)
    assert follow_up.owner != owner and follow_up.owner.is_active


def test_an_auto_reply_to_a_resolved_case_changes_nothing(world):
    case = resolve(world)
    with time_machine.travel(RESOLVED + timedelta(days=2), tick=False):
        inbound_mail_receive(raw=bounce(to=reply_address(case.pk)), via="smtp")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.awaiting_reply_since is None
    assert not Case.objects.filter(follow_up_of=case).exists()


def test_mail_staff_route_to_a_resolved_case_reopens_it_too(world):
    case = resolve(world)
    with time_machine.travel(RESOLVED + timedelta(days=1), tick=False):
        waiting = inbound_mail_receive(
            raw=raw_mail(to="support@example.org", sender="x@example.net"), via="smtp"
        ).message
        assert waiting.case is None
        inbound_message_attach(message=waiting, case=case, by=world["manager"])
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert InboundMessage.objects.get(pk=waiting.pk).case == case


def test_a_reply_to_an_open_case_changes_nothing_of_this(world):
    make_agent(world["team"])
    message = customer_writes(world["case"], days=0)
    assert message.case == world["case"]
    assert not CaseEvent.objects.filter(kind=EventKind.REOPENED).exists()


def test_a_manager_sets_the_teams_days_in_its_settings(world):
    from reports.settings_services import TeamSettings, team_settings_update

    change = team_settings_update(
        team=world["team"], by=world["manager"], changes=TeamSettings(follow_up_after_days=3)
    )
    assert change is not None
    world["team"].refresh_from_db()
    assert world["team"].follow_up_after_days == 3
    case = resolve(world)
    customer_writes(case, days=4)
    assert Case.objects.filter(follow_up_of=case).exists()


@pytest.mark.parametrize("days", [0, 366])
def test_the_teams_days_are_refused_out_of_range(world, days):
    from reports.errors import ReportRuleError
    from reports.settings_services import TeamSettings, team_settings_update

    with pytest.raises(ReportRuleError) as refused:
        team_settings_update(
            team=world["team"], by=world["manager"], changes=TeamSettings(follow_up_after_days=days)
        )
    assert "follow_up_after_days" in refused.value.fields


def test_the_settings_api_carries_the_teams_days(world):
    client = client_for(world["manager"])
    url = f"/api/v1/reports/teams/{world['team'].pk}/settings/"
    answer = client.patch(url, {"follow_up_after_days": 30}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["follow_up_after_days"] == 30
    assert client.patch(url, {"follow_up_after_days": 0}, format="json").status_code == 400
