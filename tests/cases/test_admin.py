"""The back office shows cases, hand-offs and reviews but changes none of them: those changes
go through the services, which check them and record them on the timeline."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import Case, CaseEvent, HandoffReview
from tests.factories import HandoffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_case_is_shown_read_only(staff, world):
    response = staff.get(f"/admin/cases/case/{world['case'].pk}/change/")
    assert response.status_code == 200
    assert 'name="priority"' not in response.content.decode()


def test_a_case_edit_posted_to_the_admin_changes_nothing(staff, world):
    case = world["case"]
    response = staff.post(
        f"/admin/cases/case/{case.pk}/change/",
        {"team": world["other"].pk, "priority": "urgent", "subject": "Changed"},
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert (case.team, case.priority) == (world["team"], "normal")
    assert not CaseEvent.objects.filter(case=case).exists()


def test_cases_and_reviews_cannot_be_added_in_the_admin(staff, world):
    assert staff.get("/admin/cases/case/add/").status_code == 403
    handoff = HandoffFactory(case=world["case"])
    response = staff.post(
        "/admin/cases/handoffreview/add/",
        {
            "handoff": handoff.pk,
            "reviewer": world["manager"].pk,
            "context_complete": 5,
            "next_step_clear": 5,
            "commitments_carried": 5,
            "customer_informed": 5,
        },
    )
    assert response.status_code == 403
    assert not HandoffReview.objects.exists()
    assert Case.objects.count() == 1
