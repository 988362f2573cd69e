"""Concurrent duplicates of one creating POST on real PostgreSQL (threads, each with its own
connection): the case is created once; every duplicate waits for the first and answers its
answer, or, past the wait, 409 idempotency_key_in_progress; never a second write."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases import api as case_api
from cases.models import Case
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

DUPLICATES = 6


def _post_at_once(world, *, count: int = DUPLICATES, key: str = "race-1") -> list:
    """``count`` threads send the same request with the same key at the same moment."""
    body = {
        "customer": CustomerFactory().pk,
        "team": world["team"].pk,
        "channel": "email",
        "subject": "Double click",
    }
    start = threading.Barrier(count)
    answers: list = [None] * count

    def send(index: int) -> None:
        # a crash is a 500 here: the test client's exception hook hears every thread's
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(world["owner"])
        try:
            start.wait(timeout=10)
            answers[index] = client.post(
                "/api/v1/cases/", body, format="json", headers={"Idempotency-Key": key}
            )
        except Exception as exc:  # reported to the test
            answers[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return answers


@pytest.fixture
def slow_intake(monkeypatch):
    """The first request holds its key for ``delay`` seconds (a slow intake), so that every
    duplicate arrives while it is in flight."""
    real = case_api.intake.case_intake
    delay = {"seconds": 0.8}

    def slow(**kwargs):
        time.sleep(delay["seconds"])
        return real(**kwargs)

    monkeypatch.setattr(case_api.intake, "case_intake", slow)
    return delay


def test_concurrent_duplicates_wait_and_answer_the_one_case(world, slow_intake):
    answers = _post_at_once(world)
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert [a.status_code for a in answers] == [201] * DUPLICATES, [a.content for a in answers]
    assert len({a.json()["ref"] for a in answers}) == 1
    assert sum(a.get("Idempotent-Replayed") == "true" for a in answers) == DUPLICATES - 1
    assert Case.objects.filter(subject="Double click").count() == 1


def test_duplicates_past_the_wait_get_409_and_still_no_second_case(world, slow_intake, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    slow_intake["seconds"] = 2.0
    answers = _post_at_once(world, count=3)
    assert all(not isinstance(a, Exception) for a in answers), answers
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409], [a.content for a in answers]
    codes = {a.json()["code"] for a in answers if a.status_code == 409}
    assert codes == {"idempotency_key_in_progress"}
    assert Case.objects.filter(subject="Double click").count() == 1
    first = next(a for a in answers if a.status_code == 201)
    assert first.json()["ref"] == Case.objects.get(subject="Double click").ref


def test_when_the_first_fails_a_waiting_duplicate_does_the_work(world, monkeypatch):
    real = case_api.intake.case_intake
    calls = {"n": 0}
    lock = threading.Lock()

    def first_fails(**kwargs):
        with lock:
            calls["n"] += 1
            mine = calls["n"]
        time.sleep(0.5)
        if mine == 1:
            raise RuntimeError("the first request's process fails")
        return real(**kwargs)

    monkeypatch.setattr(case_api.intake, "case_intake", first_fails)
    answers = _post_at_once(world, count=2)
    assert sorted(a.status_code for a in answers) == [201, 500], answers
    assert Case.objects.filter(subject="Double click").count() == 1
