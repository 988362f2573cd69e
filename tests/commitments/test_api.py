"""The commitments API: shapes, permissions, error bodies, query counts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_create, commitment_mark_kept
from tests.commitments.conftest import london
from tests.factories import TeamFactory, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(time_machine):
    moment = london(2026, 11, 25, 10)
    time_machine.move_to(moment, tick=False)
    return moment


def url(case):
    return f"/api/v1/cases/{case.ref}/commitments/"


def make(case, by, due="2 business days", description="Call you back"):
    return commitment_create(case=case, by=by, description=description, kind="callback", due=due)


def test_the_owner_records_a_promise_within_business_time(now, open_case, agent, client_for):
    case = open_case()
    response = client_for(agent).post(
        url(case),
        {
            "description": "Call you back with a visit date",
            "kind": "callback",
            "within": "2 business days",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case"] == case.ref
    assert body["owner"] == {"id": agent.pk, "name": agent.agent_profile.display_name}
    assert body["due_at"] == "2026-11-27T10:00:00Z"
    assert body["status"] == "open" and body["within"] == "2 business days"
    for field in ("id", "description", "kind", "ended_at", "end_reason", "successor"):
        assert field in body


def test_a_promise_with_an_instant(now, open_case, agent, client_for):
    response = client_for(agent).post(
        url(open_case()),
        {
            "description": "Refund by Friday",
            "kind": "refund",
            "due_at": "2026-11-27T12:00:00+00:00",
        },
    )
    assert response.status_code == 201
    assert response.json()["made_in_business_time"] is False


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"description": "x", "kind": "callback"}, "due_required", "due_at"),
        (
            {"description": "x", "due_at": "2026-11-27T12:00:00Z", "within": "2 business days"},
            "due_required",
            "within",
        ),
        ({"description": "x", "within": "soonish"}, "invalid_within", "within"),
        ({"description": "x", "due_at": "2020-01-01T00:00:00Z"}, "due_in_past", "due_at"),
        ({"description": "x", "due_at": "not a date"}, "invalid_input", "due_at"),
        ({"description": "", "within": "1 business day"}, "invalid_input", "description"),
        ({"description": "x", "kind": "bribe", "within": "1 day"}, "invalid_input", "kind"),
    ],
)
def test_bad_input_gets_a_stable_code_and_field(
    now, open_case, agent, client_for, payload, code, field
):
    response = client_for(agent).post(url(open_case()), payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert field in body["fields"]
    assert set(body) == {"code", "message", "fields"}


def test_another_teams_case_is_not_found(now, open_case, client_for):
    stranger = make_agent(TeamFactory())
    case = open_case()
    assert client_for(stranger).get(url(case)).status_code == 404
    c = Commitment.objects.get(case=case)
    response = client_for(stranger).post(f"/api/v1/commitments/{c.pk}/keep/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_teammate_who_does_not_own_the_case_is_refused(now, open_case, team, client_for):
    case = open_case()
    teammate = make_agent(team)
    assert client_for(teammate).get(url(case)).status_code == 200
    response = client_for(teammate).post(
        url(case), {"description": "x", "within": "1 business day"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_case_owner")


def test_anonymous_callers_are_refused(now, open_case):
    response = APIClient().get(url(open_case()))
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_listing_takes_a_fixed_number_of_queries(
    now, open_case, agent, client_for, django_assert_max_num_queries, settings
):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100  # 24 promises on one case, one day
    case = open_case()
    client = client_for(agent)
    client.get(url(case))  # warm the per-user caches
    for _ in range(3):
        make(case, agent)
    with django_assert_max_num_queries(6) as few:
        client.get(url(case))
    for _ in range(20):
        make(case, agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(case))
    assert response.json()["count"] == 24


def test_keep_withdraw_renegotiate_confirm(now, open_case, agent, client_for):
    case = open_case()
    client = client_for(agent)
    a, b, c, d = (make(case, agent) for _ in range(4))
    assert client.post(f"/api/v1/commitments/{a.pk}/keep/").json()["status"] == "kept"
    again = client.post(f"/api/v1/commitments/{a.pk}/keep/")
    assert (again.status_code, again.json()["code"]) == (409, "commitment_not_open")
    response = client.post(f"/api/v1/commitments/{b.pk}/withdraw/", {"reason": ""})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")
    response = client.post(f"/api/v1/commitments/{b.pk}/withdraw/", {"reason": "Paid today."})
    assert response.json()["end_reason"] == "Paid today."
    response = client.post(
        f"/api/v1/commitments/{c.pk}/renegotiate/",
        {"within": "4 business days", "reason": "The part is late."},
    )
    assert response.status_code == 201
    successor = response.json()
    assert successor["due_at"] == "2026-12-01T10:00:00Z"
    c.refresh_from_db()
    assert (c.status, c.successor_id) == (CommitmentStatus.RENEGOTIATED, successor["id"])
    response = client.post(f"/api/v1/commitments/{d.pk}/confirm-on-track/")
    assert response.json()["confirmed_on_track_at"] == "2026-11-25T10:00:00Z"


def test_the_schema_documents_the_endpoints_and_error_shape(client_for, agent):
    schema = client_for(agent).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"]["/api/v1/cases/{ref}/commitments/"]["post"]
    assert {"201", "400", "403", "404"} <= set(create["responses"])
    assert "/api/v1/reports/commitments/" in schema["paths"]
    assert "/api/v1/commitments/{id}/renegotiate/" in schema["paths"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"description": "x", "within": "9999 business days"}, "due_too_far"),
        ({"description": "x", "due_at": "2031-01-01T00:00:00Z"}, "due_too_far"),
    ],
)
def test_promises_too_far_ahead_are_refused(now, open_case, agent, client_for, payload, code):
    response = client_for(agent).post(url(open_case()), payload)
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_a_calendar_without_hours_refuses_business_time_but_still_opens_cases(
    now, open_case, agent, team, client_for
):
    team.calendar.weekly_hours = {}
    team.calendar.save()
    case = open_case()
    first = Commitment.objects.get(case=case)
    assert first.due_at == now + team.first_response_target("email")
    response = client_for(agent).post(url(case), {"description": "x", "within": "1 business day"})
    assert (response.status_code, response.json()["code"]) == (400, "calendar_has_no_hours")


def test_the_list_filters_by_status(now, open_case, agent, client_for):
    case = open_case()
    kept = make(case, agent)
    commitment_mark_kept(commitment=kept, by=agent)
    client = client_for(agent)
    assert [c["id"] for c in client.get(url(case) + "?status=kept").json()["results"]] == [kept.pk]
    assert client.get(url(case) + "?status=open").json()["count"] == 1
    response = client.get(url(case) + "?status=nonsense")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")
