"""The customer's page and JSON view behind the signed link: one case only, never internal
notes, times in the customer's time zone; bad, expired and revoked links are not found."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from cases.handoffs.services import handoff_accept
from cases.models import Case, CaseEvent, EventKind
from commitments.models import Commitment
from tests.factories import offer
from tests.pages.conftest import token_for

pytestmark = pytest.mark.django_db


def page(token: str) -> str:
    return f"/c/{token}/"


def api(token: str) -> str:
    return f"/api/v1/customer/{token}/"


def hand_over(org):
    """The case moves from its owner to the colleague (accepted hand-off)."""
    ids = list(
        Commitment.objects.filter(case=org["case"], status="open").values_list("pk", flat=True)
    )
    handoff = offer(org["case"], to=org["colleague"], briefed_commitments=ids)
    return handoff_accept(handoff=handoff, by=org["colleague"])


def test_the_page_shows_the_owner_and_how_to_reach_them(org):
    html = Client().get(page(token_for(org["case"]))).content.decode()
    profile = org["owner"].agent_profile
    assert "Hello Dr Hopper" in html
    for detail in (profile.display_name, profile.job_title, profile.direct_email):
        assert detail in html
    assert profile.direct_phone in html and profile.working_hours in html


def test_the_page_shows_open_promises_in_the_customers_time_zone(org):
    due = timezone.localtime(org["promise"].due_at, timezone=_tokyo())
    html = Client().get(page(token_for(org["case"]))).content.decode()
    assert "I will call you back with the refund reference." in html
    assert due.strftime("%H:%M") in html and "Asia/Tokyo" in html


def _tokyo():
    import zoneinfo

    return zoneinfo.ZoneInfo("Asia/Tokyo")


def test_the_page_never_shows_internal_notes_or_other_cases(org):
    html = Client().get(page(token_for(org["case"]))).content.decode()
    assert "customer sounded upset" not in html
    assert org["other_case"].subject not in html and org["other_case"].ref not in html
    assert "Two identical charges" not in html  # the internal description stays internal


def test_a_tampered_link_is_not_found(org):
    token = token_for(org["case"])
    response = Client().get(page(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")))
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


def test_a_link_for_another_case_id_cannot_be_forged(org):
    forged = signing.TimestampSigner(salt="something-else").sign_object(
        {"c": org["other_case"].pk, "g": 1}
    )
    assert Client().get(page(forged)).status_code == 404


def test_an_expired_link_is_not_found(org):
    token = token_for(org["case"])
    later = timezone.now() + timedelta(seconds=settings.CUSTOMER_LINK_MAX_AGE + 60)
    with time_machine.travel(later, tick=False):
        assert Client().get(page(token)).status_code == 404
        assert Client().get(api(token)).status_code == 404


def test_a_revoked_link_is_not_found(org):
    token = token_for(org["case"])
    Case.objects.filter(pk=org["case"].pk).update(link_generation=2)
    assert Client().get(page(token)).status_code == 404
    assert Client().get(api(token)).json()["code"] == "not_found"
    org["case"].refresh_from_db()
    assert Client().get(page(token_for(org["case"]))).status_code == 200


def test_the_page_shows_each_owner_change_with_its_introduction(org):
    hand_over(org)
    html = Client().get(page(token_for(org["case"]))).content.decode()
    new = org["colleague"].agent_profile
    assert f"{new.display_name} took over from {org['owner'].agent_profile.display_name}" in html
    assert new.direct_email in html
    assert "Acknowledge your new contact" in html


def test_acknowledging_the_new_owner_records_it_once(org):
    handoff = hand_over(org)
    client = Client(enforce_csrf_checks=True)
    url = page(token_for(org["case"]))
    html = client.get(url).content.decode()
    csrf = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(url, {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.customer_acknowledged_at is not None
    followed = client.get(url).content.decode()
    assert "knows you have their details" in followed
    assert "Acknowledge your new contact" not in followed
    client.post(url, {"csrfmiddlewaretoken": csrf})
    assert (
        CaseEvent.objects.filter(case=org["case"], kind=EventKind.OWNER_ACKNOWLEDGED).count() == 1
    )


def test_acknowledging_needs_the_csrf_token(org):
    handoff = hand_over(org)
    response = Client(enforce_csrf_checks=True).post(page(token_for(org["case"])))
    assert response.status_code == 403
    handoff.refresh_from_db()
    assert handoff.customer_acknowledged_at is None


def test_no_acknowledge_button_without_an_owner_change(org):
    html = Client().get(page(token_for(org["case"]))).content.decode()
    assert "Acknowledge your new contact" not in html


def test_the_page_is_throttled_with_the_apis_scope(org, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "customer_link", "3/min")
    url = page(token_for(org["case"]))
    client = Client()
    codes = [client.get(url).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    assert client.get(url).status_code == 429
    # The page and the API share the counter.
    assert client.get(api(token_for(org["case"]))).status_code == 429


def test_the_page_runs_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    hand_over(org)
    with django_assert_max_num_queries(6):
        assert Client().get(page(token_for(org["case"]))).status_code == 200


# --- the JSON view --------------------------------------------------------------------------


def test_the_api_shows_the_same_view_without_login(org):
    body = Client().get(api(token_for(org["case"]))).json()
    assert body["ref"] == org["case"].ref and body["customer_name"] == "Dr Hopper"
    assert body["owner"]["email"] == org["owner"].agent_profile.direct_email
    descriptions = [p["description"] for p in body["promises"]]
    assert "I will call you back with the refund reference." in descriptions
    assert all(p["due_at"].endswith("+00:00") for p in body["promises"])
    assert "customer sounded upset" not in str(body)
    assert body["acknowledgement_pending"] is False


def test_the_api_acknowledges_the_new_owner(org):
    handoff = hand_over(org)
    token = token_for(org["case"])
    assert Client().get(api(token)).json()["acknowledgement_pending"] is True
    body = Client().post(api(token)).json()
    assert body["acknowledgement_pending"] is False
    assert body["owner_changes"][0]["acknowledged"] is True
    handoff.refresh_from_db()
    assert handoff.customer_acknowledged_at is not None


def test_the_api_gives_the_error_shape_for_a_bad_link(org):
    response = Client().post(api("not-a-token"))
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "fields"}


def test_the_api_is_throttled(org, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "customer_link", "2/min")
    url = api(token_for(org["case"]))
    assert [Client().get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert Client().get(url).json()["code"] == "throttled"


def test_the_page_and_the_api_are_never_cached_nor_indexed(org):
    token = token_for(org["case"])
    response = Client().get(page(token))
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "no-store" in Client().get(api(token))["Cache-Control"]
