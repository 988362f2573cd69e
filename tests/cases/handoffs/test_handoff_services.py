"""Hand-off services: who may do what, ownership moving at once, flags and the score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from cases import hooks
from cases.errors import CaseRuleError
from cases.handoffs import gate, sweep
from cases.handoffs import services as hs
from cases.handoffs.gate import HandoffRubric
from cases.handoffs.outcomes import handoff_customer_acknowledge, handoff_review
from cases.hooks import PromiseBrief
from cases.models import Case, CaseEvent, EventKind, Handoff, HandoffReview, HandoffStatus
from notifications.models import Notification
from tests.factories import (
    HandoffFactory,
    good_summary,
    make_agent,
    offer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def events(case, kind):
    return list(CaseEvent.objects.filter(case=case, kind=kind))


# --- offering ---------------------------------------------------------------------------------


def test_it_keeps_owner_until_offer_accepted(world):
    handoff = offer(world["case"], to=world["receiver"])
    case = Case.objects.get(pk=world["case"].pk)
    assert case.owner == world["owner"]
    assert case.owner_count == 1
    assert handoff.status == HandoffStatus.OFFERED
    assert handoff.from_agent == world["owner"] and handoff.offered_by == world["owner"]
    [event] = events(case, EventKind.HANDOFF_OFFERED)
    assert (
        event.data["handoff_id"] == handoff.pk and event.data["to_agent_id"] == world["receiver"].pk
    )


def test_a_manager_offers_on_behalf_of_the_owner(world):
    handoff = offer(world["case"], by=world["manager"], to=world["receiver"])
    assert handoff.from_agent == world["owner"]
    assert handoff.offered_by == world["manager"]


def test_a_colleague_cannot_offer_someone_elses_case(world):
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], by=world["colleague"], to=world["receiver"])
    assert (caught.value.code, caught.value.status_code) == ("handoff_not_allowed", 403)


def test_it_refuses_a_handoff_to_oneself(world):
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["owner"])
    assert caught.value.code == "handoff_to_self"
    assert "to_agent" in caught.value.fields


def test_it_refuses_an_inactive_receiver(world):
    world["receiver"].is_active = False
    world["receiver"].save()
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["receiver"])
    assert caught.value.code == "handoff_receiver_inactive"


def test_the_owner_cannot_hand_off_outside_the_team(world):
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["outsider"])
    assert caught.value.code == "handoff_receiver_not_in_team"


def test_a_manager_cannot_hand_off_to_a_team_they_do_not_manage(world):
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], by=world["manager"], to=world["outsider"])
    assert caught.value.code == "handoff_receiver_not_in_team"


def test_a_manager_reassigns_across_teams_they_manage(world):
    world["other"].managers.add(world["manager"])
    world["manager"]._caseowner_managed_ids = None
    handoff = offer(
        world["case"], by=world["manager"], to=world["outsider"], reason="manager_reassignment"
    )
    assert handoff.to_team == world["other"]
    hs.handoff_accept(handoff=handoff, by=world["outsider"])
    case = Case.objects.get(pk=world["case"].pk)
    assert (case.owner, case.team) == (world["outsider"], world["other"])


def test_an_offer_carries_the_case_team(world):
    handoff = offer(world["case"], to=world["receiver"])
    assert Handoff.objects.get(pk=handoff.pk).team == world["team"]


def test_a_reassignment_across_teams_moves_every_hand_off_of_the_case(world):
    """The audit and the reports filter hand-offs on their own team: the case's earlier
    hand-offs move with it, in the acceptance's transaction."""
    earlier = HandoffFactory(case=world["case"], to_agent=world["receiver"])
    world["other"].managers.add(world["manager"])
    world["manager"]._caseowner_managed_ids = None
    handoff = offer(
        world["case"], by=world["manager"], to=world["outsider"], reason="manager_reassignment"
    )
    assert Handoff.objects.get(pk=handoff.pk).team == world["team"]
    hs.handoff_accept(handoff=handoff, by=world["outsider"])
    teams = dict(Handoff.objects.filter(case=world["case"]).values_list("pk", "team_id"))
    assert teams == {earlier.pk: world["other"].pk, handoff.pk: world["other"].pk}


def test_only_one_open_offer_per_case(world):
    offer(world["case"], to=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["colleague"])
    assert (caught.value.code, caught.value.status_code) == ("handoff_already_open", 409)


def test_a_closed_case_cannot_be_offered(world):
    Case.objects.filter(pk=world["case"].pk).update(status="closed")
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["receiver"])
    assert caught.value.code == "case_not_open"


def test_an_unknown_reason_is_refused(world):
    with pytest.raises(CaseRuleError) as caught:
        offer(world["case"], to=world["receiver"], reason="bored")
    assert caught.value.code == "invalid_handoff_reason"


# --- accepting, declining, cancelling ---------------------------------------------------------


def test_acceptance_moves_owner_timeline_and_introduction_together(world):
    seen = []
    hooks.handoff_accepted.append(
        lambda case, handoff, now: seen.append((case.owner_id, handoff.status))
    )
    handoff = offer(world["case"], to=world["receiver"])
    with time_machine.travel(T0, tick=False):
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    case = Case.objects.get(pk=world["case"].pk)
    assert case.owner == world["receiver"]
    assert case.owner_since == T0
    assert case.owner_count == 2
    handoff.refresh_from_db()
    assert (handoff.status, handoff.decided_at) == (HandoffStatus.ACCEPTED, T0)
    assert seen == [(world["receiver"].pk, HandoffStatus.ACCEPTED)]
    [event] = events(case, EventKind.HANDOFF_ACCEPTED)
    assert event.data["from_agent_id"] == world["owner"].pk
    intro = Notification.objects.get(dedupe_key=f"handoff:{handoff.pk}:introduction")
    assert intro.recipient_address == case.customer.email
    assert intro.template == "cases/email/handoff_introduction"
    profile = world["receiver"].agent_profile
    assert intro.context["owner"]["email"] == profile.direct_email
    assert intro.context["owner"]["phone"] == profile.direct_phone
    assert intro.context["previous_owner_name"] == world["owner"].agent_profile.display_name


def test_a_failing_hook_leaves_everything_as_it_was(world):
    def moves_commitments(case, handoff, now):
        CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=now, data={"moved": True})

    def breaks(case, handoff, now):
        raise RuntimeError("commitments store unavailable")

    hooks.handoff_accepted.extend([moves_commitments, breaks])
    handoff = offer(world["case"], to=world["receiver"])
    before = CaseEvent.objects.count(), Notification.objects.count()
    with pytest.raises(RuntimeError):
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    case = Case.objects.get(pk=world["case"].pk)
    assert (case.owner, case.owner_count) == (world["owner"], 1)
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.OFFERED
    assert (CaseEvent.objects.count(), Notification.objects.count()) == before


@pytest.mark.parametrize("who", ["owner", "colleague", "manager"])
def test_only_the_receiver_accepts(world, who):
    handoff = offer(world["case"], to=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_accept(handoff=handoff, by=world[who])
    assert (caught.value.code, caught.value.status_code) == ("handoff_not_receiver", 403)


def test_a_decided_offer_cannot_be_accepted_again(world):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    assert (caught.value.code, caught.value.status_code) == ("handoff_not_open", 409)


def test_declining_needs_a_reason_and_keeps_the_owner(world):
    handoff = offer(world["case"], to=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_decline(handoff=handoff, by=world["receiver"], reason="  ")
    assert caught.value.code == "decline_reason_required"
    hs.handoff_decline(handoff=handoff, by=world["receiver"], reason="No billing access yet.")
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.DECLINED
    assert handoff.decline_reason == "No billing access yet."
    assert Case.objects.get(pk=world["case"].pk).owner == world["owner"]
    assert events(world["case"], EventKind.HANDOFF_DECLINED)
    # the case can be offered again
    offer(world["case"], to=world["colleague"])


def test_only_the_receiver_declines(world):
    handoff = offer(world["case"], to=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_decline(handoff=handoff, by=world["colleague"], reason="not mine")
    assert caught.value.code == "handoff_not_receiver"


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_the_offerer_or_a_manager_cancels(world, who):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_cancel(handoff=handoff, by=world[who])
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.CANCELLED
    assert events(world["case"], EventKind.HANDOFF_CANCELLED)


@pytest.mark.parametrize("who", ["receiver", "colleague"])
def test_others_cannot_cancel(world, who):
    handoff = offer(world["case"], to=world["receiver"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_cancel(handoff=handoff, by=world[who])
    assert caught.value.code == "handoff_not_offerer"


def test_a_cancelled_offer_cannot_be_accepted(world):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_cancel(handoff=handoff, by=world["owner"])
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    assert caught.value.code == "handoff_not_open"
    assert Case.objects.get(pk=world["case"].pk).owner == world["owner"]


# --- ping-pong --------------------------------------------------------------------------------


def _pass(case, to):
    handoff = offer(case, to=to)
    hs.handoff_accept(handoff=handoff, by=to)
    return Case.objects.get(pk=case.pk)


def test_back_to_a_previous_owner_within_seven_days_is_flagged(world):
    with time_machine.travel(T0, tick=False):
        case = _pass(world["case"], world["receiver"])
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        back = offer(case, to=world["owner"])
    assert back.flags == [gate.FLAG_BACK_TO_PREVIOUS_OWNER]


def test_back_to_a_previous_owner_after_seven_days_is_not_flagged(world):
    with time_machine.travel(T0, tick=False):
        case = _pass(world["case"], world["receiver"])
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        back = offer(case, to=world["owner"])
    assert back.flags == []


def test_the_fourth_owner_is_flagged(world):
    case = _pass(world["case"], world["receiver"])  # second owner
    case = _pass(case, world["colleague"])  # third owner
    fourth = make_agent(world["team"])
    handoff = offer(case, to=fourth)
    assert gate.FLAG_FOURTH_OWNER in handoff.flags
    hs.handoff_accept(handoff=handoff, by=fourth)
    assert Case.objects.get(pk=case.pk).owner_count == 4


def test_a_third_owner_is_not_flagged(world):
    case = _pass(world["case"], world["receiver"])
    handoff = offer(case, to=world["colleague"])
    assert handoff.flags == []


# --- review, acknowledgement and the automatic score -------------------------------------------


def test_a_manager_reviews_a_decided_handoff_once(world):
    handoff = offer(world["case"], to=world["receiver"])
    rubric = HandoffRubric(4, 5, 3, 4)
    with pytest.raises(CaseRuleError) as caught:
        handoff_review(handoff=handoff, by=world["manager"], rubric=rubric)
    assert caught.value.code == "handoff_not_decided"
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    review = handoff_review(handoff=handoff, by=world["manager"], rubric=rubric, comment=" ok ")
    assert (review.context_complete, review.comment) == (4, "ok")
    with pytest.raises(CaseRuleError) as caught:
        handoff_review(handoff=handoff, by=world["manager"], rubric=rubric)
    assert caught.value.code == "handoff_already_reviewed"


@pytest.mark.parametrize("who", ["owner", "receiver", "colleague"])
def test_only_managers_review(world, who):
    handoff = HandoffFactory(case=world["case"])
    with pytest.raises(CaseRuleError) as caught:
        handoff_review(handoff=handoff, by=world[who], rubric=HandoffRubric(3, 3, 3, 3))
    assert (caught.value.code, caught.value.status_code) == ("handoff_review_not_manager", 403)


def test_review_scores_are_one_to_five(world):
    handoff = HandoffFactory(case=world["case"])
    with pytest.raises(CaseRuleError) as caught:
        handoff_review(handoff=handoff, by=world["manager"], rubric=HandoffRubric(0, 3, 6, 3))
    assert caught.value.code == "invalid_review_scores"
    assert set(caught.value.fields) == {"context_complete", "commitments_carried"}
    assert not HandoffReview.objects.exists()


def test_the_score_rewards_quick_acceptance_and_the_customers_acknowledgement(world):
    long = good_summary(**{f: getattr(good_summary(), f) * 2 for f in gate.SUMMARY_FIELDS})
    with time_machine.travel(T0, tick=False):
        handoff = offer(world["case"], to=world["receiver"], summary=long)
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    handoff.refresh_from_db()
    # depth 30 + no commitments 10 + accepted before the reminder 20 + nothing missed 20
    assert handoff.quality_score == 80
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        acknowledged = handoff_customer_acknowledge(case=world["case"])
    assert acknowledged.pk == handoff.pk
    assert acknowledged.customer_acknowledged_at == T0 + timedelta(hours=5)
    assert acknowledged.quality_score == 100
    [event] = events(world["case"], EventKind.OWNER_ACKNOWLEDGED)
    assert event.actor is None


def test_a_slow_acceptance_scores_lower(world):
    with time_machine.travel(T0, tick=False):
        handoff = offer(world["case"], to=world["receiver"])  # summary at the minimum: depth 15
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    handoff.refresh_from_db()
    assert handoff.quality_score == 15 + 10 + 10 + 20


def test_acknowledging_twice_changes_nothing(world):
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    first = handoff_customer_acknowledge(case=world["case"])
    second = handoff_customer_acknowledge(case=world["case"])
    assert first.customer_acknowledged_at == second.customer_acknowledged_at
    assert len(events(world["case"], EventKind.OWNER_ACKNOWLEDGED)) == 1


def test_nothing_to_acknowledge_without_a_handoff(world):
    assert handoff_customer_acknowledge(case=world["case"]) is None
    assert not events(world["case"], EventKind.OWNER_ACKNOWLEDGED)


def test_a_carried_commitment_missed_later_flags_the_handoff(world, monkeypatch):
    monkeypatch.setattr(
        hooks,
        "open_commitments",
        [lambda case: [PromiseBrief(id=7, description="Refund by Friday", due_at=timezone.now())]],
    )
    handoff = offer(world["case"], to=world["receiver"], briefed_commitments=[7])
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    score = Handoff.objects.get(pk=handoff.pk).quality_score
    assert sweep.handoff_record_commitment_missed(case_id=world["case"].pk, commitment_id=8) is None
    flagged = sweep.handoff_record_commitment_missed(case_id=world["case"].pk, commitment_id=7)
    assert flagged.flags == [gate.FLAG_CARRIED_COMMITMENT_MISSED]
    assert flagged.quality_score == score - 20


def test_offer_times_reminder_and_escalation_with_the_business_time_hook(world):
    calls = []

    def next_day(team, start, duration):
        calls.append((team.pk, start, duration))
        return start + timedelta(days=1)

    hooks.business_time_add.append(next_day)
    with time_machine.travel(T0, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    assert handoff.remind_at == T0 + timedelta(days=1)
    assert handoff.escalate_at == T0 + timedelta(days=2)
    assert calls[0] == (world["team"].pk, T0, timedelta(minutes=120))


def test_without_a_calendar_the_offer_waits_plain_time(world):
    with time_machine.travel(T0, tick=False):
        handoff = offer(world["case"], to=world["receiver"])
    assert handoff.remind_at == T0 + timedelta(minutes=120)
    assert handoff.escalate_at == T0 + timedelta(minutes=240)
    assert timezone.is_aware(handoff.remind_at)


def test_an_offer_on_a_case_closed_meanwhile_cannot_be_accepted(world):
    handoff = offer(world["case"], to=world["receiver"])
    Case.objects.filter(pk=world["case"].pk).update(status="resolved")
    with pytest.raises(CaseRuleError) as caught:
        hs.handoff_accept(handoff=handoff, by=world["receiver"])
    assert caught.value.code == "case_not_open"


def test_closing_a_case_expires_its_waiting_offer(world):
    handoff = offer(world["case"], to=world["receiver"])
    with time_machine.travel(T0, tick=False):
        expired = sweep.handoff_on_case_closed(case=world["case"], by=world["owner"], now=T0)
    assert expired.pk == handoff.pk
    handoff.refresh_from_db()
    assert (handoff.status, handoff.decided_at) == (HandoffStatus.EXPIRED, T0)
    assert events(world["case"], EventKind.HANDOFF_EXPIRED)
    assert sweep.handoff_on_case_closed(case=world["case"], by=world["owner"], now=T0) is None


def test_acceptance_tells_integrators_the_owner_changed(world):
    from notifications.webhooks import webhook_endpoint_register

    webhook_endpoint_register(
        scope=f"team:{world['team'].pk}",
        url="https://hooks.example.com/caseowner",
        secret="s" * 20,
    )
    handoff = offer(world["case"], to=world["receiver"])
    hs.handoff_accept(handoff=handoff, by=world["receiver"])
    [hook] = Notification.objects.filter(channel="webhook", template="case.owner_changed")
    assert hook.context["data"]["case"] == world["case"].ref
    assert hook.context["data"]["owner"]["id"] == world["receiver"].pk
    assert hook.dedupe_key.startswith(f"handoff:{handoff.pk}:owner_changed")
