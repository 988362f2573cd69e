"""Promises on the case page: recording, keeping, renegotiating and withdrawing them through
the commitments services."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from commitments.models import Commitment, CommitmentStatus
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


def test_recording_a_promise_in_business_time_calls_the_service(org):
    response = client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {
            "description": "Refund confirmed by email.",
            "kind": "refund",
            "within": "2 business days",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Commitment.objects.get(description="Refund confirmed by email.")
    assert made.made_in_business_time and made.owner == org["owner"]


def test_a_due_time_on_the_form_is_read_in_the_teams_time_zone(org):
    due = (timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    london = due.astimezone(zoneinfo.ZoneInfo("Europe/London"))
    client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {
            "description": "Delivery slot confirmed.",
            "kind": "delivery",
            "due_at": london.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Commitment.objects.get(description="Delivery slot confirmed.").due_at == due


def test_an_unreadable_span_shows_the_services_field_error(org):
    response = client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {"description": "Something soon.", "kind": "update", "within": "soonish"},
    )
    assert response.status_code == 400
    assert "Write e.g. “2 business days” or “4 business hours”." in response.content.decode()


def test_keeping_a_promise_calls_the_service(org):
    client_for(org["owner"]).post(f"/commitments/{org['promise'].pk}/keep/")
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.KEPT


def test_renegotiating_a_promise_creates_its_successor(org):
    response = client_for(org["owner"]).post(
        f"/commitments/{org['promise'].pk}/renegotiate/",
        {"within": "5 business days", "reason": "Billing needs another day to approve it."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.RENEGOTIATED
    assert org["promise"].successor is not None


def test_withdrawing_needs_a_reason(org):
    response = client_for(org["owner"]).post(
        f"/commitments/{org['promise'].pk}/withdraw/", {"reason": ""}
    )
    assert response.status_code == 400
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.OPEN


def test_another_teams_promise_is_not_found(org):
    response = client_for(org["outsider"]).post(f"/commitments/{org['promise'].pk}/keep/")
    assert response.status_code == 404


def test_a_colleague_cannot_keep_the_owners_promise(org):
    client_for(org["colleague"]).post(f"/commitments/{org['promise'].pk}/keep/")
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.OPEN
