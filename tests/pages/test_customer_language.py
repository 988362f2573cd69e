"""A customer's language is set where their case opens, and only to one the product writes in
(``settings.LANGUAGES``): on the page, in the API and in a correction (400 with a code)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases.customers.services import CustomerChanges, customer_update
from cases.errors import CaseRuleError
from cases.models import Case, Customer
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


def new_case_form(org, **fields):
    return {
        "new_name": "Jonas Weber",
        "new_email": "jw@example.org",
        "new_time_zone": "Europe/Berlin",
        "team": org["team"].pk,
        "channel": "email",
        "subject": "Rechnung doppelt",
        "priority": "normal",
        **fields,
    }


def test_the_new_case_form_sets_the_customers_language(org):
    page = client_for(org["owner"]).get("/cases/new/").content.decode()
    assert 'name="new_language"' in page
    response = client_for(org["owner"]).post("/cases/new/", new_case_form(org, new_language="de"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.get(subject="Rechnung doppelt").customer.language == "de"


def test_the_new_case_form_refuses_a_language_the_product_cannot_write(org):
    response = client_for(org["owner"]).post(
        "/cases/new/", new_case_form(org, new_language="Klingon")
    )
    assert response.status_code == 400  # the form again, with the field's error
    assert "new_language" in response.content.decode()
    assert not Case.objects.filter(subject="Rechnung doppelt").exists()


def test_the_api_refuses_a_language_the_product_cannot_write(org):
    client = APIClient()
    client.force_authenticate(org["owner"])
    response = client.post(
        "/api/v1/cases/",
        {
            "new_customer": {"name": "Jonas Weber", "email": "jw@example.org",
                             "language": "Klingon"},
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Rechnung doppelt",
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_customer" and body["message"]
    assert "language" in str(body["fields"])
    assert not Customer.objects.filter(full_name="Jonas Weber").exists()


def test_a_correction_refuses_a_language_the_product_cannot_write(org):
    with pytest.raises(CaseRuleError) as refused:
        customer_update(
            customer=org["customer"], by=org["owner"], changes=CustomerChanges(language="tlh")
        )
    assert refused.value.code == "invalid_customer"
    assert "language" in refused.value.fields
    customer_update(
        customer=org["customer"], by=org["owner"], changes=CustomerChanges(language="de")
    )
    org["customer"].refresh_from_db()
    assert org["customer"].language == "de"
