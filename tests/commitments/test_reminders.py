"""The owner's reminders: lead times on the team's calendar, the at-risk alert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cases.hooks import QueueFlags
from commitments.models import Commitment
from commitments.services import (
    commitment_confirm_on_track,
    commitment_mark_kept,
)
from tests.commitments.conftest import (
    london,
    promise,
    queue_flags,
    reminder_times,
)

pytestmark = pytest.mark.django_db


def test_reminders_skip_the_weekend(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 26, 10), tick=False)  # Thursday
    c = promise(open_case(), agent, due="2 business days")
    assert c.due_at == london(2026, 11, 30, 10)  # Monday
    assert reminder_times(c) == [
        ("reminder", london(2026, 11, 27, 10)),  # 1 business day before: Friday 10:00
        ("at_risk", london(2026, 11, 30, 9)),  # 1 business hour before: Monday's opening
    ]


def test_reminders_skip_public_holidays(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 12, 23, 10), tick=False)  # Wednesday before Christmas
    c = promise(open_case(), agent, due="2 business days")
    # Christmas Day (Fri), the weekend and Boxing Day observed (Mon 28) do not count
    assert c.due_at == london(2026, 12, 29, 10)
    assert reminder_times(c) == [
        ("reminder", london(2026, 12, 24, 10)),
        ("at_risk", london(2026, 12, 29, 9)),
    ]


def test_reminders_across_a_dst_change_keep_local_office_hours(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 3, 26, 10), tick=False)  # Thursday, GMT
    c = promise(open_case(), agent, due="2 business days")
    assert c.due_at == london(2026, 3, 30, 10)  # Monday, BST
    assert c.due_at.astimezone(UTC) == datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert [(k, t.astimezone(UTC)) for k, t in reminder_times(c)] == [
        ("reminder", datetime(2026, 3, 27, 10, tzinfo=UTC)),  # Friday 10:00 GMT
        ("at_risk", datetime(2026, 3, 30, 8, tzinfo=UTC)),  # Monday 09:00 BST
    ]


def test_a_due_time_given_directly_is_reminded_in_plain_hours(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    c = promise(open_case(), agent, due=london(2026, 11, 28, 12))  # a Saturday
    assert not c.made_in_business_time
    assert reminder_times(c) == [
        ("reminder", london(2026, 11, 27, 12)),
        ("at_risk", london(2026, 11, 28, 11)),
    ]


def test_lead_times_before_an_instant_are_real_hours_across_a_dst_change(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 3, 27, 10), tick=False)
    c = promise(open_case(), agent, due=london(2026, 3, 29, 12))  # Sunday, BST since 01:00
    assert [(k, t.astimezone(UTC)) for k, t in reminder_times(c)] == [
        ("reminder", datetime(2026, 3, 28, 11, tzinfo=UTC)),  # 24 real hours before
        ("at_risk", datetime(2026, 3, 29, 10, tzinfo=UTC)),
    ]


def test_a_team_working_around_the_clock_is_reminded_in_plain_hours(
    time_machine, open_case, agent, team
):
    team.calendar.around_the_clock = True
    team.calendar.save()
    time_machine.move_to(london(2026, 11, 27, 20), tick=False)  # Friday evening
    c = promise(open_case(), agent, due="2 business days")
    assert c.due_at == london(2026, 11, 29, 20)
    assert reminder_times(c) == [
        ("reminder", london(2026, 11, 28, 20)),
        ("at_risk", london(2026, 11, 29, 19)),
    ]


def test_a_lead_time_already_past_is_skipped(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    c = promise(open_case(), agent, due="3 business hours")
    assert reminder_times(c) == [("at_risk", london(2026, 11, 25, 12))]


def test_confirming_on_track_replaces_the_at_risk_alert_with_a_reminder(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    commitment_mark_kept(commitment=Commitment.objects.get(case=case), by=agent)
    c = promise(case, agent, due="1 business day")
    assert reminder_times(c) == [("at_risk", london(2026, 11, 26, 9))]
    time_machine.move_to(london(2026, 11, 26, 9, 30), tick=False)
    assert queue_flags([case.pk])[case.pk] == QueueFlags(overdue=False, at_risk=True)
    time_machine.move_to(london(2026, 11, 25, 16), tick=False)
    commitment_confirm_on_track(commitment=c, by=agent)
    assert reminder_times(c) == [("reminder", london(2026, 11, 26, 9))]
    time_machine.move_to(london(2026, 11, 26, 9, 30), tick=False)
    assert queue_flags([case.pk])[case.pk] == QueueFlags(overdue=False, at_risk=False)
