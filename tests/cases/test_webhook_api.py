"""Webhook endpoints over the API: a team's managers (and admins) only; the secret is shown
once; rotation, pause, deletion, deliveries and redelivery."""

from __future__ import annotations

import pytest

from cases.models import CaseStatus
from cases.services import case_change_status
from notifications.models import Notification, NotificationStatus, WebhookEndpoint
from notifications.services import notification_deliver, outbox_claim_batch
from tests.cases.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"


@pytest.fixture
def posts(monkeypatch):
    """Webhook POSTs answered with ``posts.answer`` (no network, every name public)."""
    calls: list[dict] = []

    def fake_post(url, *, address, body, headers, timeout):
        calls.append({"url": url, "headers": headers, "body": body})
        return fake_post.answer

    fake_post.answer = 204
    fake_post.calls = calls
    monkeypatch.setattr("notifications.transports.webhook_post", fake_post)
    monkeypatch.setattr("notifications.transports.resolve_host", lambda h, p: ["93.184.215.14"])
    return fake_post


def create(world, **body):
    api = client_for(world["manager"])
    return api.post(
        "/api/v1/webhooks/endpoints/",
        {"team": world["team"].pk, "url": URL, **body},
        format="json",
    )


def deliver() -> None:
    for claim in outbox_claim_batch():
        notification_deliver(notification_id=claim.notification_id, attempt=claim.attempt)


def test_a_manager_creates_an_endpoint_and_sees_its_secret_once(world):
    answer = create(world, events=["case.closed"], description="CRM")
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert (created["team"], created["events"], created["paused"]) == (
        world["team"].pk,
        ["case.closed"],
        False,
    )
    shown = client_for(world["manager"]).get(f"/api/v1/webhooks/endpoints/{created['id']}/")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = client_for(world["manager"]).get("/api/v1/webhooks/endpoints/").json()
    assert [e["id"] for e in listed["results"]] == [created["id"]]


def test_only_managers_of_the_team_or_admins(world, django_user_model):
    assert_error(create({**world, "manager": world["owner"]}), 403, "not_team_manager")
    assert_error(create({**world, "manager": world["other_manager"]}), 403, "not_team_manager")
    endpoint_id = create(world).json()["id"]
    other = client_for(world["other_manager"])
    assert_error(other.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/"), 404, "not_found")
    assert_error(other.delete(f"/api/v1/webhooks/endpoints/{endpoint_id}/"), 404, "not_found")
    assert other.get("/api/v1/webhooks/endpoints/").json()["results"] == []
    assert_error(client_for(world["owner"]).get("/api/v1/webhooks/endpoints/"), 403, "not_manager")
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    assert client_for(admin).get(f"/api/v1/webhooks/endpoints/{endpoint_id}/").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "http://10.0.0.7/in"}, "webhook_url_refused"),
        ({"url": "not a url"}, "invalid_input"),
        ({"events": ["case.exploded"]}, "invalid_input"),
        ({"team": 0}, "invalid_input"),
    ],
)
def test_bad_input_is_a_400_with_a_code(world, body, code):
    assert_error(create(world, **body), 400, code)
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_keeps_the_old_one_for_the_overlap(world):
    created = create(world).json()
    api = client_for(world["manager"])
    rotated = api.post(
        f"/api/v1/webhooks/endpoints/{created['id']}/rotate-secret/",
        {"overlap_hours": 2},
        format="json",
    )
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_until"] is not None
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.previous_secret) == (
        rotated.json()["secret"],
        created["secret"],
    )
    refused = api.post(
        f"/api/v1/webhooks/endpoints/{created['id']}/rotate-secret/",
        {"overlap_hours": 500},
        format="json",
    )
    assert_error(refused, 400, "invalid_input")


def test_pause_resume_and_delete(world):
    endpoint_id = create(world).json()["id"]
    api = client_for(world["manager"])
    paused = api.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/pause/")
    assert paused.json()["paused"] is True
    case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    assert not Notification.objects.filter(channel="webhook").exists()  # nothing queued
    assert api.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/resume/").json()["paused"] is False
    assert api.delete(f"/api/v1/webhooks/endpoints/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_show_their_status_and_a_failed_one_is_redelivered(world, posts):
    endpoint_id = create(world).json()["id"]
    api = client_for(world["manager"])
    case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    posts.answer = 410  # the receiver refuses: failed for good
    deliver()
    [failed] = api.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").json()["results"]
    assert (failed["event"], failed["status"], failed["last_error"]) == (
        "case.closed",
        "failed",
        "HTTP 410",
    )
    again = api.post(
        f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{failed['id']}/redeliver/"
    )
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["status"]) == (failed["id"], "pending")
    assert_error(
        api.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{failed['id']}/redeliver/"),
        409,
        "delivery_in_progress",
    )
    posts.answer = 204
    deliver()
    assert Notification.objects.get(pk=failed["id"]).status == NotificationStatus.SENT
    copy = api.post(
        f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{failed['id']}/redeliver/"
    )
    assert copy.status_code == 202 and copy.json()["id"] != failed["id"]
    assert_error(
        api.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/999999/redeliver/"),
        404,
    )


def test_the_event_catalogue(world):
    answer = client_for(world["manager"]).get("/api/v1/webhooks/events/").json()
    names = {e["name"] for e in answer["events"]}
    assert {"case.opened", "handoff.accepted", "notice.failed", "task.done"} <= names
    assert "sequence" in answer["common_fields"]


def test_every_event_is_documented_and_a_real_one_matches_its_component(world, posts):
    import json

    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    from cases.events import EVENTS

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert set(schema["x-webhooks"]) == set(EVENTS)
    create(world)
    case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    deliver()
    [call] = [c for c in posts.calls if c["headers"]["X-Caseowner-Event"] == "case.closed"]
    component = schema["x-webhooks"]["case.closed"]["post"]["requestBody"]["content"]
    ref = component["application/json"]["schema"]["$ref"]
    document = json.loads(call["body"])
    resolver_root = {"components": schema["components"]}
    jsonschema.validate(
        document,
        {"$ref": ref, **resolver_root},
    )
    assert set(document["data"]) == set(
        schema["components"]["schemas"][ref.split("/")[-1]]["properties"]["data"]["properties"]
    )
