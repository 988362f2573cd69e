"""While the owner is away their cover acts on the owner's behalf: keeps, renegotiates and
confirms promises, replies, records contacts and offers a hand-off, recorded as "Amelia for
Oliver"; the owner stays the owner, and outside the absence the cover is refused."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from cases.availability.services import absence_record
from cases.conversations.services import contact_reply_send
from cases.errors import CaseRuleError
from cases.models import Case, CaseEvent, Handoff
from cases.permissions import acting_for, can_change_case
from commitments.models import Commitment, CommitmentStatus
from tests.commitments.conftest import london, promise
from tests.factories import good_summary, make_agent

MONDAY = london(2026, 3, 16, 10)
DURING = london(2026, 3, 18, 10)  # Wednesday, Oliver away
AFTER = london(2026, 3, 23, 10)  # the Monday after, Oliver back
AWAY_FROM, AWAY_UNTIL = london(2026, 3, 17, 0), london(2026, 3, 20, 0)

pytestmark = pytest.mark.django_db


@pytest.fixture
def covered(team, agent, open_case):
    """Oliver's case with a callback promise; Amelia is his backup; Oliver away Tue–Thu."""
    amelia = make_agent(team, display_name="Amelia Clarke")
    profile = agent.agent_profile
    profile.display_name = "Oliver Bennett"
    profile.backup_agent = amelia
    profile.save()
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        callback = promise(case, agent, due=london(2026, 3, 25, 12))
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    return {"case": case, "callback": callback, "owner": agent, "cover": amelia}


def _post(user, url, data=None):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(url, data or {}, format="json")


def test_the_cover_acts_for_the_owner_only_while_the_owner_is_away(covered):
    case = Case.objects.select_related("owner__agent_profile", "team").get(pk=covered["case"].pk)
    with time_machine.travel(DURING, tick=False):
        assert acting_for(covered["cover"], case) == covered["owner"]
        assert can_change_case(covered["cover"], case)
    with time_machine.travel(AFTER, tick=False):
        assert acting_for(covered["cover"], case) is None
        assert not can_change_case(covered["cover"], case)
    assert acting_for(covered["owner"], case) == covered["owner"]


def test_the_cover_keeps_a_promise_recorded_for_the_owner(covered):
    callback = covered["callback"]
    with time_machine.travel(DURING, tick=False):
        response = _post(covered["cover"], f"/api/v1/commitments/{callback.pk}/keep/")
    assert response.status_code == 200, response.content
    callback.refresh_from_db()
    assert callback.status == CommitmentStatus.KEPT
    assert callback.owner_id == covered["owner"].pk  # the owner stays the owner
    event = CaseEvent.objects.filter(case=covered["case"], kind="commitment_kept").get()
    assert event.actor_id == covered["cover"].pk
    assert event.data["on_behalf_of"] == covered["owner"].pk
    assert Case.objects.get(pk=covered["case"].pk).owner_id == covered["owner"].pk


def test_the_cover_renegotiates_and_confirms_during_the_absence(covered):
    callback = covered["callback"]
    with time_machine.travel(DURING, tick=False):
        confirmed = _post(
            covered["cover"],
            f"/api/v1/commitments/{callback.pk}/confirm-on-track/",
        )
        assert confirmed.status_code == 200, confirmed.content
        moved = _post(
            covered["cover"],
            f"/api/v1/commitments/{callback.pk}/renegotiate/",
            {"within": "3 business days", "reason": "The refund team needs one more day."},
        )
    assert moved.status_code in (200, 201), moved.content
    successor = Commitment.objects.get(predecessor=callback)
    assert successor.owner_id == covered["owner"].pk
    event = CaseEvent.objects.get(case=covered["case"], kind="commitment_renegotiated")
    assert (event.actor_id, event.data["on_behalf_of"]) == (
        covered["cover"].pk,
        covered["owner"].pk,
    )


@pytest.mark.parametrize("action", ["keep", "confirm-on-track"])
def test_the_cover_is_refused_once_the_owner_is_back(covered, action):
    callback = covered["callback"]
    with time_machine.travel(AFTER, tick=False):
        response = _post(covered["cover"], f"/api/v1/commitments/{callback.pk}/{action}/")
    assert (response.status_code, response.json()["code"]) == (403, "not_case_owner")


def test_the_cover_is_refused_before_the_absence_starts(covered):
    with time_machine.travel(MONDAY, tick=False):
        response = _post(
            covered["cover"],
            f"/api/v1/commitments/{covered['callback'].pk}/renegotiate/",
            {"within": "3 business days", "reason": "Later."},
        )
    assert (response.status_code, response.json()["code"]) == (403, "not_case_owner")


def test_a_colleague_who_does_not_cover_is_refused_during_the_absence(
    covered,
    team,
):
    colleague = make_agent(team, display_name="Priya Shah")
    with time_machine.travel(DURING, tick=False):
        response = _post(colleague, f"/api/v1/commitments/{covered['callback'].pk}/keep/")
    assert (response.status_code, response.json()["code"]) == (403, "not_case_owner")


def test_the_on_duty_agent_covers_when_there_is_no_backup(covered, team):
    profile = covered["owner"].agent_profile
    profile.backup_agent = None
    profile.save()
    on_duty = make_agent(team, display_name="Dan Duty")
    team.on_duty = on_duty
    team.save()
    with time_machine.travel(DURING, tick=False):
        refused = _post(covered["cover"], f"/api/v1/commitments/{covered['callback'].pk}/keep/")
        kept = _post(on_duty, f"/api/v1/commitments/{covered['callback'].pk}/keep/")
    assert refused.status_code == 403
    assert kept.status_code == 200, kept.content


def test_the_cover_replies_to_the_customer_for_the_owner(covered):
    with time_machine.travel(DURING, tick=False):
        contact = contact_reply_send(
            case=covered["case"], by=covered["cover"], body="Dear customer, the refund is on."
        )
    assert contact.agent_id == covered["cover"].pk
    event = CaseEvent.objects.get(case=covered["case"], kind="contact_to_customer")
    assert event.data["on_behalf_of"] == covered["owner"].pk


def test_the_cover_cannot_reply_once_the_owner_is_back(covered):
    with time_machine.travel(AFTER, tick=False), pytest.raises(CaseRuleError) as refused:
        contact_reply_send(case=covered["case"], by=covered["cover"], body="Hello again.")
    assert (refused.value.code, refused.value.status_code) == ("not_case_owner", 403)


def test_the_cover_records_a_call_for_the_owner(covered):
    with time_machine.travel(DURING, tick=False):
        response = _post(
            covered["cover"],
            f"/api/v1/cases/{covered['case'].ref}/contacts/",
            {"direction": "to_customer", "channel": "phone", "summary": "Called: refund is on."},
        )
    assert response.status_code == 201, response.content
    event = CaseEvent.objects.get(case=covered["case"], kind="contact_to_customer")
    assert (event.actor_id, event.data["on_behalf_of_name"]) == (
        covered["cover"].pk,
        "Oliver Bennett",
    )


def _open_ids(case):
    return list(Commitment.objects.filter(case=case, status="open").values_list("pk", flat=True))


def _offer_body(to):
    return {"to_agent": to.pk, "reason": "absence", **good_summary().__dict__}


def test_the_cover_offers_a_hand_off_for_the_owner(covered, team):
    receiver = make_agent(team, display_name="Rita Receiver")
    with time_machine.travel(DURING, tick=False):
        response = _post(
            covered["cover"],
            f"/api/v1/cases/{covered['case'].ref}/handoffs/",
            {**_offer_body(receiver), "briefed_commitments": _open_ids(covered["case"])},
        )
    assert response.status_code == 201, response.content
    handoff = Handoff.objects.get(case=covered["case"])
    assert (handoff.from_agent_id, handoff.offered_by_id) == (
        covered["owner"].pk,
        covered["cover"].pk,
    )
    event = CaseEvent.objects.get(case=covered["case"], kind="handoff_offered")
    assert event.data["on_behalf_of"] == covered["owner"].pk


def test_the_cover_cannot_offer_once_the_owner_is_back(covered, team):
    receiver = make_agent(team, display_name="Rita Receiver")
    with time_machine.travel(AFTER, tick=False):
        response = _post(
            covered["cover"],
            f"/api/v1/cases/{covered['case'].ref}/handoffs/",
            _offer_body(receiver),
        )
    assert response.status_code == 403
    assert response.json()["code"] == "handoff_not_allowed"


def test_the_owner_and_a_manager_are_recorded_as_themselves(covered, manager):
    with time_machine.travel(MONDAY, tick=False):
        contact_reply_send(case=covered["case"], by=covered["owner"], body="Owner writes.")
        contact_reply_send(case=covered["case"], by=manager, body="Manager writes.")
    events = CaseEvent.objects.filter(case=covered["case"], kind="contact_to_customer")
    assert [e.data.get("on_behalf_of") for e in events] == [None, None]


def test_the_timeline_says_amelia_for_oliver(covered, client):
    with time_machine.travel(DURING, tick=False):
        contact_reply_send(
            case=covered["case"], by=covered["cover"], body="Dear customer, the refund is on."
        )
        client.force_login(covered["cover"])
        html = client.get(f"/cases/{covered['case'].ref}/").content.decode()
    assert "Amelia Clarke for Oliver Bennett" in html


def test_the_promise_report_counts_it_for_the_owner_and_shows_the_cover(covered, manager):
    with time_machine.travel(DURING, tick=False):
        _post(covered["cover"], f"/api/v1/commitments/{covered['callback'].pk}/keep/")
        client = Client()
        client.force_login(manager)
        html = client.get(
            "/manage/promises/", {"team": covered["case"].team_id, "status": "kept"}
        ).content.decode()
    [row] = [r for r in html.split("<tr>") if "kept by" in r]
    assert covered["case"].ref in row
    assert "Oliver Bennett" in row
    assert "kept by Amelia Clarke" in row
