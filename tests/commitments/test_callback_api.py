"""Callbacks over the API: the customer's link (no login; their own case only) and the staff
(a case they may see; booking by those who may change it), with fixed query counts."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from cases.customers.links import make_customer_token
from commitments.models import CommitmentKind
from commitments.services import commitment_mark_kept
from tests.commitments.conftest import london, pending
from tests.factories import TeamFactory, make_agent

MONDAY_9 = london(2026, 12, 7, 9, 0)
TUESDAY_10 = london(2026, 12, 8, 10, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY_9, tick=False):
        yield


@pytest.fixture
def case(open_case):
    return open_case()


def _customer(case) -> str:
    return f"/api/v1/customer/{make_customer_token(case_id=case.pk, generation=1)}"


def test_the_customer_reads_the_slots_in_a_fixed_number_of_queries(
    case, django_assert_max_num_queries
):
    # the case by its token; the calendar, its closed days, absences and bookings in one
    with django_assert_max_num_queries(4):
        answer = APIClient().get(f"{_customer(case)}/callback-slots/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["time_zone"] == "America/New_York" and body["slot_minutes"] == 30
    assert body["slots"][0]["starts_at"] == "2026-12-07T11:00:00Z"
    assert body["slots"][0]["cover"] is False


def test_the_customer_books_moves_and_cancels(case):
    client = APIClient()
    base = _customer(case)
    booked = client.post(f"{base}/callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json")
    assert booked.status_code == 201
    assert booked.json()["callback"]["starts_at"] == "2026-12-08T10:00:00Z"
    again = client.post(f"{base}/callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json")
    assert again.status_code == 409 and again.json()["code"] == "callback_booked"
    moved = client.post(
        f"{base}/callbacks/move/", {"starts_at": london(2026, 12, 9, 15).isoformat()}, "json"
    )
    assert moved.status_code == 200
    assert client.get(f"{base}/callbacks/").json()["callback"]["starts_at"] == (
        "2026-12-09T15:00:00Z"
    )
    assert client.post(f"{base}/callbacks/cancel/").status_code == 200
    assert client.get(f"{base}/callbacks/").json() == {"callback": None}
    nothing = client.post(f"{base}/callbacks/cancel/")
    assert nothing.status_code == 404 and nothing.json()["code"] == "no_callback"


def test_bad_input_is_a_4xx_with_the_field_named(case):
    client = APIClient()
    base = _customer(case)
    naive = client.post(f"{base}/callbacks/", {"starts_at": "tomorrow"}, "json")
    assert naive.status_code == 400 and "starts_at" in naive.json()["fields"]
    early = client.post(
        f"{base}/callbacks/", {"starts_at": london(2026, 12, 7, 9, 30).isoformat()}, "json"
    )
    assert early.status_code == 409 and early.json()["code"] == "slot_unavailable"


def test_a_bad_or_revoked_token_sees_nothing(case):
    stale = f"/api/v1/customer/{make_customer_token(case_id=case.pk, generation=0)}"
    assert APIClient().get(f"{stale}/callback-slots/").status_code == 404
    assert APIClient().get("/api/v1/customer/forged/callback-slots/").status_code == 404
    post = APIClient().post(f"{stale}/callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json")
    assert post.status_code == 404


def test_staff_book_for_the_customer_within_their_permissions(
    case, agent, team, client_for, django_assert_max_num_queries
):
    url = f"/api/v1/cases/{case.ref}/"
    outsider = make_agent(TeamFactory())
    assert client_for(outsider).get(f"{url}callback-slots/").status_code == 404
    colleague = make_agent(team)
    refused = client_for(colleague).post(
        f"{url}callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json"
    )
    assert refused.status_code == 403
    owner = client_for(agent)
    with django_assert_max_num_queries(6):  # who may see it, the case, the slots' three
        assert owner.get(f"{url}callback-slots/").status_code == 200
    booked = owner.post(f"{url}callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json")
    assert booked.status_code == 201
    cancelled = owner.post(f"{url}callbacks/cancel/", {"reason": "Fixed by email"}, "json")
    assert cancelled.status_code == 200
    assert case.commitments.get(kind=CommitmentKind.CALLBACK).end_reason == "Fixed by email"


def test_the_held_promise_shows_on_the_owners_queue_with_reminders(case, agent, client_for):
    first_reply = case.commitments.get(kind=CommitmentKind.FIRST_RESPONSE)
    commitment_mark_kept(commitment=first_reply, by=agent)
    APIClient().post(f"{_customer(case)}/callbacks/", {"starts_at": TUESDAY_10.isoformat()}, "json")
    promise = case.commitments.get(kind=CommitmentKind.CALLBACK)
    reminders = pending(f"commitment:{promise.pk}:due:")
    assert reminders.exists() and {n.recipient_address for n in reminders} == {agent.email}
    rows = client_for(agent).get("/api/v1/queue/").json()["results"]
    row = next(r for r in rows if r["ref"] == case.ref)
    assert row["next_due_at"] == "2026-12-08T10:30:00Z"  # the callback, due at the slot's end
