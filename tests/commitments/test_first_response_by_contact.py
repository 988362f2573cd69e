"""The first contact to the customer keeps the first-response promise: no click."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from cases.conversations.services import NewContact, contact_record, contact_reply_send
from commitments.models import Commitment, CommitmentKind, CommitmentStatus
from tests.commitments.conftest import london

pytestmark = pytest.mark.django_db

OPENED = london(2026, 12, 1, 10, 0)


def first_response(case):
    return Commitment.objects.get(case=case, kind=CommitmentKind.FIRST_RESPONSE)


def test_the_first_reply_keeps_the_first_response_promise(open_case, agent):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(channel="email")
    with time_machine.travel(OPENED + timedelta(hours=2), tick=False):
        contact_reply_send(case=case, by=agent, body="Dear customer, here is the answer.")
    promise = first_response(case)
    assert promise.status == CommitmentStatus.KEPT
    assert promise.ended_by == agent
    assert promise.ended_at == OPENED + timedelta(hours=2)
    case.refresh_from_db()
    assert case.next_due_at is None


def test_a_logged_call_keeps_it_too_and_says_whether_on_time(open_case, agent):
    from cases.models import CaseEvent

    with time_machine.travel(OPENED, tick=False):
        case = open_case(channel="email")
    late = first_response(case).due_at + timedelta(minutes=5)
    with time_machine.travel(late, tick=False):
        contact = contact_record(
            case=case,
            contact=NewContact(direction="to_customer", channel="phone", summary="Called back"),
            by=agent,
        ).contact
    kept = CaseEvent.objects.get(case=case, kind="commitment_kept")
    assert kept.data["by_contact"] == contact.pk and kept.data["on_time"] is False


def test_a_message_from_the_customer_keeps_nothing(open_case, agent):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(channel="email")
        contact_record(
            case=case,
            contact=NewContact(direction="from_customer", channel="email", body="Any news?"),
            by=None,
        )
    assert first_response(case).status == CommitmentStatus.OPEN


def test_an_automatic_message_keeps_nothing(open_case, agent):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(channel="email")
        contact_record(
            case=case,
            contact=NewContact(
                direction="to_customer", channel="email", body="auto", auto_submitted=True
            ),
            by=agent,
        )
    assert first_response(case).status == CommitmentStatus.OPEN


def test_a_later_contact_changes_no_other_promise(open_case, agent):
    from tests.commitments.conftest import promise

    with time_machine.travel(OPENED, tick=False):
        case = open_case(channel="email")
        callback = promise(case, agent)
        for summary in ("First call", "Second call"):
            contact_record(
                case=case,
                contact=NewContact(direction="to_customer", channel="phone", summary=summary),
                by=agent,
            )
    callback.refresh_from_db()
    assert callback.status == CommitmentStatus.OPEN
    assert Commitment.objects.filter(case=case, status=CommitmentStatus.KEPT).count() == 1
