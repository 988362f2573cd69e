"""The header's search box, the results page, the customer record page (correct, merge,
undo) and the intake page offering a customer already on file."""

from __future__ import annotations

import re

import pytest

from cases.models import Case, CaseEvent, Customer, EventKind
from tests.factories import CaseFactory, CustomerFactory
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


def test_every_staff_page_has_the_search_box(org):
    html = client_for(org["owner"]).get("/queue/").content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html


def test_the_results_page_lists_customers_with_their_open_cases(org, django_assert_max_num_queries):
    client = client_for(org["owner"])
    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "Grace Hoper"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/customers/{org["customer"].pk}/"' in html
    assert org["case"].ref in html and "Ada Owner" in html


def test_a_reference_finds_the_case(org):
    html = client_for(org["owner"]).get("/search/", {"q": str(org["case"].pk)}).content.decode()
    assert f'href="/cases/{org["case"].ref}/"' in html


def test_the_customer_page_shows_details_and_cases(org):
    html = client_for(org["owner"]).get(f"/customers/{org['customer'].pk}/").content.decode()
    assert "07700 900123" in html  # the stored +447700900123, nationally
    assert org["case"].ref in html and "Correct their details" in html


def test_a_correction_from_the_page_reaches_the_timeline(org):
    response = client_for(org["owner"]).post(
        f"/customers/{org['customer'].pk}/edit/",
        {
            "full_name": "Grace Brewster Hopper",
            "title": "Dr",
            "addressed_as": "Dr Hopper",
            "email": org["customer"].email,
            "phone": "07700 900124",
            "preferred_channel": "email",
            "time_zone": "Asia/Tokyo",
            "language": "en",
        },
    )
    assert response.status_code == 302
    event = CaseEvent.objects.get(case=org["case"], kind=EventKind.CUSTOMER_UPDATED)
    assert set(event.data["changes"]) == {"full_name", "phone"}


def test_an_unreadable_phone_on_the_page_says_why(org):
    response = client_for(org["owner"]).post(
        f"/customers/{org['customer'].pk}/edit/",
        {
            "full_name": "Grace Hopper",
            "phone": "call me",
            "preferred_channel": "email",
            "time_zone": "UTC",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert "include the country code" in response.content.decode()


def test_a_manager_merges_from_the_page_and_undoes_it(org):
    duplicate = CustomerFactory(full_name="G. Hopper")
    moved = CaseFactory(team=org["team"], customer=duplicate)
    client = client_for(org["manager"])
    response = client.post(f"/customers/{org['customer'].pk}/merge/", {"other": duplicate.pk})
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.customer == org["customer"]
    # The tombstone redirects to the survivor.
    response = client.get(f"/customers/{duplicate.pk}/")
    assert (
        response.status_code == 302 and response["Location"] == f"/customers/{org['customer'].pk}/"
    )
    html = client.get(f"/customers/{org['customer'].pk}/").content.decode()
    assert "Undo this merge" in html
    response = client.post(f"/customers/{duplicate.pk}/unmerge/")
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.customer == duplicate


def _intake(org, **extra):
    return client_for(org["owner"]).post(
        "/cases/new/",
        {
            "new_name": "Grace H.",
            "new_phone": "+44 (0)7700 900123",
            "new_time_zone": "Europe/London",
            "team": org["team"].pk,
            "channel": "phone",
            "subject": "Meter reading",
            "priority": "normal",
            **extra,
        },
    )


def test_intake_of_a_known_phone_offers_the_customer_on_file(org):
    response = _intake(org)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Already a customer" in html and f"Open the case for {org['customer'].full_name}" in html
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert hidden["customer"] == str(org["customer"].pk) and hidden["subject"] == "Meter reading"
    assert not Case.objects.filter(subject="Meter reading").exists()


def test_intake_of_a_different_person_creates_a_new_record(org):
    response = _intake(org, new_different_person="on")
    assert response.status_code == 302
    assert Customer.objects.filter(phone="+447700900123").count() == 2
