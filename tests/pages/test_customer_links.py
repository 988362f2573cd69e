"""Customer links: revocable by the owner or a manager (page and API), closed after the
team's grace period once the case is closed (checked when the link is opened), and the page
shows only the current point of contact: a former owner appears by name only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from caseowner.errors import RuleError
from cases.models import Case, CaseEvent, EventKind
from cases.services import case_change_status, customer_links_revoke
from commitments.models import Commitment
from commitments.services import commitment_mark_kept
from tests.pages.conftest import case_url, client_for, token_for
from tests.pages.test_customer_page import api, hand_over, page

pytestmark = pytest.mark.django_db


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def end_promises(org) -> None:
    for promise in Commitment.objects.filter(case=org["case"], status="open"):
        commitment_mark_kept(commitment=promise, by=org["owner"])


def revoke_url(case) -> str:
    return f"/api/v1/cases/{case.ref}/customer-link/revoke/"


def test_the_owner_revokes_every_link_sent_so_far(org):
    case = org["case"]
    old = token_for(case)
    customer_links_revoke(case=case, by=org["owner"])
    case.refresh_from_db()
    assert Client().get(page(old)).status_code == 404
    assert Client().get(page(token_for(case))).status_code == 200
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CUSTOMER_LINK_REVOKED).count() == 1


def test_a_manager_revokes_and_a_colleague_may_not(org):
    customer_links_revoke(case=org["case"], by=org["manager"])
    with pytest.raises(RuleError) as caught:
        customer_links_revoke(case=org["case"], by=org["colleague"])
    assert (caught.value.code, caught.value.status_code) == ("not_case_owner", 403)
    assert Case.objects.get(pk=org["case"].pk).link_generation == 2


def test_the_case_page_has_a_revoke_button_that_works(org):
    case = org["case"]
    old = token_for(case)
    client = client_for(org["owner"])
    assert "Revoke every link sent so far" in client.get(case_url(case)).content.decode()
    response = client.post(f"/cases/{case.ref}/customer-link/revoke/")
    assert response.status_code == 302
    assert Client().get(page(old)).status_code == 404


def test_a_colleague_sees_no_button_and_cannot_revoke(org):
    case = org["case"]
    client = client_for(org["colleague"])
    assert "Revoke every link" not in client.get(case_url(case)).content.decode()
    client.post(f"/cases/{case.ref}/customer-link/revoke/")
    assert Case.objects.get(pk=case.pk).link_generation == 1


def test_the_api_revokes_and_gives_the_new_link(org):
    case = org["case"]
    old = token_for(case)
    response = api_client(org["owner"]).post(revoke_url(case))
    assert response.status_code == 200
    body = response.json()
    assert body["generation"] == 2 and "/c/" in body["url"]
    assert Client().get(api(old)).status_code == 404
    assert api_client(org["colleague"]).post(revoke_url(case)).status_code == 403
    assert api_client(org["outsider"]).post(revoke_url(case)).status_code == 404


def test_a_link_works_through_the_grace_period_after_closing_then_stops(org):
    case, team = org["case"], org["team"]
    team.customer_link_grace_days = 3
    team.save()
    token = token_for(case)
    closed = timezone.now()
    with time_machine.travel(closed, tick=False):
        end_promises(org)
        case_change_status(case=case, status="closed", by=org["owner"])
    with time_machine.travel(closed + timedelta(days=3) - timedelta(minutes=1), tick=False):
        assert Client().get(page(token)).status_code == 200
    with time_machine.travel(closed + timedelta(days=3), tick=False):
        assert Client().get(page(token)).status_code == 404
        assert Client().get(api(token)).status_code == 404


def test_a_reopened_case_opens_its_link_again(org):
    case, token = org["case"], token_for(org["case"])
    closed = timezone.now()
    with time_machine.travel(closed, tick=False):
        end_promises(org)
        case_change_status(case=case, status="closed", by=org["owner"])
    with time_machine.travel(closed + timedelta(days=30), tick=False):
        assert Client().get(page(token)).status_code == 404
        case_change_status(case=case, status="open", by=org["owner"], reason="Customer wrote")
        assert Client().get(page(token)).status_code == 200


def test_a_resolved_case_keeps_its_link(org):
    case, token = org["case"], token_for(org["case"])
    end_promises(org)
    case_change_status(case=case, status="resolved", by=org["owner"])
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert Client().get(page(token)).status_code == 200


def test_after_a_handoff_only_the_current_owners_direct_contacts_show(org):
    former = org["owner"].agent_profile
    former.direct_phone, former.direct_email = "+44 20 7946 0001", "ada.direct@example.org"
    former.save()
    hand_over(org)
    token = token_for(org["case"])
    html = Client().get(page(token)).content.decode()
    current = org["colleague"].agent_profile
    assert former.display_name in html  # named in the change of owner
    assert former.direct_phone not in html and former.direct_email not in html
    assert current.direct_email in html
    body = Client().get(api(token)).json()
    assert former.direct_phone not in str(body) and former.direct_email not in str(body)
    assert body["owner"]["email"] == current.direct_email
    assert body["owner_changes"][0]["to"] == {"name": current.display_name}
    assert body["owner_changes"][0]["from_name"] == former.display_name
