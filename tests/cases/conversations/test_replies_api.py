"""A reply to the customer as an API operation: the case page's reply, with the same service,
limits and refusals, and documented in the schema."""

from __future__ import annotations

import pytest

from cases.conversations.services import case_id_from_reply_address
from cases.models import Contact
from notifications.models import Notification
from tests.cases.conftest import assert_error, client_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def url(case) -> str:
    return f"/api/v1/cases/{case.ref}/replies/"


def post(world, who="owner", body="Dear Ms Okafor,\n\nYour refund is on its way."):
    return client_for(world[who]).post(url(world["case"]), {"body": body}, format="json")


def test_the_owner_emails_a_reply_through_the_api(world):
    response = post(world)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["channel"]) == ("to_customer", "email")
    assert body["agent"]["id"] == world["owner"].pk
    assert body["body"].endswith("Your refund is on its way.")
    notice = Notification.objects.get(template="cases/email/reply")
    assert case_id_from_reply_address(notice.headers["reply_to"]) == world["case"].pk
    assert Contact.objects.get().message_id == notice.message_id


def test_a_colleague_is_refused_as_on_the_page(world):
    assert_error(post(world, who="colleague"), 403, "not_case_owner")
    assert not Contact.objects.exists()


def test_a_blank_reply_is_refused_on_its_field(world):
    body = assert_error(post(world, body="   "), 400, "invalid_contact")
    assert "body" in body["fields"]
    assert not Notification.objects.filter(template="cases/email/reply").exists()


def test_a_reply_too_long_is_refused_on_its_field(world):
    body = assert_error(post(world, body="x" * 10_001), 400, "invalid_contact")
    assert "body" in body["fields"]
    assert not Contact.objects.exists()


def test_a_customer_without_email_is_a_409(world):
    case = world["case"]
    case.customer = CustomerFactory(email="")
    case.save()
    assert_error(post(world), 409, "customer_has_no_email")


def test_the_per_case_notice_limit_is_a_429_and_records_nothing(world, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 1
    assert post(world).status_code == 201
    assert_error(post(world, body="Once more"), 429, "notice_limit_reached")
    assert Contact.objects.count() == 1


def test_another_teams_agent_gets_404(world):
    assert_error(post(world, who="outsider"), 404, "not_found")


def test_the_operation_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "cases_replies_create" in text and "/api/v1/cases/{ref}/replies/" in text
