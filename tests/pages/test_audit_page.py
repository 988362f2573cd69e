"""The manager's hand-off audit page: the manager's teams only, filters, review, CSV."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import HandoffReview, HandoffStatus
from tests.factories import CaseFactory, HandoffFactory
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit(org):
    mine = HandoffFactory(case=CaseFactory(team=org["team"], subject="Mine plain"))
    flagged = HandoffFactory(
        case=CaseFactory(team=org["team"], subject="Mine flagged"),
        flags=["back_to_previous_owner"],
        quality_score=35,
    )
    theirs = HandoffFactory(case=CaseFactory(team=org["other_team"], subject="Not mine"))
    return {"mine": mine, "flagged": flagged, "theirs": theirs, **org}


def test_an_agent_who_manages_nothing_gets_not_found(audit):
    assert client_for(audit["owner"]).get("/manage/handoffs/").status_code == 404
    assert client_for(audit["owner"]).get("/manage/handoffs.csv").status_code == 404


def test_the_manager_sees_their_teams_handoffs_only(audit):
    html = client_for(audit["manager"]).get("/manage/handoffs/").content.decode()
    assert audit["mine"].case.ref in html and audit["flagged"].case.ref in html
    assert audit["theirs"].case.ref not in html
    assert "back to previous owner" in html and "35/100" in html


def test_the_flagged_and_score_filters(audit):
    client = client_for(audit["manager"])
    html = client.get("/manage/handoffs/?flagged=on").content.decode()
    assert audit["flagged"].case.ref in html and audit["mine"].case.ref not in html
    html = client.get("/manage/handoffs/?score_below=50").content.decode()
    assert audit["flagged"].case.ref in html and audit["mine"].case.ref not in html


def test_the_agent_and_date_filters(audit):
    client = client_for(audit["manager"])
    agent = audit["mine"].to_agent
    html = client.get(f"/manage/handoffs/?agent={agent.pk}").content.decode()
    assert audit["mine"].case.ref in html and audit["flagged"].case.ref not in html
    today = timezone.now().date().isoformat()
    html = client.get(f"/manage/handoffs/?date_from={today}&date_to={today}").content.decode()
    assert audit["mine"].case.ref in html
    html = client.get("/manage/handoffs/?date_to=2000-01-01").content.decode()
    assert audit["mine"].case.ref not in html


def test_a_review_calls_the_service(audit):
    response = client_for(audit["manager"]).post(
        f"/manage/handoffs/{audit['mine'].pk}/review/",
        {
            "context_complete": 5,
            "next_step_clear": 4,
            "commitments_carried": 3,
            "customer_informed": 2,
            "comment": "Clear brief.",
            "next": "/manage/handoffs/?flagged=on",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/manage/handoffs/?flagged=on"
    review = HandoffReview.objects.get(handoff=audit["mine"])
    assert (review.context_complete, review.customer_informed, review.comment) == (
        5,
        2,
        "Clear brief.",
    )


def test_a_second_review_shows_the_services_message(audit):
    data = {
        "context_complete": 5,
        "next_step_clear": 4,
        "commitments_carried": 3,
        "customer_informed": 2,
    }
    client = client_for(audit["manager"])
    client.post(f"/manage/handoffs/{audit['mine'].pk}/review/", data)
    response = client.post(f"/manage/handoffs/{audit['mine'].pk}/review/", data, follow=True)
    assert "You have reviewed this hand-off already." in response.content.decode()
    assert HandoffReview.objects.filter(handoff=audit["mine"]).count() == 1


def test_another_teams_handoff_cannot_be_reviewed(audit):
    response = client_for(audit["manager"]).post(
        f"/manage/handoffs/{audit['theirs'].pk}/review/",
        {
            "context_complete": 5,
            "next_step_clear": 5,
            "commitments_carried": 5,
            "customer_informed": 5,
        },
    )
    assert response.status_code == 404


def test_the_csv_follows_the_filters(audit):
    response = client_for(audit["manager"]).get("/manage/handoffs.csv?flagged=on")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,case,team")
    assert len(lines) == 2 and audit["flagged"].case.ref in lines[1]


@pytest.mark.parametrize("n", [1, 30])
def test_the_audit_runs_a_fixed_number_of_queries(org, n, django_assert_max_num_queries):
    for _ in range(n):
        HandoffFactory(case=CaseFactory(team=org["team"]), status=HandoffStatus.ACCEPTED)
    client = client_for(org["manager"])
    with django_assert_max_num_queries(8):
        assert client.get("/manage/handoffs/").status_code == 200


def test_each_card_has_the_review_scores_with_3_chosen(audit):
    import re

    from cases.models import Handoff

    pk = audit["mine"].pk
    Handoff.objects.filter(pk=pk).update(status="declined")  # a decided hand-off is reviewed
    html = client_for(audit["manager"]).get("/manage/handoffs/").content.decode()
    for name in ("context_complete", "next_step_clear", "commitments_carried", "customer_informed"):
        select = re.search(f'<select name="{name}" id="r{pk}-{name}" required>(.*?)</select>', html)
        assert select is not None, name
        options = re.findall(r'<option value="(\d)"( selected)?>(\d)</option>', select.group(1))
        assert [(v, label) for v, _, label in options] == [(str(i), str(i)) for i in range(1, 6)]
        assert [v for v, chosen, _ in options if chosen] == ["3"]
        assert f'<label for="r{pk}-{name}">' in html
