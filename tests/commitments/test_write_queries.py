"""The two writes agents make all day cost a bounded number of round trips, through the API
as integrators call it (token authentication): offer + accept a hand-off, and create + keep
a promise. The counts hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from caseowner.process_cache import ProcessCache
from commitments import calendar_services
from commitments.models import Commitment
from commitments.services import commitment_create
from notifications import webhooks
from tests.commitments.conftest import london
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

# What every write reads and a long-running process keeps (``caseowner.process_cache``).
KEPT: tuple[ProcessCache, ...] = (calendar_services._ROWS, webhooks._ACTIVE)

# Offer + accept with one promise carried, in a process that has read the team's calendar and
# webhook endpoints before (``caseowner.process_cache``): 87 before the outbox rows and the
# carried promises were written in batches, 65 before each service call wrote its outbox rows
# in one go (``outbox_batch``: accept queued four batches of three statements) and read the
# agent's absences once (four times before); the service locks the case the view read and
# keeps its people (``lock_case(read=…)``); 47 before the offer read the receiver with its
# profile and created the hand-off without a savepoint, and accept locked the case and the
# hand-off each in one statement keeping the people the view read (``lock_handoff(read=…)``).
# Create + keep: 49, then 37, then 27 before keep's lock kept the case the view read; on
# PostgreSQL one more: the agent's lock the notice limits count under
# (``customer_notice_limit_lock``). Then 41 and 26 before the views answered with the rows
# the services return (no second read) and a promise made set the case's next due time
# without reading the others' earliest; 38 before the offer read the open offer and the
# ping-pong flag in one statement and accept took the carried promises' generations from the
# rows it locked. 36 and 25 before: a new token read the user's teams with it (none read per
# request after); on PostgreSQL a service call's outbox rows took one statement, not three,
# and the notice limits counted and wrote the ledger row in one; the service read the case
# (the promise) for the user under its lock, no read in the view before (``lock_visible_case``,
# ``lock_visible``); keep and accept locked the case and their row in one statement
# (``lock_with_case``); ending a promise due after the case's next due time reads no earliest,
# and on PostgreSQL saves the promise and cancels its reminders in one statement.
# SQLite: the outbox's three statements, two for ending a promise, and no advisory lock.
POSTGRES = connection.vendor == "postgresql"
OFFER_ACCEPT_MAX = 28 if POSTGRES else 32
CREATE_KEEP_MAX = 15 if POSTGRES else 18

SUMMARY = {
    "customer_needs": "The customer needs a working kettle before the family visit next week.",
    "actions_taken": "I checked the order history and booked a courier collection for Monday.",
    "customer_expectations": "They expect the callback promised about the replacement model.",
    "next_step": "Confirm the replacement model with the warehouse and call the customer back.",
}


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _show(captured: CaptureQueriesContext) -> str:
    return "\n".join(f"{i + 1}. {q['sql'][:300]}" for i, q in enumerate(captured.captured_queries))


@pytest.fixture
def warm():
    """The process has read the calendar and endpoints before; the rows the fixtures made
    count as committed (a change in an open transaction is never kept: a rollback would
    leave it behind). Afterwards every process cache is dropped, as after a change."""

    def warm_up(team) -> None:
        for kept in KEPT:
            kept._pending().clear()
        calendar_services.business_calendar_of(type(team).objects.get(pk=team.pk))
        webhooks.webhook_endpoints_active(f"team:{team.pk}")

    yield warm_up
    for kept in KEPT:
        kept.changed()


@pytest.fixture
def now(time_machine):
    moment = london(2026, 11, 25, 10)
    time_machine.move_to(moment, tick=False)
    return moment


def test_offer_and_accept_of_a_hand_off_with_promises_stays_within_its_queries(
    now, open_case, agent, team, warm
):
    case = open_case()
    commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="2 business days"
    )
    receiver = make_agent(team)
    briefed = list(Commitment.objects.filter(case=case, status="open").values_list("id", flat=True))
    sender_api, receiver_api = token_client(agent), token_client(receiver)
    warm(case.team)

    with CaptureQueriesContext(connection) as offer_queries:
        offer = sender_api.post(
            f"/api/v1/cases/{case.ref}/handoffs/",
            {
                "to_agent": receiver.pk,
                "reason": "workload",
                **SUMMARY,
                "briefed_commitments": briefed,
            },
            format="json",
        )
    assert offer.status_code == 201, offer.json()
    offered = _show(offer_queries)  # a later request starts a new log
    with CaptureQueriesContext(connection) as accept_queries:
        accepted = receiver_api.post(f"/api/v1/handoffs/{offer.json()['id']}/accept/")
    assert accepted.status_code == 200, accepted.json()

    total = len(offer_queries) + len(accept_queries)
    if os.environ.get("SHOW_QUERIES"):
        print(f"\nOFFER {len(offer_queries)}\n{offered}")
        print(f"\nACCEPT {len(accept_queries)}\n{_show(accept_queries)}")
    assert total <= OFFER_ACCEPT_MAX, offered + "\n---\n" + _show(accept_queries)
    # both answers are built from the rows the services hold: the same as a read gives
    after = receiver_api.get(f"/api/v1/cases/{case.ref}/handoffs/").json()["results"][0]
    assert accepted.json() == after
    assert offer.json() == {
        **after,
        **{key: None for key in ("decided_at", "quality_score")},
        "status": "offered",
    }


def test_create_and_keep_of_a_promise_stays_within_its_queries(now, open_case, agent, warm):
    case = open_case()
    api = token_client(agent)
    warm(case.team)

    with CaptureQueriesContext(connection) as create_queries:
        made = api.post(
            f"/api/v1/cases/{case.ref}/commitments/",
            {"description": "Call you back", "kind": "callback", "within": "2 business days"},
            format="json",
        )
    assert made.status_code == 201, made.json()
    with CaptureQueriesContext(connection) as keep_queries:
        kept = api.post(f"/api/v1/commitments/{made.json()['id']}/keep/")
    assert kept.status_code == 200, kept.json()

    total = len(create_queries) + len(keep_queries)
    if os.environ.get("SHOW_QUERIES"):
        print(f"\nCREATE {len(create_queries)}\n{_show(create_queries)}")
        print(f"\nKEEP {len(keep_queries)}\n{_show(keep_queries)}")
    assert total <= CREATE_KEEP_MAX, _show(create_queries) + "\n---\n" + _show(keep_queries)
