"""The contacts API: listed and recorded by integrations, with the error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.conversations.services import NewContact, contact_record
from cases.models import CaseEvent, Contact
from tests.cases.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


def url(case) -> str:
    return f"/api/v1/cases/{case.ref}/contacts/"


def post(world, who="owner", **fields):
    body = {"direction": "to_customer", "channel": "chat", "body": "Answered in chat"}
    body.update(fields)
    return client_for(world[who]).post(url(world["case"]), body, format="json")


def test_an_integration_records_a_contact(world):
    response = post(world, who="colleague", external_id="chat-1", summary="Refund question")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["direction"] == "to_customer" and body["channel"] == "chat"
    assert body["agent"]["id"] == world["colleague"].pk
    assert body["external_id"] == "chat-1" and body["auto_submitted"] is False


def test_the_same_external_id_twice_answers_200_with_the_first_record(world):
    first = post(world, external_id="call-9")
    again = post(world, external_id="call-9", body="Something else")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["body"] == "Answered in chat"
    assert Contact.objects.count() == 1


def test_a_customers_message_has_no_agent(world):
    response = post(world, direction="from_customer", body="Hello?")
    assert response.status_code == 201 and response.json()["agent"] is None


def test_another_teams_agent_gets_404(world):
    assert_error(post(world, who="outsider"), 404, "not_found")
    assert_error(client_for(world["outsider"]).get(url(world["case"])), 404, "not_found")
    assert not Contact.objects.exists()


def test_anonymous_callers_get_401(world):
    assert_error(client_for(None).get(url(world["case"])), 401)


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"at": (timezone.now() + timedelta(minutes=5)).isoformat()}, "at"),
        ({"body": "x" * 10_001}, "body"),
        ({"summary": "s" * 301}, "summary"),
        ({"body": "", "summary": ""}, "body"),
        ({"direction": "both"}, "direction"),
        ({"agent": 10**9}, "agent"),
    ],
    ids=[
        "unknown-channel",
        "future",
        "body-too-long",
        "summary-too-long",
        "empty",
        "direction",
        "agent",
    ],
)
def test_bad_input_is_400_with_the_error_shape_and_writes_nothing(world, fields, field):
    body = assert_error(post(world, **fields), 400)
    assert field in body["fields"]
    assert not Contact.objects.exists()
    assert not CaseEvent.objects.filter(kind__startswith="contact").exists()


def test_the_list_is_newest_first_and_paged(world):
    for i in range(3):
        contact_record(
            case=world["case"],
            contact=NewContact(
                direction="from_customer",
                channel="phone",
                summary=f"call {i}",
                at=timezone.now() - timedelta(minutes=10 - i),
            ),
            by=None,
        )
    response = client_for(world["colleague"]).get(url(world["case"]), {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and [c["summary"] for c in body["results"]] == ["call 2", "call 1"]


@pytest.mark.parametrize("n", [1, 30])
def test_the_list_runs_fixed_queries(world, n, django_assert_max_num_queries):
    for i in range(n):
        contact_record(
            case=world["case"],
            contact=NewContact(direction="to_customer", channel="phone", summary=f"c{i}"),
            by=world["owner"],
        )
    client = client_for(world["owner"])
    with django_assert_max_num_queries(4):
        assert client.get(url(world["case"])).status_code == 200


def test_recording_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        assert post(world, external_id="q-1").status_code == 201


def test_the_queue_flags_a_case_whose_customer_replied(world):
    post(world, direction="from_customer", body="Any news?")
    rows = client_for(world["owner"]).get("/api/v1/queue/").json()["results"]
    assert [(r["ref"], r["customer_replied"]) for r in rows] == [(world["case"].ref, True)]
    post(world, body="Yes: it ships today.")
    rows = client_for(world["owner"]).get("/api/v1/queue/").json()["results"]
    assert rows[0]["customer_replied"] is False
