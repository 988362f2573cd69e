"""Ending a promise: kept, withdrawn or renegotiated, exactly once, reminders cancelled."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from commitments.errors import CommitmentRuleError
from commitments.models import Commitment, CommitmentStatus
from commitments.services import (
    commitment_mark_kept,
    commitment_renegotiate,
    commitment_withdraw,
)
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification, NotificationChannel, NotificationStatus
from notifications.webhooks import webhook_endpoint_register
from tests.commitments.conftest import (
    london,
    notices,
    promise,
    reminder_times,
)

pytestmark = pytest.mark.django_db


def test_keeping_a_promise_cancels_its_reminders(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 26, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    commitment_mark_kept(commitment=c, by=agent)
    c.refresh_from_db()
    assert (c.status, c.ended_at) == (CommitmentStatus.KEPT, london(2026, 11, 26, 10))
    assert reminder_times(c) == []
    time_machine.move_to(london(2026, 12, 1, 10), tick=False)
    commitments_sweep_due()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.KEPT
    assert not notices("missed", context__commitment_id=c.pk).exists()


def test_pending_statuses_are_cancelled_not_deleted(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 26, 10), tick=False)
    c = promise(open_case(), agent)
    commitment_mark_kept(commitment=c, by=agent)
    statuses = set(
        Notification.objects.filter(dedupe_key__startswith=f"commitment:{c.pk}:due:").values_list(
            "status", flat=True
        )
    )
    assert statuses == {NotificationStatus.CANCELLED}


def test_next_due_at_follows_the_earliest_open_promise(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    first = Commitment.objects.get(case=case)
    later = promise(case, agent, due="3 business days")
    sooner = promise(case, agent, due="1 business hour")
    case.refresh_from_db()
    assert case.next_due_at == sooner.due_at
    commitment_mark_kept(commitment=sooner, by=agent)
    case.refresh_from_db()
    assert case.next_due_at == first.due_at
    commitment_mark_kept(commitment=first, by=agent)
    commitment_withdraw(commitment=later, by=agent, reason="You asked us not to call.")
    case.refresh_from_db()
    assert case.next_due_at is None


def test_an_ended_promise_cannot_end_again(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    c = promise(open_case(), agent)
    commitment_mark_kept(commitment=c, by=agent)
    with pytest.raises(CommitmentRuleError) as err:
        commitment_withdraw(commitment=c, by=agent, reason="Too late")
    assert (err.value.code, err.value.status_code) == ("commitment_not_open", 409)


def test_withdrawing_needs_a_reason_and_tells_the_customer(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    with pytest.raises(CommitmentRuleError) as err:
        commitment_withdraw(commitment=c, by=agent, reason="  ")
    assert err.value.code == "reason_required"
    commitment_withdraw(commitment=c, by=agent, reason="The refund was paid today.")
    (notice,) = notices("withdrawn")
    assert notice.context["reason"] == "The refund was paid today."
    assert reminder_times(c) == []


def test_renegotiating_links_a_successor_and_tells_the_customer_once(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="1 business day")
    new = commitment_renegotiate(
        commitment=c, by=agent, due="3 business days", reason="The part is back-ordered."
    )
    c.refresh_from_db()
    assert (c.status, c.successor) == (CommitmentStatus.RENEGOTIATED, new)
    assert new.description == c.description and new.status == CommitmentStatus.OPEN
    assert new.due_at == london(2026, 11, 30, 10)
    with pytest.raises(CommitmentRuleError):
        commitment_renegotiate(commitment=c, by=agent, due="4 business days", reason="Again")
    (notice,) = notices("renegotiated")
    assert notice.recipient_address == case.customer.email
    assert notice.context["reason"] == "The part is back-ordered."
    assert "Monday 30 November 2026, 05:00 EST" in notice.context["due_local"]
    ics = notice.attachments[0]
    assert ics["content_type"] == "text/calendar"
    event = icalendar.Calendar.from_ical(ics["content"]).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start == new.due_at
    assert start.utcoffset() == timedelta(hours=-5)
    assert start.tzinfo.key == "America/New_York"
    case.refresh_from_db()
    assert case.next_due_at == min(new.due_at, Commitment.objects.get(kind="first_response").due_at)
    assert reminder_times(c) == []


def test_renegotiating_needs_a_reason(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    c = promise(open_case(), agent)
    with pytest.raises(CommitmentRuleError) as err:
        commitment_renegotiate(commitment=c, by=agent, due="3 business days", reason="")
    assert err.value.code == "reason_required"
    c.refresh_from_db()
    assert c.is_open


def test_integrators_get_made_kept_and_missed_events(time_machine, open_case, agent, team):
    webhook_endpoint_register(
        scope=f"team:{team.pk}", url="https://hooks.example.com/in", secret="s" * 32
    )
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    kept = promise(case, agent)
    commitment_mark_kept(commitment=kept, by=agent)
    time_machine.move_to(london(2026, 11, 25, 17), tick=False)
    commitments_sweep_due()  # the first reply was due at 16:00
    hooks_sent = Notification.objects.filter(
        channel=NotificationChannel.WEBHOOK, template__startswith="commitment."
    ).order_by("pk")
    assert [(n.context["event"], n.context["data"]["status"]) for n in hooks_sent] == [
        ("commitment.made", "open"),  # the first reply
        ("commitment.made", "open"),
        ("commitment.kept", "kept"),
        ("commitment.made", "open"),  # the step after the missed first reply
        ("commitment.missed", "missed"),
    ]
    assert hooks_sent[2].context["data"]["id"] == kept.pk
    assert hooks_sent[2].context["data"]["case"] == case.ref
