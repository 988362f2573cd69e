"""My queue: my open cases by the next promise due, their flags, paging, a fixed number of
queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case, CaseStatus, OwnerTask
from commitments.services import commitment_create
from tests.factories import CaseFactory, offer
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_queue_lists_my_open_cases_by_next_promise_due(org):
    owner = org["owner"]
    later = CaseFactory(team=org["team"], owner=owner, subject="Later one")
    sooner = CaseFactory(team=org["team"], owner=owner, subject="Sooner one")
    Case.objects.filter(pk=later.pk).update(next_due_at=timezone.now() + timedelta(days=9))
    Case.objects.filter(pk=sooner.pk).update(next_due_at=timezone.now() + timedelta(minutes=5))
    CaseFactory(team=org["team"], owner=owner, subject="Closed one", status=CaseStatus.CLOSED)
    html = client_for(owner).get("/queue/").content.decode()
    assert html.index("Sooner one") < html.index("Charged twice") < html.index("Later one")
    assert "Closed one" not in html


def test_the_queue_flags_an_overdue_case(org):
    late = CaseFactory(team=org["team"], owner=org["owner"], subject="Late one")
    commitment_create(
        case=late,
        by=org["owner"],
        description="Call back within the hour.",
        kind="callback",
        due=timezone.now() + timedelta(hours=1),
    )
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        html = client_for(org["owner"]).get("/queue/").content.decode()
    row = html.split("Late one")[0].rsplit("<tr", 1)[1]
    assert 'class="overdue"' in row
    assert "badge overdue" in html.split("Late one")[1].split("</tr>")[0]


def test_the_queue_pages(org):
    for i in range(30):
        CaseFactory(team=org["team"], owner=org["owner"], subject=f"Bulk case {i}")
    first = client_for(org["owner"]).get("/queue/")
    assert "Page 1 of 2" in first.content.decode()
    second = client_for(org["owner"]).get("/queue/?page=2")
    assert second.status_code == 200 and "Page 2 of 2" in second.content.decode()


def _queue_queries(org, n: int, django_assert_max_num_queries) -> None:
    for i in range(n):
        case = CaseFactory(team=org["team"], owner=org["owner"], subject=f"Bulk {i}")
        offer(CaseFactory(team=org["team"]), to=org["owner"]) if i < 3 else None
        Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() + timedelta(hours=i))
        OwnerTask.objects.create(
            case=case,
            owner=org["owner"],
            text=f"Call {i}",
            reason="customer has no email address",
            source_template="cases/email/case_opened",
            dedupe_key=f"bulk:{i}",
            created_at=timezone.now(),
        )
    client = client_for(org["owner"])
    # one more than before for the calls to make (the owner's tasks), however many, and one
    # for the live part's stamp (cases.live)
    with django_assert_max_num_queries(10):
        assert client.get("/queue/").status_code == 200


@pytest.mark.parametrize("n", [1, 40])
def test_the_queue_runs_a_fixed_number_of_queries(org, n, django_assert_max_num_queries):
    _queue_queries(org, n, django_assert_max_num_queries)


def test_a_promise_on_a_case_reaches_the_queue_order(org):
    case = CaseFactory(team=org["team"], owner=org["owner"], subject="Urgent promise")
    commitment_create(
        case=case,
        by=org["owner"],
        description="Call back in ten minutes.",
        kind="callback",
        due=timezone.now() + timedelta(minutes=10),
    )
    html = client_for(org["owner"]).get("/queue/").content.decode()
    assert html.index("Urgent promise") < html.index("Charged twice")
