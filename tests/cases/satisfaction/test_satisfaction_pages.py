"""The answer page and API behind the question's signed link: no login, the customer's
language, a GET that records nothing, fixed query counts, and clear 404/409/410 answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from cases.models import CaseStatus, SatisfactionAnswer
from cases.satisfaction import services
from cases.services import case_change_status
from tests.cases.conftest import assert_error

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=3)


@pytest.fixture
def token(world) -> str:
    with time_machine.travel(T0, tick=False):
        case_change_status(case=world["case"], status=CaseStatus.CLOSED, by=world["owner"])
    return services.answer_token(SatisfactionAnswer.objects.get().pk)


@pytest.fixture
def _fresh_throttle():
    from django.core.cache import cache

    cache.clear()


pytestmark = pytest.mark.usefixtures("_fresh_throttle")


def test_the_link_shows_the_question_with_the_score_chosen_and_records_nothing(
    world, token, django_assert_max_num_queries
):
    with time_machine.travel(LATER, tick=False), django_assert_max_num_queries(3):
        page = Client().get(f"/satisfaction/{token}/?score=4")
    assert page.status_code == 200
    html = page.content.decode()
    name = world["owner"].agent_profile.display_name
    assert f"Did {name} take care of this for you?" in html
    assert 'value="4" checked' in html
    assert SatisfactionAnswer.objects.get().score is None


def test_sending_the_form_records_the_answer_and_a_second_replaces_it(
    world, token, django_assert_max_num_queries
):
    client = Client()
    with time_machine.travel(LATER, tick=False):
        with django_assert_max_num_queries(12):
            page = client.post(
                f"/satisfaction/{token}/", {"score": "4", "comment": "", "revision": "0"}
            )
        assert page.status_code == 200 and b"answer-thanks" in page.content
        page = client.post(f"/satisfaction/{token}/", {"score": "5", "revision": "1"})
    assert page.status_code == 200
    answer = SatisfactionAnswer.objects.get()
    assert (answer.score, answer.revision) == (5, 2)


def test_the_page_speaks_the_customers_language(world, token):
    world["case"].customer.language = "de"
    world["case"].customer.save()
    with time_machine.travel(LATER, tick=False):
        page = Client().get(f"/satisfaction/{token}/")
    assert "Antwort senden" in page.content.decode()


def test_a_final_answer_gets_a_clear_410_page(world, token):
    with time_machine.travel(LATER, tick=False):
        services.satisfaction_answer(token=token, score=2)
    with time_machine.travel(LATER + timedelta(days=8), tick=False):
        page = Client().post(f"/satisfaction/{token}/", {"score": "5", "revision": "1"})
    assert page.status_code == 410
    assert b"is now final" in page.content
    assert SatisfactionAnswer.objects.get().score == 2


def test_a_stale_form_gets_409_and_a_forged_link_404(world, token):
    with time_machine.travel(LATER, tick=False):
        services.satisfaction_answer(token=token, score=3)
        stale = Client().post(f"/satisfaction/{token}/", {"score": "1", "revision": "0"})
        forged = Client().get(f"/satisfaction/{token[:-2]}xx/")
    assert stale.status_code == 409 and b"answer-error" in stale.content
    assert forged.status_code == 404


def test_the_api_reads_and_answers_without_login(world, token, django_assert_max_num_queries):
    api = APIClient()
    with time_machine.travel(LATER, tick=False):
        with django_assert_max_num_queries(2):
            read = api.get(f"/api/v1/customer/satisfaction/{token}/")
        assert read.status_code == 200 and read.json()["score"] is None
        answered = api.post(
            f"/api/v1/customer/satisfaction/{token}/",
            {"score": 1, "comment": "Nobody called"},
            format="json",
        )
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert (body["score"], body["revision"], body["closed"]) == (1, 1, "")
    assert body["changeable_until"] == "2026-03-09T13:00:00Z"


def test_the_api_refuses_in_the_error_shape(world, token):
    api = APIClient()
    with time_machine.travel(LATER, tick=False):
        assert_error(
            api.post(f"/api/v1/customer/satisfaction/{token}/", {"score": 9}, format="json"), 400
        )
        assert_error(api.get("/api/v1/customer/satisfaction/nonsense/"), 404)
        services.satisfaction_answer(token=token, score=3)
    with time_machine.travel(LATER + timedelta(days=8), tick=False):
        gone = api.post(f"/api/v1/customer/satisfaction/{token}/", {"score": 4}, format="json")
    assert_error(gone, 410, "answer_final")


def test_the_agent_sees_their_own_figures_on_their_availability_page(world, token):
    with time_machine.travel(LATER, tick=False):
        services.satisfaction_answer(token=token, score=2)
        client = Client()
        client.force_login(world["owner"])
        html = client.get("/me/availability/").content.decode()
        client.force_login(world["colleague"])
        theirs = client.get("/me/availability/").content.decode()
    assert "Cases you closed: 1 answer, mean 2.0" in html
    assert "1 scored 1–2" in html
    assert "No customer has answered" in theirs
