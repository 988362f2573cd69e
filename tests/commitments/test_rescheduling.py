"""Changing a team's calendar moves the queued reminders of its open promises, in the same
transaction, and leaves the ones already sent alone."""

from __future__ import annotations

import pytest
from django.utils import timezone

from commitments.calendar_changes import business_calendar_update
from commitments.calendar_services import CalendarSettings
from commitments.models import Commitment
from commitments.services import commitment_create
from notifications.models import Notification, NotificationStatus
from tests.commitments.conftest import london, pending

pytestmark = pytest.mark.django_db

LATER_WEDNESDAYS = {str(d): [["09:45", "17:00"]] for d in range(5)}


@pytest.fixture
def promise(time_machine, open_case):
    time_machine.move_to(london(2026, 11, 2, 10), tick=False)  # Monday
    case = open_case()
    c = commitment_create(
        case=case, by=case.owner, description="Call back", kind="callback", due="2 business days"
    )
    assert c.due_at == london(2026, 11, 4, 10)
    return c


def _reminders(c: Commitment):
    return Notification.objects.filter(dedupe_key__startswith=f"commitment:{c.pk}:due:")


def test_a_new_calendar_moves_queued_reminders_and_leaves_sent_ones(
    time_machine, promise, team, manager
):
    day_before, at_risk = pending(f"commitment:{promise.pk}:due:")
    assert (day_before.send_after, at_risk.send_after) == (
        london(2026, 11, 3, 10),
        london(2026, 11, 4, 9),
    )
    time_machine.move_to(london(2026, 11, 3, 12), tick=False)  # Tuesday noon
    Notification.objects.filter(pk=day_before.pk).update(
        status=NotificationStatus.SENT, sent_at=timezone.now()
    )

    business_calendar_update(
        team=team, by=manager, changes=CalendarSettings(weekly_hours=LATER_WEDNESDAYS)
    )

    promise.refresh_from_db()
    assert promise.due_at == london(2026, 11, 4, 10)  # the customer's date never moves
    # one business hour before Wednesday 10:00 now starts on Tuesday: 16:15
    assert promise.at_risk_from == london(2026, 11, 3, 16, 15)
    [moved] = pending(f"commitment:{promise.pk}:due:")
    assert moved.send_after == london(2026, 11, 3, 16, 15)
    assert moved.template == "commitments/email/at_risk"
    day_before.refresh_from_db()
    at_risk.refresh_from_db()
    assert day_before.status == NotificationStatus.SENT  # untouched, and not queued again
    assert at_risk.status == NotificationStatus.CANCELLED
    assert _reminders(promise).count() == 3


def test_an_ended_promise_is_left_alone(time_machine, promise, team, manager):
    from commitments.services import commitment_mark_kept

    commitment_mark_kept(commitment=promise, by=promise.owner)
    before = list(_reminders(promise).values_list("pk", "status"))
    business_calendar_update(
        team=team, by=manager, changes=CalendarSettings(weekly_hours=LATER_WEDNESDAYS)
    )
    assert list(_reminders(promise).values_list("pk", "status")) == before
