"""The queue's read path (statements written once, ``cases.queue_reads``) answers what the
documented serializers write for the same rows, field for field: cases with and without
promises, overdue, an erased customer, offers waiting, open tasks and covered cases. On
PostgreSQL it runs the bound statements; on SQLite the querysets as built."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from caseowner.bound import Refused, Statement
from cases import selectors
from cases.availability.services import absence_record
from cases.customers.erasure import customer_erase
from cases.handoffs import selectors as handoff_selectors
from cases.models import Case, OwnerTask
from cases.queue_api import OfferWaitingOut, OwnerTaskOut, QueueRowOut
from cases.task_services import owner_tasks_open
from tests.commitments.conftest import london, promise
from tests.factories import TeamFactory, make_agent, offer

MONDAY = london(2026, 3, 16, 10)
DURING = london(2026, 3, 18, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, agent, open_case):
    """Amelia's queue: her own cases (a promise due, one overdue, none, an erased customer),
    two offers waiting for her, an open task, and Oliver's cases she covers while he is
    away."""
    amelia = make_agent(team, display_name="Amelia Clarke")
    profile = agent.agent_profile
    profile.display_name, profile.backup_agent = "Oliver Bennett", amelia
    profile.save()
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    unnamed = make_agent(team, display_name="")
    with time_machine.travel(MONDAY, tick=False):
        covered = [open_case(subject=f"Oliver's case {n}") for n in range(2)]
        own = [open_case(owner=amelia, subject=f"Amelia's case {n}") for n in range(4)]
        promise(own[0], amelia, due="1 business day")
        Case.objects.filter(pk=own[1].pk).update(next_due_at=MONDAY - timedelta(hours=2))
        Case.objects.filter(pk=own[2].pk).update(next_due_at=None, awaiting_reply_since=MONDAY)
        customer_erase(customer=own[3].customer, by=staff)
        offer(open_case(owner=agent, subject="Offered by Oliver"), by=agent, to=amelia)
        offer(open_case(owner=unnamed, subject="Offered, no name"), by=unnamed, to=amelia)
        OwnerTask.objects.create(
            case=own[0],
            owner=amelia,
            text="Call Mrs Campbell on 07700 900021",
            reason="customer has no email address",
            source_template="cases/email/case_opened",
            dedupe_key="queue-reads",
            created_at=MONDAY,
        )
        absence_record(
            agent=agent, by=agent, starts_at=london(2026, 3, 17), ends_at=london(2026, 3, 20)
        )
    return {"amelia": amelia, "covered": covered, "own": own}


def _documented(user, now: datetime) -> dict:
    cases = list(selectors.queue_for(user=user))
    return {
        "count": len(cases),
        "results": [
            dict(r) for r in QueueRowOut(selectors.queue_rows(cases=cases, now=now), many=True).data
        ],
        "offers_waiting": [
            dict(r)
            for r in OfferWaitingOut(
                handoff_selectors.handoff_offers_waiting_for(user=user), many=True
            ).data
        ],
        "tasks": [dict(r) for r in OwnerTaskOut(owner_tasks_open(user=user), many=True).data],
    }


def test_the_queue_answers_what_the_documented_serializers_write(world):
    amelia = world["amelia"]
    client = APIClient()
    client.force_authenticate(amelia)
    with time_machine.travel(DURING, tick=False):
        now = timezone.now()
        body = client.get("/api/v1/queue/").json()
        documented = _documented(amelia, now)
    assert body["count"] == documented["count"] == 4
    assert body["results"] == documented["results"]
    assert (
        body["offers_waiting"] == documented["offers_waiting"] and len(body["offers_waiting"]) == 2
    )
    assert body["tasks"] == documented["tasks"] and len(body["tasks"]) == 1
    # the covered cases are read as before (``selectors.queue_covering``)
    covering = body["covering"]
    assert [s["owner"]["name"] for s in covering] == ["Oliver Bennett"]
    # his two cases and the one he offered Amelia
    assert covering[0]["count"] == 3 and {c["ref"] for c in covering[0]["cases"]} >= {
        c.ref for c in world["covered"]
    }
    results = body["results"]
    assert any(r["overdue"] for r in results)
    assert {r["customer_replied"] for r in results} == {True, False}
    assert {r["next_due_at"] is None for r in results} == {True, False}


def test_a_second_page_and_its_count_are_bound_not_rebuilt(world):
    client = APIClient()
    client.force_authenticate(world["amelia"])
    with time_machine.travel(DURING, tick=False):
        first = client.get("/api/v1/queue/", {"page_size": 3}).json()
        with CaptureQueriesContext(connection) as queries:
            second = client.get("/api/v1/queue/", {"page_size": 3, "page": 2}).json()
    assert first["count"] == second["count"] == 4
    assert [len(first["results"]), len(second["results"])] == [3, 1]
    assert len(queries) <= 8, "\n".join(str(q["sql"])[:200] for q in queries.captured_queries)


def test_a_statement_whose_sql_follows_an_input_is_refused():
    def build(user):
        # the user's id becomes part of the text, not a parameter
        return Case.objects.filter(owner=user).annotate(mark=Value(f"u{user.pk}")).values("mark")

    if connection.vendor != "postgresql":
        pytest.skip("statements are composed on PostgreSQL only (SQLite runs the queryset)")
    with pytest.raises(Refused):
        Statement(build, user="user").rows(user=make_agent())


def _documented_detail(user, case) -> dict:
    from cases.api import CaseDetailOut, EventOut, HandoffBriefOut, HistoryOut
    from commitments.selectors import commitment_as_dict, commitment_list

    detail = selectors.case_detail(user=user, case=case, timeline_limit=50)
    history_teams = {c.team_id for c in detail.history}
    team_ids = selectors.history_team_ids(user=user, history_team_ids=history_teams)
    return {
        **CaseDetailOut(case).data,
        "timeline": [dict(r) for r in EventOut(detail.timeline.events, many=True).data],
        "handoffs": [dict(r) for r in HandoffBriefOut(detail.handoffs, many=True).data],
        "customer_history": [
            dict(r)
            for r in HistoryOut(detail.history, many=True, context={"team_ids": team_ids}).data
        ],
        "commitments": [commitment_as_dict(c) for c in commitment_list(case=case)],
    }


def test_the_case_detail_answers_what_the_documented_serializers_write(world, open_case):
    """Every case of the world (offered, covered, with and without promises, an erased
    customer, a customer with earlier cases): the detail's own fields, timeline, hand-offs
    and history as the documented serializers write them for the same case."""
    amelia = world["amelia"]
    with time_machine.travel(MONDAY, tick=False):
        own = world["own"]
        again = open_case(owner=amelia, customer=own[0].customer, subject="Second kettle")
    client = APIClient()
    client.force_authenticate(amelia)
    cases = [*world["own"], *world["covered"], again, *Case.objects.filter(handoffs__isnull=False)]
    assert len(cases) >= 8
    with time_machine.travel(DURING, tick=False):
        for case in cases:
            case = selectors.case_get(user=amelia, ref=case.ref)
            body = client.get(f"/api/v1/cases/{case.ref}/").json()
            documented = _documented_detail(amelia, case)
            for key, value in documented.items():
                assert body[key] == value, (case.ref, key)
    assert body["handoffs"] and body["timeline"]
    assert any(client.get(f"/api/v1/cases/{c.ref}/").json()["commitments"] for c in cases)
    stranger = make_agent(TeamFactory())
    client.force_authenticate(stranger)
    assert client.get(f"/api/v1/cases/{cases[0].ref}/").status_code == 404
    client.force_authenticate(amelia)
    detail = client.get(f"/api/v1/cases/{again.ref}/").json()
    assert [h["ref"] for h in detail["customer_history"]] == [own[0].ref]
