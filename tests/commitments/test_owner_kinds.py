"""The customer's promises and the owner's own follow-ups, apart: a hand-off check and a
recovery call are reminded to the owner and escalated to the managers when missed, and the
customer never hears of them; a missed promise is apologised for once, however its recovery
goes."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from cases import hooks
from cases.handoffs.services import handoff_accept, handoff_offer
from cases.models import CaseEvent
from commitments.errors import CommitmentRuleError
from commitments.models import (
    CUSTOMER_KINDS,
    OWNER_KINDS,
    PERSON_KINDS,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    PromiseEventKind,
)
from commitments.services import (
    commitment_create,
    commitment_mark_kept,
    commitment_renegotiate,
    commitment_withdraw,
)
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from tests.commitments.conftest import london, notices, promise
from tests.commitments.test_handoff import summary
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


def to_customer(case):
    return Notification.objects.filter(recipient_address=case.customer.email)


def accept_hand_off(case, by, to):
    open_ids = list(
        Commitment.objects.filter(case=case, status="open").values_list("pk", flat=True)
    )
    offer = handoff_offer(
        case=case,
        by=by,
        to=to,
        summary=summary(" ".join(f"Promise #{pk} is open." for pk in open_ids)),
        reason="shift_end",
        briefed_commitments=open_ids,
    )
    handoff_accept(handoff=offer, by=to)
    return Commitment.objects.get(case=case, kind=CommitmentKind.HANDOFF_CHECK)


def answered(case, agent):
    """The first reply went out: its promise is kept and nothing else is due."""
    commitment_mark_kept(
        commitment=Commitment.objects.get(case=case, kind="first_response"), by=agent
    )


def test_every_kind_is_either_the_customers_or_the_owners():
    assert CUSTOMER_KINDS | OWNER_KINDS == set(CommitmentKind.values)
    assert not CUSTOMER_KINDS & OWNER_KINDS
    assert OWNER_KINDS == {"handoff_check", "recovery"}
    assert not {k for k, _ in PERSON_KINDS} & (OWNER_KINDS | {"first_response"})


def test_a_forgotten_promise_whose_recovery_is_forgotten_too_apologises_once(
    time_machine, open_case, agent, manager
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    answered(case, agent)
    c = promise(case, agent, due="2 business hours")
    time_machine.move_to(london(2026, 11, 25, 12, 1), tick=False)
    commitments_sweep_due()
    c.refresh_from_db()
    recovery = c.successor
    assert (c.status, recovery.kind) == (CommitmentStatus.MISSED, CommitmentKind.RECOVERY)
    before = to_customer(case).count()
    # the recovery call is forgotten too, and days pass with the sweep running
    for hours in (0, 1, 24, 72):
        time_machine.move_to(recovery.due_at + timedelta(hours=hours, minutes=1), tick=False)
        commitments_sweep_due()
    recovery.refresh_from_db()
    assert recovery.status == CommitmentStatus.MISSED and recovery.successor is None
    assert to_customer(case).count() == before  # nothing more to the customer of any kind
    assert to_customer(case).filter(template="commitments/email/missed").count() == 1
    alerts = notices("missed_manager", recipient_address=manager.email)
    assert sorted(alerts.values_list("context__commitment_id", flat=True)) == sorted(
        [c.pk, recovery.pk]
    )
    missed_events = CaseEvent.objects.filter(case=case, kind=PromiseEventKind.COMMITMENT_MISSED)
    assert {e.data["commitment_id"] for e in missed_events} >= {c.pk, recovery.pk}


def test_a_missed_hand_off_check_brings_the_customer_nothing(
    time_machine, open_case, agent, manager, team
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    answered(case, agent)
    receiver = make_agent(team)
    before = to_customer(case).exclude(template__startswith="cases/").count()
    check = accept_hand_off(case, agent, receiver)
    assert check.owner == receiver and check.made_by is None
    assert check.description.startswith("Check with the customer that the hand-off to")
    assert not notices("commitment_made", context__commitment_id=check.pk).exists()
    time_machine.move_to(check.due_at + timedelta(minutes=1), tick=False)
    commitments_sweep_due()
    check.refresh_from_db()
    assert check.status == CommitmentStatus.MISSED and check.successor is None
    assert not Commitment.objects.filter(case=case, kind=CommitmentKind.RECOVERY).exists()
    # the introduction of the new owner is the hand-off's; nothing about the check
    assert to_customer(case).exclude(template__startswith="cases/").count() == before
    assert not to_customer(case).filter(context__commitment_id=check.pk).exists()
    alert = notices("missed_manager", context__commitment_id=check.pk).get()
    assert alert.recipient_address == manager.email
    assert (alert.context["owners_task"], alert.context["customer_apologised"]) == (True, False)
    assert CaseEvent.objects.filter(
        case=case, kind=PromiseEventKind.COMMITMENT_MISSED, data__commitment_id=check.pk
    ).exists()


def test_owner_kinds_are_not_on_the_customer_page(time_machine, open_case, agent, team):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = promise(case, agent, due="2 business hours")
    check = accept_hand_off(case, agent, make_agent(team))
    time_machine.move_to(london(2026, 11, 25, 12, 1), tick=False)
    commitments_sweep_due()
    c.refresh_from_db()
    case.refresh_from_db()
    shown = [p.description for p in hooks.collect_customer_promises(case)]
    assert check.description not in shown
    assert c.successor.description not in shown
    open_kinds = set(
        Commitment.objects.filter(case=case, status="open").values_list("kind", flat=True)
    )
    assert open_kinds >= {"handoff_check", "recovery"}


def test_renegotiating_or_withdrawing_an_owners_task_tells_the_customer_nothing(
    time_machine, open_case, agent, team
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    receiver = make_agent(team)
    check = accept_hand_off(case, agent, receiver)
    before = to_customer(case).count()
    later = commitment_renegotiate(
        commitment=check, by=receiver, due="2 business days", reason="The customer is away."
    )
    assert later.kind == CommitmentKind.HANDOFF_CHECK
    commitment_withdraw(commitment=later, by=receiver, reason="Spoke to them already.")
    assert to_customer(case).count() == before  # no delay notice, no iCalendar, no withdrawal


def test_a_person_cannot_record_an_owners_task(time_machine, open_case, agent, client_for):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    with pytest.raises(CommitmentRuleError) as exc:
        commitment_create(
            case=case, by=agent, description="Check in", kind="handoff_check", due="2 hours"
        )
    assert exc.value.code == "invalid_commitment"
    for kind in ("handoff_check", "recovery"):
        response = client_for(agent).post(
            f"/api/v1/cases/{case.ref}/commitments/",
            {"description": "Check in", "kind": kind, "within": "2 hours"},
            format="json",
        )
        assert response.status_code == 400
        assert "kind" in response.json()["fields"]
    assert not Commitment.objects.filter(case=case, kind__in=OWNER_KINDS).exists()


def test_the_data_migration_moves_the_products_follow_ups_to_the_owner_kinds(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    made = {}
    for text in (
        "Check with you that the hand-off to Aisha Bello worked",
        "Contact you personally about: Call you back about the refund",
        "Send you an update on the courier",
    ):
        made[text] = commitment_create(
            case=case,
            by=None,
            description=text,
            kind="update",
            due="2 hours",
            notify_customer=False,
        )
    by_person = commitment_create(
        case=case,
        by=agent,
        description="Contact you personally about: the delivery",
        kind="update",
        due="2 hours",
    )
    migration = importlib.import_module("commitments.migrations.0002_owner_kinds")
    migration.forwards(apps, None)
    rows = {c.pk: c for c in Commitment.objects.filter(case=case)}
    check = rows[made["Check with you that the hand-off to Aisha Bello worked"].pk]
    recovery = rows[made["Contact you personally about: Call you back about the refund"].pk]
    assert (check.kind, check.description) == (
        "handoff_check",
        "Check with the customer that the hand-off to Aisha Bello worked",
    )
    assert (recovery.kind, recovery.description) == (
        "recovery",
        "Call the customer personally about the missed promise: Call you back about the refund",
    )
    assert rows[made["Send you an update on the courier"].pk].kind == "update"
    assert rows[by_person.pk].kind == "update"  # a person's own words stay a customer's promise
    migration.backwards(apps, None)
    check.refresh_from_db()
    assert (check.kind, check.description) == (
        "update",
        "Check with you that the hand-off to Aisha Bello worked",
    )


def test_a_new_owners_introduction_lists_the_customers_promises_only(
    time_machine, open_case, agent, team
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    answered(case, agent)
    missed = promise(case, agent, due="2 business hours")
    time_machine.move_to(london(2026, 11, 25, 12, 1), tick=False)
    commitments_sweep_due()
    missed.refresh_from_db()
    waiting = promise(case, agent, due="3 business days")
    accept_hand_off(case, agent, make_agent(team))
    intro = Notification.objects.get(template="cases/email/handoff_introduction")
    listed = [p["description"] for p in intro.context["promises"]]
    assert listed == [waiting.description]
    assert missed.successor.description not in listed
