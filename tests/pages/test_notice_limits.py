"""Per-case and per-agent daily limits on the customer notices agents' actions cause (replies
and the notice of a changed address among them): past either, the action answers 429
``notice_limit_reached`` and writes nothing. The product's own notices are never held
back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cases.customers.services import CustomerChanges, customer_update
from cases.handoffs.services import handoff_accept
from cases.models import Case, CaseEvent, Contact, Customer, CustomerNoticeSent
from commitments.models import Commitment
from notifications.models import Notification
from tests.factories import offer

pytestmark = pytest.mark.django_db


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def renegotiate(client, promise, days: int):
    due = (timezone.now() + timedelta(days=days)).isoformat()
    return client.post(
        f"/api/v1/commitments/{promise.pk}/renegotiate/",
        {"due_at": due, "reason": "The parts are late."},
        format="json",
    )


def open_for(client, n: int):
    body = {
        "new_customer": {"name": f"Someone {n}", "email": f"victim{n}@example.org"},
        "channel": "email",
        "subject": "You have won",
    }
    return client.post("/api/v1/cases/", body, format="json")


def snapshot(case) -> tuple[int, int, int, int]:
    return (
        Notification.objects.count(),
        CaseEvent.objects.filter(case=case).count(),
        Commitment.objects.filter(case=case).count(),
        CustomerNoticeSent.objects.count(),
    )


def test_renegotiation_spam_stops_at_the_per_case_limit(org, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 4  # the fixture's case has sent 2 already
    client = api_client(org["owner"])
    promise = org["promise"]
    for day in (4, 5):
        response = renegotiate(client, promise, day)
        assert response.status_code == 201, response.content
        promise = Commitment.objects.get(pk=response.json()["id"])
    before = snapshot(org["case"])
    response = renegotiate(client, promise, 6)
    assert response.status_code == 429
    assert response.json()["code"] == "notice_limit_reached"
    assert snapshot(org["case"]) == before
    assert Commitment.objects.get(pk=promise.pk).status == "open"


def test_the_limit_is_over_any_24_hours(org, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 2
    client = api_client(org["owner"])
    assert renegotiate(client, org["promise"], 4).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        assert renegotiate(client, org["promise"], 4).status_code == 201


def test_intake_for_arbitrary_addresses_stops_at_the_per_agent_limit(org, settings):
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 4  # the owner has caused 2 so far
    client = api_client(org["owner"])
    assert open_for(client, 1).status_code == 201
    assert open_for(client, 2).status_code == 201
    cases, customers = Case.objects.count(), Customer.objects.count()
    response = open_for(client, 3)
    assert response.status_code == 429 and response.json()["code"] == "notice_limit_reached"
    assert (Case.objects.count(), Customer.objects.count()) == (cases, customers)
    assert not Notification.objects.filter(recipient_address="victim3@example.org").exists()
    # A colleague is not held back by the owner's count.
    assert open_for(api_client(org["colleague"]), 4).status_code == 201


def test_the_intake_page_says_why(org, settings):
    from tests.pages.conftest import client_for

    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 2
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "new_name": "X",
            "new_email": "x@example.org",
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Hi",
            "priority": "normal",
        },
    )
    assert "notices in the last 24 hours" in response.content.decode()
    assert not Customer.objects.filter(email="x@example.org").exists()


def test_the_products_own_notices_are_never_held_back(org, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 0
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 0
    ids = list(
        Commitment.objects.filter(case=org["case"], status="open").values_list("pk", flat=True)
    )
    handoff = offer(org["case"], to=org["colleague"], briefed_commitments=ids)
    handoff_accept(handoff=handoff, by=org["colleague"])
    assert Notification.objects.filter(dedupe_key=f"handoff:{handoff.pk}:introduction").exists()


def reply_on_page(user, case, body: str = "Here is your refund reference."):
    from tests.pages.conftest import client_for

    return client_for(user).post(f"/cases/{case.ref}/reply/", {"body": body})


def test_replies_on_the_case_page_stop_at_the_per_case_limit(org, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 3  # the fixture's case has sent 2 already
    case = org["case"]
    assert reply_on_page(org["owner"], case).status_code == 302
    before = snapshot(case), Contact.objects.filter(case=case).count()
    response = reply_on_page(org["owner"], case)
    assert response.status_code == 400
    assert "notices in the last 24 hours" in response.content.decode()
    assert (snapshot(case), Contact.objects.filter(case=case).count()) == before


def test_the_reply_page_says_who_may_reply_to_an_address_just_changed(org):
    case = org["case"]
    customer_update(
        customer=case.customer, by=org["owner"], changes=CustomerChanges(email="n@example.net")
    )
    response = reply_on_page(org["owner"], case)
    assert response.status_code == 400
    assert "a manager of the team can send this reply" in response.content.decode()
    assert reply_on_page(org["manager"], case).status_code == 302
    assert (
        Notification.objects.filter(
            template="cases/email/reply", recipient_address="n@example.net"
        ).count()
        == 1
    )


def test_an_address_change_past_the_limit_changes_nothing(org, settings):
    settings.CUSTOMER_NOTICES_PER_AGENT_PER_DAY = 2  # the owner has caused 2 so far
    customer = org["customer"]
    response = api_client(org["owner"]).patch(
        f"/api/v1/customers/{customer.pk}/", {"email": "n@example.net"}, format="json"
    )
    assert response.status_code == 429 and response.json()["code"] == "notice_limit_reached"
    customer.refresh_from_db()
    assert customer.email != "n@example.net"
    assert not Notification.objects.filter(template="cases/email/address_changed").exists()
