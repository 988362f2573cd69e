"""Agents' availability over the API and in the admin: absences, the away switch, leaving,
and every new owner told once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases.handoffs.services import handoff_cancel
from cases.models import Absence, Case, CaseEvent
from cases.services import case_open
from notifications.models import Notification
from tests.cases.conftest import assert_error, client_for
from tests.factories import CaseFactory, CustomerFactory, UserFactory, offer

pytestmark = pytest.mark.django_db


def test_an_agent_records_lists_and_ends_an_absence(world):
    owner = world["owner"]
    api = client_for(owner)
    start = timezone.now() + timedelta(days=1)
    created = api.post(
        f"/api/v1/agents/{owner.pk}/absences/",
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=2)).isoformat()},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) >= {"id", "promises_due", "uncovered_cases", "managers_alerted"}
    listed = api.get(f"/api/v1/agents/{owner.pk}/absences/").json()
    assert [a["id"] for a in listed] == [body["id"]]
    ended = api.post(f"/api/v1/agents/{owner.pk}/absences/{body['id']}/end/")
    assert ended.status_code == 200 and ended.json()["ended_at"]
    assert_error(api.post(f"/api/v1/agents/{owner.pk}/absences/{body['id']}/end/"), 409)


def test_a_stranger_cannot_see_or_plan_an_agents_absences(world):
    api = client_for(world["outsider"])
    assert_error(api.get(f"/api/v1/agents/{world['owner'].pk}/absences/"), 404, "not_found")


def test_my_availability_and_the_away_switch(world):
    api = client_for(world["owner"])
    assert api.get("/api/v1/agents/me/availability/").json()["away_since"] is None
    body = api.post(
        "/api/v1/agents/me/availability/", {"away": True, "note": "Ill"}, format="json"
    ).json()
    assert body["away_since"] and body["available"] is False and body["next_available_at"] is None
    assert CaseEvent.objects.filter(case=world["case"], kind="cover_started").count() == 1


def test_deactivating_an_owner_of_open_cases_is_refused_on_the_api(world):
    api = client_for(world["manager"])
    body = assert_error(
        api.post(f"/api/v1/agents/{world['owner'].pk}/deactivate/"), 409, "agent_owns_open_cases"
    )
    assert body["fields"]["cases"] == [world["case"].ref]
    world["owner"].refresh_from_db()
    assert world["owner"].is_active


def test_an_agent_without_open_cases_is_deactivated(world):
    api = client_for(world["manager"])
    assert api.post(f"/api/v1/agents/{world['colleague'].pk}/deactivate/").status_code == 204
    world["colleague"].refresh_from_db()
    assert not world["colleague"].is_active


def test_an_agent_cannot_deactivate_themselves(world):
    api = client_for(world["colleague"])
    assert_error(api.post(f"/api/v1/agents/{world['colleague'].pk}/deactivate/"), 403)


def test_deactivating_an_owner_of_open_cases_is_refused_in_the_admin(world):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    owner = world["owner"]
    page = staff.get(f"/admin/auth/user/{owner.pk}/change/")
    assert page.status_code == 200
    form = {
        "username": owner.username,
        "first_name": owner.first_name,
        "last_name": owner.last_name,
        "email": owner.email,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        # is_active left out: unticked
    }
    response = staff.post(f"/admin/auth/user/{owner.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the error
    assert world["case"].ref in response.content.decode()
    owner.refresh_from_db()
    assert owner.is_active
    colleague = world["colleague"]
    form.update(username=colleague.username, email=colleague.email)
    response = staff.post(f"/admin/auth/user/{colleague.pk}/change/", form)
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_active


def test_the_agent_the_rule_picks_is_told_once(world):
    team = world["team"]
    case = case_open(
        customer=CustomerFactory(),
        team=team,
        channel="email",
        subject="Broken",
        by=world["manager"],
    )
    told = Notification.objects.filter(template="cases/email/case_assigned")
    assert list(told.values_list("recipient_address", flat=True)) == [case.owner.email]
    # a case opened with a named owner: nobody is told by rule
    case_open(
        customer=CustomerFactory(),
        team=team,
        channel="email",
        subject="Also broken",
        by=world["owner"],
        owner=world["owner"],
    )
    assert told.count() == 1


def test_the_rule_skips_agents_who_are_away(world):
    team = world["team"]
    for user in (world["owner"], world["receiver"]):
        Absence.objects.create(
            agent=user,
            starts_at=timezone.now() - timedelta(hours=1),
            ends_at=timezone.now() + timedelta(days=1),
            created_by=user,
        )
    for _ in range(3):
        case = case_open(
            customer=CustomerFactory(), team=team, channel="email", subject="X", by=world["manager"]
        )
        assert case.owner_id == world["colleague"].pk


def test_the_receiver_of_an_offer_is_told_at_once_and_of_its_cancellation(world):
    case = CaseFactory(team=world["team"], owner=world["owner"])
    handoff = offer(case, to=world["receiver"])
    offered = Notification.objects.filter(template="cases/email/handoff_offered")
    assert list(offered.values_list("recipient_address", flat=True)) == [world["receiver"].email]
    assert handoff.next_step in str(offered.get().context)
    handoff_cancel(handoff=handoff, by=world["owner"])
    cancelled = Notification.objects.filter(template="cases/email/handoff_cancelled")
    assert list(cancelled.values_list("recipient_address", flat=True)) == [world["receiver"].email]
    assert Case.objects.get(pk=case.pk).owner_id == world["owner"].pk
