"""Commitment services: due times, reminders, endings, notices, hand-offs and closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from cases import hooks
from cases.hooks import PromiseBrief, QueueFlags
from cases.models import CaseEvent, CaseStatus
from cases.services import case_change_status
from commitments.errors import CommitmentRuleError
from commitments.models import Commitment, CommitmentKind, CommitmentStatus, PromiseEventKind
from commitments.selectors import queue_flags
from commitments.services import (
    commitment_confirm_on_track,
    commitment_create,
    commitment_mark_kept,
    commitment_mark_missed,
    commitment_renegotiate,
    commitment_withdraw,
    commitments_sweep_due,
)
from notifications.models import NotificationStatus
from tests.commitments.conftest import london, notices, pending
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def promise(case, by, due="2 business days", kind=CommitmentKind.CALLBACK, **kwargs):
    return commitment_create(
        case=case, by=by, description="Call you back about the refund", kind=kind, due=due, **kwargs
    )


def reminder_times(commitment):
    return [
        (n.template.rsplit("/", 1)[-1], n.send_after)
        for n in pending(f"commitment:{commitment.pk}:due:")
    ]


# --- making a promise ---------------------------------------------------------------------------


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


# --- ending a promise -------------------------------------------------------------------------


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


# --- at risk, missed ------------------------------------------------------------------------------


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


def test_a_missed_promise_apologises_once_and_alerts_the_manager_once(
    time_machine, open_case, agent, manager
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    Commitment.objects.filter(case=case).update(due_at=london(2026, 11, 25, 11))
    c = promise(case, agent, due="2 business hours")
    time_machine.move_to(london(2026, 11, 25, 12, 5), tick=False)
    assert queue_flags([case.pk])[case.pk].overdue is True
    assert commitments_sweep_due() == 2  # the first reply and the callback
    assert commitments_sweep_due() == 0
    assert commitment_mark_missed(commitment=c) is False
    c.refresh_from_db()
    assert c.status == CommitmentStatus.MISSED and c.ended_at == london(2026, 11, 25, 12, 5)
    apologies = notices("missed", context__commitment_id=c.pk)
    assert apologies.count() == 1
    apology = apologies.get()
    assert apology.recipient_address == case.customer.email
    assert apology.context["owner"]["email"] == agent.agent_profile.direct_email
    assert apology.context["owner"]["phone"] == agent.agent_profile.direct_phone
    assert apology.context["next_description"].startswith("Contact you personally about:")
    alerts = notices("missed_manager", context__commitment_id=c.pk)
    assert [a.recipient_address for a in alerts] == [manager.email]
    assert CaseEvent.objects.filter(case=case, kind=PromiseEventKind.COMMITMENT_MISSED).count() == 2
    # the recovery step is itself a promise, and the queue now orders by it
    recovery = c.successor
    assert recovery.status == CommitmentStatus.OPEN and recovery.made_by is None
    case.refresh_from_db()
    assert case.next_due_at == recovery.due_at


def test_a_missed_recovery_step_does_not_chain_another(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="2 business hours")
    time_machine.move_to(london(2026, 11, 25, 12, 1), tick=False)
    commitment_mark_missed(commitment=c)
    c.refresh_from_db()
    time_machine.move_to(c.successor.due_at + timedelta(minutes=1), tick=False)
    commitments_sweep_due()
    c.successor.refresh_from_db()
    assert c.successor.status == CommitmentStatus.MISSED
    assert c.successor.successor is None


def test_missing_cancels_pending_reminders(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    c = promise(open_case(), agent, due=london(2026, 11, 27, 10))
    time_machine.move_to(london(2026, 11, 27, 10), tick=False)
    # the at-risk alert was due an hour ago and is still pending (no worker ran)
    commitments_sweep_due()
    assert reminder_times(c) == []
    assert pending(f"commitment:{c.pk}:due:").count() == 0


# --- the seams with cases ------------------------------------------------------------------------


def test_promises_follow_the_case_on_hand_off(time_machine, open_case, agent, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="3 business days")
    old_keys = set(pending(f"commitment:{c.pk}:due:").values_list("dedupe_key", flat=True))
    new_owner = make_agent(team)
    time_machine.move_to(london(2026, 11, 25, 15), tick=False)
    case.owner = new_owner
    case.save(update_fields=["owner"])
    hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 15))
    c.refresh_from_db()
    assert c.owner == new_owner
    moved = list(pending(f"commitment:{c.pk}:due:"))
    assert {n.recipient_address for n in moved} == {new_owner.email}
    assert [n.send_after for n in moved] == [london(2026, 11, 27, 10), london(2026, 11, 30, 9)]
    assert not set(n.dedupe_key for n in moved) & old_keys
    assert not pending(f"commitment:{c.pk}:due:", recipient_address=agent.email).exists()
    follow_up = Commitment.objects.get(case=case, description__startswith="Check with you")
    assert follow_up.owner == new_owner
    assert follow_up.due_at == london(2026, 11, 26, 15)


def test_a_hand_off_back_to_the_first_owner_reschedules_again(time_machine, open_case, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    first_owner = case.owner
    c = promise(case, first_owner, due="3 business days")
    for owner in (make_agent(team), first_owner):
        case.owner = owner
        case.save(update_fields=["owner"])
        hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 11))
    assert {n.recipient_address for n in pending(f"commitment:{c.pk}:due:")} == {first_owner.email}
    assert pending(f"commitment:{c.pk}:due:").count() == 2


def test_resolving_keeps_first_response_promises(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=agent)
    first = Commitment.objects.get(case=case)
    assert (first.status, first.end_reason) == (CommitmentStatus.KEPT, "Case resolved.")
    case.refresh_from_db()
    assert case.next_due_at is None
    assert pending(f"commitment:{first.pk}:due:").count() == 0


def test_a_case_cannot_close_over_an_open_callback(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    with pytest.raises(CommitmentRuleError) as err:
        case_change_status(case=case, status=CaseStatus.CLOSED, by=agent)
    assert (err.value.code, err.value.status_code) == ("open_commitments", 409)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    commitment_mark_kept(commitment=c, by=agent)
    case_change_status(case=case, status=CaseStatus.CLOSED, by=agent)


def test_open_promises_are_briefed_for_a_hand_off(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent)
    brief = hooks.collect_open_commitments(case)
    assert brief[-1] == PromiseBrief(id=c.pk, description=c.description, due_at=c.due_at)


def test_case_detail_lists_promises_in_one_query(
    time_machine, open_case, agent, django_assert_max_num_queries
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    for _ in range(5):
        promise(case, agent)
    with django_assert_max_num_queries(1):
        extras = hooks.collect_detail_extras(case, agent)
    assert len(extras["commitments"]) == 6


def test_queue_flags_take_one_query(time_machine, open_case, django_assert_num_queries):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    cases = [open_case() for _ in range(3)]
    time_machine.move_to(london(2026, 11, 27, 10), tick=False)
    with django_assert_num_queries(1):
        flags = queue_flags([c.pk for c in cases])
    assert all(f == QueueFlags(overdue=True, at_risk=False) for f in flags.values())


def test_pending_statuses_are_cancelled_not_deleted(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 26, 10), tick=False)
    c = promise(open_case(), agent)
    commitment_mark_kept(commitment=c, by=agent)
    from notifications.models import Notification

    statuses = set(
        Notification.objects.filter(dedupe_key__startswith=f"commitment:{c.pk}:due:").values_list(
            "status", flat=True
        )
    )
    assert statuses == {NotificationStatus.CANCELLED}


def test_resolving_after_a_hand_off_keeps_the_products_own_follow_up(time_machine, open_case, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    new_owner = make_agent(team)
    case.owner = new_owner
    case.save(update_fields=["owner"])
    hooks.run(hooks.handoff_accepted, case=case, handoff=None, now=london(2026, 11, 25, 10))
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=new_owner)
    assert set(Commitment.objects.filter(case=case).values_list("status", flat=True)) == {
        CommitmentStatus.KEPT
    }


def test_integrators_get_made_kept_and_missed_events(time_machine, open_case, agent, team):
    from notifications.models import Notification, NotificationChannel
    from notifications.services import webhook_endpoint_register

    webhook_endpoint_register(
        scope=f"team:{team.pk}", url="https://hooks.example.com/in", secret="s" * 32
    )
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    kept = promise(case, agent)
    commitment_mark_kept(commitment=kept, by=agent)
    time_machine.move_to(london(2026, 11, 25, 17), tick=False)
    commitments_sweep_due()  # the first reply was due at 16:00
    hooks_sent = Notification.objects.filter(channel=NotificationChannel.WEBHOOK).order_by("pk")
    assert [(n.context["event"], n.context["data"]["status"]) for n in hooks_sent] == [
        ("commitment.made", "open"),  # the first reply
        ("commitment.made", "open"),
        ("commitment.kept", "kept"),
        ("commitment.made", "open"),  # the step after the missed first reply
        ("commitment.missed", "missed"),
    ]
    assert hooks_sent[2].context["data"]["id"] == kept.pk
    assert hooks_sent[2].context["data"]["case"] == case.ref


def test_lead_times_before_an_instant_are_real_hours_across_a_dst_change(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 3, 27, 10), tick=False)
    c = promise(open_case(), agent, due=london(2026, 3, 29, 12))  # Sunday, BST since 01:00
    assert [(k, t.astimezone(UTC)) for k, t in reminder_times(c)] == [
        ("reminder", datetime(2026, 3, 28, 11, tzinfo=UTC)),  # 24 real hours before
        ("at_risk", datetime(2026, 3, 29, 10, tzinfo=UTC)),
    ]


def test_the_periodic_task_runs_the_due_sweep(time_machine, open_case):
    from caseowner.celery import app
    from commitments.tasks import sweep_due

    assert app.tasks["commitments.sweep_due"].name == sweep_due.name == "commitments.sweep_due"
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    time_machine.move_to(london(2026, 11, 25, 16, 30), tick=False)
    assert sweep_due() == 1
    assert Commitment.objects.get(case=case, kind="first_response").status == "missed"
