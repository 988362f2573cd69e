"""Idempotency-Key: a retried creating POST is done once and answers the first answer again;
the same key for another request is refused; keys live 24 hours. (Concurrent duplicates on
real PostgreSQL: tests/integration/test_idempotency_postgres.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from caseowner.idempotency import KEY_LIFETIME, idempotency_keys_prune
from caseowner.models import IdempotencyKey
from caseowner.tasks import prune_idempotency_keys
from cases.models import Case, CaseEvent
from tests.cases.conftest import assert_error, client_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

KEY = "0f4d2a3e-5b7c-4d1e-9f00-3c2b1a0e9d8c"


def _create(client, world, *, key: str | None = KEY, subject: str = "Invoice wrong", **extra):
    body = {
        "customer": world.setdefault("customer", CustomerFactory()).pk,
        "team": world["team"].pk,
        "channel": "email",
        "subject": subject,
        **extra,
    }
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/cases/", body, format="json", headers=headers)


def test_a_retry_answers_the_first_answer_and_creates_nothing_more(world):
    client = client_for(world["owner"])
    first = _create(client, world)
    second = _create(client, world)
    assert first.status_code == second.status_code == 201, second.content
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.filter(subject="Invoice wrong").count() == 1


def test_without_the_header_every_post_creates(world):
    client = client_for(world["owner"])
    _create(client, world, key=None)
    _create(client, world, key=None)
    assert Case.objects.filter(subject="Invoice wrong").count() == 2
    assert not IdempotencyKey.objects.exists()


def test_the_same_body_written_differently_is_the_same_request(world):
    client = client_for(world["owner"])
    customer = CustomerFactory()
    first = client.post(
        "/api/v1/cases/",
        f'{{"customer": {customer.pk}, "team": {world["team"].pk}, '
        '"channel": "email", "subject": "Invoice wrong"}',
        content_type="application/json",
        headers={"Idempotency-Key": KEY},
    )
    second = client.post(
        "/api/v1/cases/",
        f'{{"subject":"Invoice wrong","channel":"email","team":{world["team"].pk},'
        f'"customer":{customer.pk}}}',
        content_type="application/json",
        headers={"Idempotency-Key": KEY},
    )
    assert first.status_code == 201, first.content
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert Case.objects.filter(subject="Invoice wrong").count() == 1


def test_the_same_key_with_another_body_is_refused_and_does_nothing(world):
    client = client_for(world["owner"])
    _create(client, world)
    body = assert_error(_create(client, world, subject="Another thing"), 422)
    assert body["code"] == "idempotency_key_reused"
    assert not Case.objects.filter(subject="Another thing").exists()


def test_the_same_key_on_another_operation_is_refused(world):
    client = client_for(world["owner"])
    _create(client, world)
    response = client.post(
        f"/api/v1/cases/{world['case'].ref}/notes/",
        {"text": "Called back."},
        format="json",
        headers={"Idempotency-Key": KEY},
    )
    assert_error(response, 422, "idempotency_key_reused")
    assert not CaseEvent.objects.filter(case=world["case"], kind="note").exists()


def test_keys_are_per_user(world):
    _create(client_for(world["owner"]), world)
    other = _create(client_for(world["colleague"]), world)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Case.objects.filter(subject="Invoice wrong").count() == 2


def test_a_refused_request_keeps_nothing_and_its_retry_is_judged_afresh(world):
    client = client_for(world["owner"])
    refused = _create(client, world, channel="carrier pigeon")
    assert_error(refused, 400, "invalid_input")
    assert not IdempotencyKey.objects.exists()
    # the client fixes its request and sends it under the same key
    assert _create(client, world).status_code == 201


def test_a_key_older_than_24_hours_is_a_new_request(world):
    client = client_for(world["owner"])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _create(client, world)
    with time_machine.travel(start + KEY_LIFETIME + timedelta(seconds=1), tick=False):
        again = _create(client, world)
        assert again.status_code == 201 and "Idempotent-Replayed" not in again
        # and under its new lifetime a different body is refused again
        assert_error(_create(client, world, subject="Other"), 422, "idempotency_key_reused")
    assert Case.objects.filter(subject="Invoice wrong").count() == 2
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "schlüssel", "a\tb"])
def test_a_key_that_cannot_be_one_is_refused(world, key):
    response = _create(client_for(world["owner"]), world, key=key)
    assert_error(response, 400, "invalid_idempotency_key")
    assert not Case.objects.filter(subject="Invoice wrong").exists()


def test_a_quoted_key_is_the_same_key(world):
    client = client_for(world["owner"])
    _create(client, world, key=KEY)
    again = _create(client, world, key=f'"{KEY}"')
    assert again["Idempotent-Replayed"] == "true"


def test_notes_are_written_once_per_key(world):
    client = client_for(world["owner"])
    path = f"/api/v1/cases/{world['case'].ref}/notes/"
    for _ in range(3):
        response = client.post(
            path, {"text": "Called back."}, format="json", headers={"Idempotency-Key": "n-1"}
        )
        assert response.status_code == 201
    assert CaseEvent.objects.filter(case=world["case"], kind="note").count() == 1


def test_the_periodic_prune_deletes_expired_keys_only(world):
    client = client_for(world["owner"])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _create(client, world, key="old")
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        _create(client, world, key="young", subject="Young")
    with time_machine.travel(start + KEY_LIFETIME, tick=False):
        assert prune_idempotency_keys() == {"pruned": 1}
        assert idempotency_keys_prune() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
    assert "caseowner.prune_idempotency_keys" in settings.PERIODIC_TASKS


# --- the schema documents it on every creating POST ------------------------------------------

# Raw RFC 5322 behind a shared secret, deduplicated by the message's own Message-ID.
NOT_BY_KEY = {"inbound_email_create"}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", {"format": "json"}).json()


def test_every_creating_post_takes_an_idempotency_key(schema):
    creating = {
        operation["operationId"]: operation
        for operations in schema["paths"].values()
        for method, operation in operations.items()
        if method == "post" and "201" in operation["responses"]
    }
    assert "cases_create" in creating
    missing = []
    for operation_id, operation in creating.items():
        if operation_id in NOT_BY_KEY:
            continue
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if "Idempotency-Key" not in headers:
            missing.append(operation_id)
            continue
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert not missing, f"creating POSTs without Idempotency-Key: {missing}"
