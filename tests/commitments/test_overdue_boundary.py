"""A promise due at 10:00 is overdue at 10:00:00 exactly, on every surface: the queue (API
and page), the case (API and page), the dashboard's count and its link, the missed sweep and
the commitments report. One second earlier it is nowhere overdue. Kept at that instant (before
the sweep reached it) it was still kept by its due time: on time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from cases.models import Case
from cases.payloads import queue_payload, queue_values
from cases.selectors import queue_rows
from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_mark_kept
from commitments.sweep import commitments_sweep_due
from reports.selectors import team_today
from tests.commitments.conftest import london, promise

pytestmark = pytest.mark.django_db

DUE = london(2026, 11, 2, 10)
BEFORE = DUE - timedelta(seconds=1)


@pytest.fixture
def due_case(time_machine, open_case, agent):
    """A case whose only open promise is due at 10:00 on Monday 2 November 2026."""
    time_machine.move_to(london(2026, 11, 2, 8), tick=False)
    case = open_case()
    Commitment.objects.filter(case=case).update(status=CommitmentStatus.KEPT, ended_at=DUE)
    commitment = promise(case, agent, due=DUE)
    case.refresh_from_db()
    assert case.next_due_at == DUE
    return case, commitment


def page(user, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("moment", "overdue"), [(BEFORE, False), (DUE, True)])
def test_the_queue_api_flags_a_promise_overdue_at_its_exact_due_instant(
    due_case, time_machine, client_for, agent, moment, overdue
):
    time_machine.move_to(moment, tick=False)
    (row,) = client_for(agent).get("/api/v1/queue/").json()["results"]
    assert row["overdue"] is overdue
    assert row["at_risk"] is not overdue  # inside its last reminder lead time until then


@pytest.mark.parametrize(("moment", "overdue"), [(BEFORE, False), (DUE, True)])
def test_the_queue_page_flags_a_promise_overdue_at_its_exact_due_instant(
    due_case, time_machine, agent, moment, overdue
):
    time_machine.move_to(moment, tick=False)
    html = page(agent, "/queue/")
    assert ('class="overdue' in html or " overdue" in html.split("<tbody", 1)[1]) is overdue


@pytest.mark.parametrize(("moment", "overdue"), [(BEFORE, False), (DUE, True)])
def test_a_case_without_an_answering_app_is_overdue_at_its_exact_due_instant(
    due_case, moment, overdue
):
    """The case core's own rule (no app answers for the case: its promise was closed behind
    the queue's back), for the queue page's rows and the queue API's payload alike."""
    case, commitment = due_case
    Commitment.objects.filter(pk=commitment.pk).update(
        status=CommitmentStatus.WITHDRAWN, ended_at=BEFORE, end_reason="Not needed."
    )
    (row,) = queue_rows(cases=[Case.objects.get(pk=case.pk)], now=moment)
    assert row.overdue is overdue
    (payload,) = queue_payload(list(queue_values(Case.objects.filter(pk=case.pk))), now=moment)
    assert payload["overdue"] is overdue


@pytest.mark.parametrize(("moment", "overdue"), [(BEFORE, False), (DUE, True)])
def test_the_case_api_and_page_show_a_promise_overdue_at_its_exact_due_instant(
    due_case, time_machine, client_for, agent, moment, overdue
):
    case, commitment = due_case
    time_machine.move_to(moment, tick=False)
    body = client_for(agent).get(f"/api/v1/cases/{case.ref}/commitments/").json()
    rows = body["results"] if isinstance(body, dict) else body
    (row,) = [r for r in rows if r["id"] == commitment.pk]
    assert row["overdue"] is overdue
    html = page(agent, f"/cases/{case.ref}/")
    assert ('code="overdue"' in html or ">overdue<" in html) is overdue


@pytest.mark.parametrize(("moment", "overdue"), [(BEFORE, 0), (DUE, 1)])
def test_the_dashboard_counts_and_lists_a_promise_overdue_at_its_exact_due_instant(
    due_case, time_machine, team, manager, moment, overdue
):
    time_machine.move_to(moment, tick=False)
    today = team_today(team=team, now=moment)
    assert (today.overdue, today.due_soon) == (overdue, 1 - overdue)
    html = page(manager, f"/manage/?team={team.pk}")
    overdue_link = html.split("overdue</a>", 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    listed = page(manager, overdue_link.replace("&amp;", "&"))
    assert ("Call you back about the refund" in listed) is bool(overdue)


def test_the_sweep_marks_a_promise_missed_at_its_exact_due_instant(due_case, time_machine):
    _, commitment = due_case
    time_machine.move_to(BEFORE, tick=False)
    assert commitments_sweep_due() == 0
    time_machine.move_to(DUE, tick=False)
    assert commitments_sweep_due() == 1
    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.MISSED


def report(client) -> dict:
    response = client.get("/api/v1/reports/commitments/?from=2026-11-02&to=2026-11-02")
    (team,) = response.json()["teams"]
    return team


@pytest.mark.parametrize(("moment", "on_time"), [(DUE, 1), (DUE + timedelta(seconds=1), 0)])
def test_the_commitments_report_counts_a_promise_kept_at_its_due_instant_as_on_time(
    due_case, time_machine, client_for, agent, manager, moment, on_time
):
    _, commitment = due_case
    time_machine.move_to(moment, tick=False)
    commitment_mark_kept(commitment=commitment, by=agent)
    team = report(client_for(manager))
    # the first reply (kept at 10:00, before its 14:00 due time) and this promise
    assert (team["kept"], team["kept_on_time"], team["missed"]) == (2, 1 + on_time, 0)


def test_the_commitments_report_counts_a_promise_swept_at_its_due_instant_as_missed(
    due_case, time_machine, client_for, manager
):
    time_machine.move_to(DUE, tick=False)
    commitments_sweep_due()
    team = report(client_for(manager))
    assert (team["kept"], team["kept_on_time"], team["missed"]) == (1, 1, 1)
