"""Offers left waiting: a reminder to the receiver, then escalation to the team's managers, at
the right business time, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cases import hooks
from cases.handoffs import services as hs
from cases.handoffs import sweep
from cases.models import CaseEvent, EventKind, Handoff
from cases.tasks import sweep_handoff_offers
from notifications.models import Notification
from tests.factories import CaseFactory, make_manager, offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]

MONDAY_4PM = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def office_hours(team, start, duration):
    """A small Mon–Fri 09:00–17:00 UTC calendar, standing in for the team's calendar."""
    moment, remaining = start, duration
    while True:
        day_open = moment.replace(hour=9, minute=0, second=0, microsecond=0)
        day_close = moment.replace(hour=17, minute=0, second=0, microsecond=0)
        if moment.weekday() >= 5 or moment >= day_close:
            moment = (day_open + timedelta(days=1)).replace(hour=9)
            continue
        moment = max(moment, day_open)
        if moment + remaining <= day_close:
            return moment + remaining
        remaining -= day_close - moment
        moment = day_open + timedelta(days=1)


def kinds(case):
    return list(
        CaseEvent.objects.filter(
            case=case, kind__in=[EventKind.HANDOFF_REMINDED, EventKind.HANDOFF_ESCALATED]
        )
        .order_by("id")
        .values_list("kind", "at")
    )


def test_the_reminder_and_escalation_follow_business_hours(world):
    managers = [world["manager"], make_manager(world["team"])]
    hooks.business_time_add.append(office_hours)
    with time_machine.travel(MONDAY_4PM, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    # one working hour left on Monday, one more from Tuesday 09:00
    remind_at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    escalate_at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert (handoff.remind_at, handoff.escalate_at) == (remind_at, escalate_at)

    with time_machine.travel(remind_at - timedelta(seconds=1), tick=False):
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 0, "expired": 0}
    with time_machine.travel(remind_at, tick=False):
        assert sweep_handoff_offers() == {"reminded": 1, "escalated": 0, "expired": 0}
    with time_machine.travel(escalate_at - timedelta(seconds=1), tick=False):
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 0, "expired": 0}
    with time_machine.travel(escalate_at, tick=False):
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 1, "expired": 0}

    assert kinds(world["case"]) == [
        (EventKind.HANDOFF_REMINDED, remind_at),
        (EventKind.HANDOFF_ESCALATED, escalate_at),
    ]
    reminder = Notification.objects.get(dedupe_key=f"handoff:{handoff.pk}:reminder")
    assert reminder.recipient_address == world["receiver"].email
    assert reminder.recipient_kind == "agent"
    escalations = Notification.objects.filter(template="cases/email/handoff_escalation")
    assert sorted(n.recipient_address for n in escalations) == sorted(m.email for m in managers)
    assert {n.recipient_kind for n in escalations} == {"manager"}


def test_without_a_calendar_plain_time_is_used(world):
    with time_machine.travel(MONDAY_4PM, tick=False):
        offer(world["case"], to=world["receiver"])
    with time_machine.travel(MONDAY_4PM + timedelta(minutes=119), tick=False):
        assert sweep_handoff_offers()["reminded"] == 0
    with time_machine.travel(MONDAY_4PM + timedelta(minutes=120), tick=False):
        assert sweep_handoff_offers()["reminded"] == 1
    with time_machine.travel(MONDAY_4PM + timedelta(minutes=240), tick=False):
        assert sweep_handoff_offers()["escalated"] == 1


def test_running_the_sweep_again_does_nothing_more(world):
    with time_machine.travel(MONDAY_4PM, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    with time_machine.travel(MONDAY_4PM + timedelta(days=1), tick=False):
        # both due at once (the sweep was down): reminder and escalation in one pass
        assert sweep_handoff_offers() == {"reminded": 1, "escalated": 1, "expired": 0}
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 0, "expired": 0}
        assert sweep.handoff_remind_or_escalate(handoff_id=handoff.pk) == []
    assert len(kinds(world["case"])) == 2
    # the receiver's reminder and the escalation to the team's one manager, once each (besides
    # the notice of the offer itself)
    sent = Notification.objects.filter(dedupe_key__startswith=f"handoff:{handoff.pk}:").exclude(
        dedupe_key=f"handoff:{handoff.pk}:offered:receiver"
    )
    assert sent.count() == 2


def test_a_decided_offer_is_never_reminded(world):
    with time_machine.travel(MONDAY_4PM, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
        hs.handoff_cancel(handoff=handoff, by=world["owner"])
    with time_machine.travel(MONDAY_4PM + timedelta(days=1), tick=False):
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 0, "expired": 0}
    assert kinds(world["case"]) == []


def test_the_teams_setting_decides_the_wait(world):
    world["team"].handoff_accept_minutes = 30
    world["team"].save()
    with time_machine.travel(MONDAY_4PM, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    assert handoff.remind_at == MONDAY_4PM + timedelta(minutes=30)
    assert handoff.escalate_at == MONDAY_4PM + timedelta(minutes=60)


def test_one_failing_offer_does_not_stop_the_others(world, monkeypatch):
    other_case = CaseFactory(team=world["team"], owner=world["owner"])
    with time_machine.travel(MONDAY_4PM, tick=False):
        first = offer(world["case"], to=world["receiver"])
        second = offer(other_case, to=world["receiver"])
    real = sweep.handoff_remind_or_escalate

    def flaky(*, handoff_id):
        if handoff_id == first.pk:
            raise RuntimeError("boom")
        return real(handoff_id=handoff_id)

    monkeypatch.setattr("cases.tasks.handoff_remind_or_escalate", flaky)
    with time_machine.travel(MONDAY_4PM + timedelta(minutes=120), tick=False):
        assert sweep_handoff_offers() == {"reminded": 1, "escalated": 0, "expired": 0}
    assert Handoff.objects.get(pk=second.pk).reminded_at is not None
    assert Handoff.objects.get(pk=first.pk).reminded_at is None


def test_an_offer_on_a_closed_case_expires_instead_of_reminding(world):
    with time_machine.travel(MONDAY_4PM, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    world["case"].__class__.objects.filter(pk=world["case"].pk).update(status="closed")
    with time_machine.travel(MONDAY_4PM + timedelta(days=1), tick=False):
        assert sweep_handoff_offers() == {"reminded": 0, "escalated": 0, "expired": 1}
    assert Handoff.objects.get(pk=handoff.pk).status == "expired"
    assert kinds(world["case"]) == []
    assert not Notification.objects.filter(dedupe_key__startswith=f"handoff:{handoff.pk}:").exclude(
        dedupe_key=f"handoff:{handoff.pk}:offered:receiver"
    )
