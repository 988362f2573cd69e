"""The hand-off API: the permission matrix, the error shape, fixed query counts, the audit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from cases.handoffs.outcomes import handoff_customer_acknowledge
from cases.models import Case, Handoff, HandoffReview, HandoffStatus
from tests.cases.conftest import assert_error, client_for
from tests.factories import (
    CaseFactory,
    HandoffFactory,
    good_summary,
    offer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hooks")]


def offer_body(to, **overrides) -> dict:
    body = {"to_agent": to.pk, "reason": "shift_end", **good_summary().__dict__}
    body.update(overrides)
    return body


def url(case) -> str:
    return f"/api/v1/cases/{case.ref}/handoffs/"


# --- offering ---------------------------------------------------------------------------------


def test_the_owner_offers_and_gets_the_handoff_back(world):
    response = client_for(world["owner"]).post(url(world["case"]), offer_body(world["receiver"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case"] == world["case"].ref
    assert body["from_agent"]["id"] == world["owner"].pk
    assert body["to_agent"]["id"] == world["receiver"].pk
    assert body["status"] == "offered"
    assert body["next_step"] == good_summary().next_step
    for field in ("offered_at", "decided_at", "quality_score", "flags", "reason"):
        assert field in body


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("colleague", 403, "handoff_not_allowed"),
        ("receiver", 403, "handoff_not_allowed"),
        ("outsider", 404, "not_found"),
        ("other_manager", 404, "not_found"),
    ],
)
def test_only_the_owner_or_a_manager_offers(world, who, status, code):
    response = client_for(world[who]).post(url(world["case"]), offer_body(world["receiver"]))
    assert_error(response, status, code)


def test_a_manager_offers(world):
    response = client_for(world["manager"]).post(url(world["case"]), offer_body(world["receiver"]))
    assert response.status_code == 201


def test_a_weak_summary_is_a_400_with_field_errors(world):
    body = offer_body(world["receiver"], customer_needs="see notes", actions_taken="")
    del body["next_step"]
    response = client_for(world["owner"]).post(url(world["case"]), body, format="json")
    error = assert_error(response, 400, "handoff_summary_incomplete")
    assert set(error["fields"]) == {"customer_needs", "actions_taken", "next_step"}


@pytest.mark.parametrize(
    ("to", "code"),
    [("owner", "handoff_to_self"), ("outsider", "handoff_receiver_not_in_team")],
)
def test_bad_receivers_are_refused_with_a_clear_code(world, to, code):
    response = client_for(world["owner"]).post(url(world["case"]), offer_body(world[to]))
    assert_error(response, 400, code)


@pytest.mark.parametrize(
    "body",
    [
        {"to_agent": "x", "reason": "shift_end"},
        {"to_agent": 1, "reason": "bored"},
        {"reason": "shift_end"},
        {"to_agent": 99999, "reason": "shift_end"},
        {"to_agent": 1, "reason": "shift_end", "briefed_commitments": "all"},
        {"to_agent": 1, "reason": "shift_end", "to_team": 99999},
    ],
)
def test_bad_input_is_a_400_never_a_500(world, body):
    response = client_for(world["owner"]).post(url(world["case"]), body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"code", "message", "fields"}


def test_a_second_open_offer_is_a_409(world):
    client = client_for(world["owner"])
    client.post(url(world["case"]), offer_body(world["receiver"]))
    response = client.post(url(world["case"]), offer_body(world["colleague"]))
    assert_error(response, 409, "handoff_already_open")


# --- deciding ---------------------------------------------------------------------------------

DECIDE = {
    # action: who may, who gets 403 (same team), who gets 404 (other team)
    "accept": ({"receiver"}, {"owner", "colleague", "manager"}),
    "decline": ({"receiver"}, {"owner", "colleague", "manager"}),
    "cancel": ({"owner", "manager"}, {"receiver", "colleague"}),
}


@pytest.mark.parametrize("action", DECIDE)
@pytest.mark.parametrize(
    "who", ["owner", "receiver", "colleague", "manager", "outsider", "other_manager"]
)
def test_the_decision_permission_matrix(world, action, who):
    handoff = offer(world["case"], to=world["receiver"])
    allowed, forbidden = DECIDE[action]
    response = client_for(world[who]).post(
        f"/api/v1/handoffs/{handoff.pk}/{action}/", {"reason": "Not my area, sorry."}
    )
    if who in allowed:
        assert response.status_code == 200, response.content
        assert response.json()["status"] != "offered"
    elif who in forbidden:
        assert response.status_code == 403, response.content
    else:
        assert_error(response, 404, "not_found")


def test_accepting_moves_the_case(world):
    handoff = offer(world["case"], to=world["receiver"])
    response = client_for(world["receiver"]).post(f"/api/v1/handoffs/{handoff.pk}/accept/")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["quality_score"] is not None
    assert Case.objects.get(pk=world["case"].pk).owner == world["receiver"]


def test_accepting_twice_is_a_409(world):
    handoff = offer(world["case"], to=world["receiver"])
    client = client_for(world["receiver"])
    client.post(f"/api/v1/handoffs/{handoff.pk}/accept/")
    assert_error(client.post(f"/api/v1/handoffs/{handoff.pk}/accept/"), 409, "handoff_not_open")


def test_declining_without_a_reason_is_a_400(world):
    handoff = offer(world["case"], to=world["receiver"])
    response = client_for(world["receiver"]).post(f"/api/v1/handoffs/{handoff.pk}/decline/")
    assert_error(response, 400, "decline_reason_required")


def test_an_unknown_handoff_is_a_404(world):
    assert_error(client_for(world["owner"]).post("/api/v1/handoffs/999/accept/"), 404, "not_found")


# --- review -----------------------------------------------------------------------------------

RUBRIC = {"context_complete": 4, "next_step_clear": 5, "commitments_carried": 3,
          "customer_informed": 4, "comment": "Clear brief."}  # fmt: skip


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 201), ("owner", 403), ("receiver", 403), ("colleague", 403),
     ("outsider", 404), ("other_manager", 404)],
)  # fmt: skip
def test_only_managers_review(world, who, status):
    handoff = HandoffFactory(case=world["case"], to_agent=world["receiver"])
    response = client_for(world[who]).post(f"/api/v1/handoffs/{handoff.pk}/review/", RUBRIC)
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["context_complete"] == 4
        assert HandoffReview.objects.get().reviewer == world["manager"]


def test_a_review_score_out_of_range_is_a_400(world):
    handoff = HandoffFactory(case=world["case"])
    response = client_for(world["manager"]).post(
        f"/api/v1/handoffs/{handoff.pk}/review/", {**RUBRIC, "next_step_clear": 9}
    )
    error = assert_error(response, 400, "invalid_review_scores")
    assert list(error["fields"]) == ["next_step_clear"]


# --- lists and query counts -------------------------------------------------------------------


def _many_handoffs(world, n):
    for _ in range(n):
        case = CaseFactory(team=world["team"], owner=world["owner"])
        HandoffFactory(case=case, flags=["fourth_owner"] if _ % 2 else [])


@pytest.mark.parametrize("n", [1, 12])
def test_a_cases_handoff_list_runs_fixed_queries(world, n, django_assert_max_num_queries):
    for _ in range(n):
        HandoffFactory(case=world["case"], status=HandoffStatus.DECLINED)
    client = client_for(world["owner"])
    with django_assert_max_num_queries(6):
        response = client.get(url(world["case"]))
    assert response.status_code == 200
    assert response.json()["count"] == n


def test_the_queue_shows_offers_waiting_for_the_caller(world):
    handoff = offer(world["case"], to=world["receiver"])
    response = client_for(world["receiver"]).get("/api/v1/queue/")
    assert [o["id"] for o in response.json()["offers_waiting"]] == [handoff.pk]


@pytest.mark.parametrize("n", [2, 20])
def test_the_audit_runs_fixed_queries(world, n, django_assert_max_num_queries):
    _many_handoffs(world, n)
    client = client_for(world["manager"])
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/reports/handoffs/")
    assert response.status_code == 200
    assert response.json()["count"] == n
    assert response.json()["summary"]["total"] == n


def test_the_audit_is_for_managers_only(world):
    response = client_for(world["owner"]).get("/api/v1/reports/handoffs/")
    assert_error(response, 403, "manager_only")


def test_the_audit_shows_only_the_teams_the_caller_manages(world):
    HandoffFactory(case=world["case"])
    HandoffFactory(case=CaseFactory(team=world["other"]))
    rows = client_for(world["manager"]).get("/api/v1/reports/handoffs/").json()["results"]
    assert [r["case"] for r in rows] == [world["case"].ref]


def test_the_audit_filters(world):
    day = datetime(2026, 11, 2, 12, tzinfo=UTC)
    a = HandoffFactory(case=world["case"], offered_at=day, flags=["fourth_owner"],
                       quality_score=40)  # fmt: skip
    b = HandoffFactory(
        case=CaseFactory(team=world["team"], owner=world["colleague"]),
        offered_at=day + timedelta(days=3),
        quality_score=90,
    )
    HandoffReview.objects.create(
        handoff=b, reviewer=world["manager"], context_complete=5, next_step_clear=4,
        commitments_carried=3, customer_informed=4, reviewed_at=day,
    )  # fmt: skip
    client = client_for(world["manager"])

    def ids(**params):
        response = client.get("/api/v1/reports/handoffs/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [b.pk, a.pk]
    assert ids(flagged="true") == [a.pk]
    assert ids(flagged="false") == [b.pk]
    assert ids(score_below=50) == [a.pk]
    assert ids(agent=world["colleague"].pk) == [b.pk]
    assert ids(agent=a.to_agent_id) == [a.pk]
    assert ids(date_from="2026-11-03") == [b.pk]
    assert ids(date_to="2026-11-02") == [a.pk]
    assert ids(team=world["team"].pk) == [b.pk, a.pk]
    assert ids(team=world["other"].pk) == []
    row = client.get("/api/v1/reports/handoffs/", {"score_below": 100}).json()["results"][0]
    assert row["review_count"] == 1 and row["review_average"] == 4.0


def test_bad_audit_filters_are_a_400(world):
    response = client_for(world["manager"]).get(
        "/api/v1/reports/handoffs/", {"date_from": "yesterday", "score_below": "low"}
    )
    error = assert_error(response, 400, "invalid_input")
    assert set(error["fields"]) == {"date_from", "score_below"}


def test_the_audit_as_csv(world, django_assert_max_num_queries):
    _many_handoffs(world, 5)
    client = client_for(world["manager"])
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/reports/handoffs/", {"format": "csv", "flagged": "true"})
        content = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:3] == ["id", "case", "team"]
    assert len(rows) == 1 + 2
    assert all(row[14] == "fourth_owner" for row in rows[1:])


def test_the_schema_documents_the_handoff_endpoints(world):
    response = client_for(world["manager"]).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    assert "/api/v1/cases/{ref}/handoffs/" in paths
    assert "/api/v1/handoffs/{handoff_id}/accept/" in paths
    assert "/api/v1/reports/handoffs/" in paths


def test_acceptance_through_the_api_and_the_customers_acknowledgement(world):
    handoff = offer(world["case"], to=world["receiver"])
    client_for(world["receiver"]).post(f"/api/v1/handoffs/{handoff.pk}/accept/")
    handoff_customer_acknowledge(case=world["case"])
    assert Handoff.objects.get(pk=handoff.pk).customer_acknowledged_at is not None


def test_the_audit_csv_exports_a_formula_as_text(world):
    world["team"].name = "=1+1"
    world["team"].save()
    _many_handoffs(world, 1)
    response = client_for(world["manager"]).get("/api/v1/reports/handoffs/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][2] == "'=1+1"
