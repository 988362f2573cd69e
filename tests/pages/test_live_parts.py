"""The live parts of My queue and the case page (``cases.live``, ``cases.live_views``): an
unchanged part answers 304 after at most two queries (the user, the stamp; the session comes
from the cache as in production), and each kind of change — an offer arriving, a customer
replying, a call to make, a promise turning at risk with nothing written — answers 200."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from cases.conversations.services import NewContact, contact_record
from cases.models import OwnerTask
from commitments.models import Commitment
from tests.factories import CaseFactory, offer
from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db

# A signed-in page reads its session from the shared cache in production (Redis): the same here.
CACHED_SESSIONS = override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cached_db")


def _poll(client, url: str, etag: str | None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(url, **headers)


def _etag_of_page(client, url: str) -> tuple[str, str]:
    """(the live part's address, its ETag) as the full page renders them."""
    html = client.get(url).content.decode()
    etag = html.split('data-live-etag="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    live = html.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return live, etag


@CACHED_SESSIONS
def test_an_unchanged_queue_costs_two_queries_and_answers_304(org, django_assert_max_num_queries):
    for i in range(5):
        CaseFactory(team=org["team"], owner=org["owner"], subject=f"Case {i}")
    client = client_for(org["owner"])
    live, etag = _etag_of_page(client, "/queue/")
    _poll(client, live, etag)  # the session is cached after the first read
    with django_assert_max_num_queries(2):
        response = _poll(client, live, etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""


def test_each_kind_of_change_answers_200_with_the_new_part(org):
    owner, case = org["owner"], org["case"]
    client = client_for(owner)
    live, etag = _etag_of_page(client, "/queue/")
    assert _poll(client, live, etag).status_code == 304

    def changed() -> str:
        nonlocal etag
        response = _poll(client, live, etag)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-cache"
        etag = response["ETag"]
        assert _poll(client, live, etag).status_code == 304
        return response.content.decode()

    # an offer arriving
    offered = offer(CaseFactory(team=org["team"], owner=org["colleague"]), to=owner)
    html = changed()
    assert offered.case.ref in html and "(1) My queue" in html  # new since the page loaded

    # the customer replying
    contact_record(
        case=case,
        contact=NewContact(direction="from_customer", channel="email", body="Any news?"),
        by=None,
    )
    assert "(2) My queue" in changed()

    # a call to make
    OwnerTask.objects.create(
        case=case,
        owner=owner,
        text="Call Dr Hopper about the refund",
        reason="customer has no email address",
        source_template="cases/email/case_opened",
        dedupe_key="live:1",
        created_at=timezone.now(),
    )
    assert "Call Dr Hopper about the refund" in changed()

    # a promise turning at risk: nothing is written, only time passes
    at_risk_from = Commitment.objects.get(pk=org["promise"].pk).at_risk_from
    with time_machine.travel(at_risk_from + timedelta(minutes=1)):
        response = _poll(client, live, etag)
        assert response.status_code == 200
        assert "at_risk" in response.content.decode()


def test_an_agent_cannot_read_another_agents_live_parts(org):
    owner_client = client_for(org["owner"])
    live, etag = _etag_of_page(owner_client, "/queue/")
    outsider = client_for(org["outsider"])
    # the queue's part is always the reader's own: the owner's ETag is not the outsider's
    response = _poll(outsider, live, etag)
    assert response.status_code == 200 and org["case"].ref not in response.content.decode()
    # another team's case: no part, with or without its ETag
    case_live, case_etag = _etag_of_page(owner_client, case_url(org["case"]))
    assert _poll(owner_client, case_live, case_etag).status_code == 304
    assert _poll(outsider, case_live, case_etag).status_code == 404
    assert _poll(outsider, case_live, None).status_code == 404
    assert _poll(owner_client, "/cases/CASE-999999/live/", None).status_code == 404


@CACHED_SESSIONS
def test_the_case_pages_act_first_block_is_live(org, django_assert_max_num_queries):
    owner, case = org["owner"], org["case"]
    client = client_for(owner)
    live, etag = _etag_of_page(client, case_url(case))
    _poll(client, live, etag)
    with django_assert_max_num_queries(3):  # the user, their teams, the stamp
        assert _poll(client, live, etag).status_code == 304
    contact_record(
        case=case,
        contact=NewContact(direction="from_customer", channel="email", body="Hello?"),
        by=None,
    )
    response = _poll(client, live, etag)
    assert response.status_code == 200
    assert "Customer replied" in response.content.decode()
    # the promise coming due within a day moves it too, with nothing written
    due = Commitment.objects.get(pk=org["promise"].pk).due_at
    etag = response["ETag"]
    with time_machine.travel(due - timedelta(hours=23)):
        html = _poll(client, live, etag).content.decode()
    assert "I will call you back with the refund reference." in html
