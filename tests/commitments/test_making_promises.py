"""Making a promise: the first reply at intake, due times, who may, what the customer is told."""

from __future__ import annotations

import icalendar
import pytest

from commitments.errors import CommitmentRuleError
from commitments.models import Commitment, CommitmentKind
from tests.commitments.conftest import (
    london,
    notices,
    promise,
)
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


def test_opening_a_case_makes_the_first_response_promise_in_business_hours(time_machine, open_case):
    time_machine.move_to(london(2026, 11, 25, 14), tick=False)  # Wednesday
    case = open_case(channel="email")
    first = Commitment.objects.get(case=case)
    assert first.kind == CommitmentKind.FIRST_RESPONSE
    assert first.made_by is None
    # 6 business hours from 14:00 Wed: 3 h Wednesday, 3 h Thursday
    assert first.due_at == london(2026, 11, 26, 12)
    case.refresh_from_db()
    assert case.next_due_at == first.due_at


def test_the_first_response_target_is_per_team(time_machine, open_case, team):
    team.first_response_seconds = {"email": 3600}
    team.save()
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case(channel="email")
    assert Commitment.objects.get(case=case).due_at == london(2026, 11, 25, 11)


def test_the_customer_is_told_of_a_new_promise_with_a_calendar_entry(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="4 business hours")
    (made,) = notices("commitment_made")
    assert made.recipient_address == case.customer.email
    assert made.context["due_local"].startswith("Wednesday 25 November 2026, 09:00 EST")
    event = icalendar.Calendar.from_ical(made.attachments[0]["content"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == c.due_at
    assert str(event.decoded("dtstart").tzinfo) == "America/New_York"


def test_nonsense_durations_are_refused_with_a_field_error(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    with pytest.raises(CommitmentRuleError) as err:
        promise(open_case(), agent, due="whenever")
    assert err.value.code == "invalid_within"
    assert "within" in err.value.fields


def test_a_due_time_in_the_past_is_refused(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    with pytest.raises(CommitmentRuleError) as err:
        promise(open_case(), agent, due=london(2026, 11, 25, 9))
    assert err.value.code == "due_in_past"


def test_only_the_owner_or_a_manager_makes_promises(time_machine, open_case, team, manager):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    with pytest.raises(CommitmentRuleError) as err:
        promise(case, make_agent(team))
    assert (err.value.code, err.value.status_code) == ("not_case_owner", 403)
    assert promise(case, manager).owner == case.owner


def test_nobody_makes_a_first_reply_promise_by_hand(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    with pytest.raises(CommitmentRuleError) as err:
        promise(open_case(), agent, kind="first_response", due="1 hour")
    assert "kind" in err.value.fields
