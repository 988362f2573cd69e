"""The question on a closed case's own customer page: asked with a link to the answer page,
then the score given with a link to change it while it may be changed, then final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from cases.customers.links import make_customer_token
from cases.models import CaseStatus, SatisfactionAnswer
from cases.satisfaction import services
from cases.services import case_change_status

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=3)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def _page(case) -> str:
    case.refresh_from_db()
    with time_machine.travel(LATER, tick=False):
        token = make_customer_token(case_id=case.pk, generation=case.link_generation)
        return Client().get(f"/c/{token}/").content.decode()


def test_the_closed_cases_page_asks_then_shows_the_answer_until_it_is_final(
    world, django_assert_max_num_queries
):
    case = world["case"]
    name = world["owner"].agent_profile.display_name
    question = f"Did {name} take care of this for you?"
    assert question not in _page(case)  # an open case asks nothing (and costs no query)
    with time_machine.travel(T0, tick=False):
        case_change_status(case=case, status=CaseStatus.CLOSED, by=world["owner"])
    link = f"/satisfaction/{services.answer_token(SatisfactionAnswer.objects.get().pk)}/"
    html = _page(case)
    assert question in html and f'href="{link}"' in html and "Answer the question" in html
    with time_machine.travel(LATER, tick=False):
        services.satisfaction_answer(token=link.split("/")[2], score=4)
    html = _page(case)
    assert "Your answer: 4 out of 5." in html and "You can change it until" in html
    assert f'href="{link}"' in html and "Change your answer" in html
    with time_machine.travel(LATER + timedelta(days=8), tick=False):
        token = make_customer_token(case_id=case.pk, generation=case.link_generation)
        with django_assert_max_num_queries(6):
            html = Client().get(f"/c/{token}/").content.decode()
    assert "Your answer: 4 out of 5." in html and link not in html
    assert "You can change it until" not in html
