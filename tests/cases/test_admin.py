"""The back office shows cases, hand-offs and reviews but changes none of them: those changes
go through the services, which check them and record them on the timeline. A customer added or
corrected here goes through the customer services too."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.test import Client

from cases.admin import CUSTOMER_DETAILS
from cases.models import Case, CaseEvent, Customer, EventKind, HandoffReview
from tests.factories import CustomerFactory, HandoffFactory, UserFactory

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


def customer_form(customer: Customer, **changes: str) -> dict[str, Any]:
    """The admin's customer form as posted: the record's details, with ``changes``."""
    data = {
        name: "" if value is None else value
        for name, value in model_to_dict(customer).items()
        if name in CUSTOMER_DETAILS
    }
    return data | changes


def test_a_customer_corrected_in_the_admin_is_on_the_case_timeline_with_the_phone_in_e164(
    staff, world
):
    customer = world["case"].customer
    response = staff.post(
        f"/admin/cases/customer/{customer.pk}/change/",
        customer_form(customer, phone="07700 900456"),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+447700900456"
    event = CaseEvent.objects.get(case=world["case"], kind=EventKind.CUSTOMER_UPDATED)
    assert event.data["changes"] == {"phone": {"from": "+447700900123", "to": "+447700900456"}}


def test_a_phone_that_cannot_be_made_e164_is_refused_in_the_admin(staff, world):
    customer = world["case"].customer
    response = staff.post(
        f"/admin/cases/customer/{customer.pk}/change/",
        customer_form(customer, phone="call me maybe", title="Dr"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"]
    customer.refresh_from_db()
    assert (customer.phone, customer.title) == ("+447700900123", "Ms")
    assert not CaseEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()


def test_a_customer_added_in_the_admin_is_created_by_the_service(staff, db):
    data = customer_form(CustomerFactory.build(), full_name="Ada Lovelace", phone="07700 900789")
    response = staff.post("/admin/cases/customer/add/", data)
    assert response.status_code == 302
    assert Customer.objects.get(full_name="Ada Lovelace").phone == "+447700900789"

    refused = staff.post("/admin/cases/customer/add/", data | {"full_name": "Bo", "phone": "x"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["phone"]
    assert not Customer.objects.filter(full_name="Bo").exists()


def test_staff_without_a_case_of_the_customer_cannot_correct_them_in_the_admin(world):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__endswith="_customer"))
    client = Client()
    client.force_login(clerk)
    customer = world["case"].customer
    response = client.post(
        f"/admin/cases/customer/{customer.pk}/change/", customer_form(customer, title="Dr")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    customer.refresh_from_db()
    assert customer.title == "Ms"
