"""Missed promises: the due sweep, one apology, the managers' alert, the recovery step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from caseowner.celery import app
from cases.models import CaseEvent
from commitments.models import Commitment, CommitmentKind, CommitmentStatus, PromiseEventKind
from commitments.sweep import commitment_mark_missed, commitments_sweep_due
from commitments.tasks import sweep_due
from tests.commitments.conftest import (
    london,
    notices,
    pending,
    promise,
    queue_flags,
    reminder_times,
)

pytestmark = pytest.mark.django_db


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
    assert apology.context["next_due_local"]
    assert "next_description" not in apology.context  # the recovery task is in the owner's words
    alerts = notices("missed_manager", context__commitment_id=c.pk)
    assert [a.recipient_address for a in alerts] == [manager.email]
    assert CaseEvent.objects.filter(case=case, kind=PromiseEventKind.COMMITMENT_MISSED).count() == 2
    # the recovery step is the owner's own task, and the queue now orders by it
    recovery = c.successor
    assert recovery.status == CommitmentStatus.OPEN and recovery.made_by is None
    assert recovery.kind == CommitmentKind.RECOVERY
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


def test_the_periodic_task_runs_the_due_sweep(time_machine, open_case):
    assert app.tasks["commitments.sweep_due"].name == sweep_due.name == "commitments.sweep_due"
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    time_machine.move_to(london(2026, 11, 25, 16, 30), tick=False)
    assert sweep_due() == 1
    assert Commitment.objects.get(case=case, kind="first_response").status == "missed"
