"""An owner's task (a notice with no route to the customer) in the queue, the API and the page:
marked done when the call is made."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Contact, OwnerTask
from cases.services import case_open
from tests.factories import CustomerFactory, TeamFactory, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    team = TeamFactory()
    owner = make_agent(team)
    customer = CustomerFactory(email="", full_name="Mary Campbell", title="Mrs")
    case = case_open(customer=customer, team=team, channel="web", subject="Kettle", by=owner)
    return OwnerTask.objects.get(case=case)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_queue_api_lists_the_owners_open_tasks(task):
    body = api(task.case.owner).get("/api/v1/queue/").json()
    [row] = body["tasks"]
    assert row["id"] == task.pk and row["case"] == task.case.ref
    assert row["text"].startswith("Call Mary Campbell") and row["done_at"] is None
    assert row["reason"] == "customer has no email address (phone only)"


def test_done_through_the_api_records_the_call(task):
    answer = api(task.case.owner).post(
        f"/api/v1/tasks/{task.pk}/done/", {"summary": "Introduced myself."}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["done_by"]["id"] == task.case.owner_id
    contact = Contact.objects.get(pk=answer.json()["contact"])
    assert contact.summary == "Introduced myself." and contact.channel == "phone"
    assert api(task.case.owner).get("/api/v1/queue/").json()["tasks"] == []


def test_a_blank_summary_is_a_400_and_writes_nothing(task):
    answer = api(task.case.owner).post(f"/api/v1/tasks/{task.pk}/done/", {}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()) == {"code", "message", "fields"}
    assert "summary" in answer.json()["fields"]
    answer = api(task.case.owner).post(
        f"/api/v1/tasks/{task.pk}/done/", {"summary": "x", "channel": "fax"}, format="json"
    )
    assert answer.status_code == 400
    assert not Contact.objects.filter(case=task.case).exists()
    task.refresh_from_db()
    assert task.done_at is None


def test_another_teams_agent_gets_404(task):
    outsider = make_agent(TeamFactory())
    answer = api(outsider).post(f"/api/v1/tasks/{task.pk}/done/", {"summary": "x"}, format="json")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_the_queue_page_shows_the_call_and_its_button(task, django_assert_max_num_queries):
    client = Client()
    client.force_login(task.case.owner)
    page = client.get("/queue/").content.decode()
    assert "Calls to make (1)" in page and task.text in page
    assert f'action="/tasks/{task.pk}/done/"' in page
    answer = client.post(f"/tasks/{task.pk}/done/", {"summary": "Introduced myself."})
    assert answer.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.done_at <= timezone.now()
    assert "No calls to make." in client.get("/queue/").content.decode()


def test_the_case_timeline_shows_the_task_and_its_call(task):
    client = Client()
    client.force_login(task.case.owner)
    client.post(f"/tasks/{task.pk}/done/", {"summary": "Introduced myself."})
    page = client.get(f"/cases/{task.case.ref}/").content.decode()
    assert page.count(task.text) == 2  # made, then done
    assert "customer has no email address" in page and "Introduced myself." in page
