"""The case page: what it shows, to whom, in which time zone, its paged timeline, and its
note and status forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, EventKind
from commitments.services import commitment_create
from tests.factories import CaseFactory
from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db


def test_the_case_page_shows_customer_owner_history_promises_and_timeline(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Dr Hopper" in html  # as they want to be addressed
    assert "Asia/Tokyo" in html
    assert "Billing Specialist" in html and org["owner"].agent_profile.direct_email in html
    assert org["other_case"].ref in html  # their earlier case, from another team: history
    assert "I will call you back with the refund reference." in html
    assert "customer sounded upset" in html  # the note, for agents
    assert "/c/" in html  # the customer link to send


def test_another_teams_case_is_not_found(org):
    assert client_for(org["outsider"]).get(case_url(org["case"])).status_code == 404
    assert client_for(org["owner"]).get("/cases/CASE-999999/").status_code == 404
    assert client_for(org["owner"]).get("/cases/nonsense/").status_code == 404


def test_another_teams_case_refuses_every_form(org):
    client = client_for(org["outsider"])
    ref = org["case"].ref
    for url in [f"/cases/{ref}/notes/", f"/cases/{ref}/update/", f"/cases/{ref}/handoffs/"]:
        assert client.post(url, {"text": "x"}).status_code == 404
    assert not CaseEvent.objects.filter(case=org["case"], actor=org["outsider"]).exists()


def test_the_case_page_times_are_in_the_teams_time_zone(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Times are shown in Europe/London." in html


@pytest.mark.parametrize("events", [2, 60])
def test_the_case_page_runs_a_fixed_number_of_queries(org, events, django_assert_max_num_queries):
    from cases.services import case_add_note

    for i in range(events):
        case_add_note(case=org["case"], by=org["owner"], text=f"note {i}")
    for _ in range(events // 10):
        CaseFactory(team=org["team"], customer=org["customer"])
        commitment_create(
            case=org["case"],
            by=org["owner"],
            description="Another update for you.",
            kind="update",
            due=timezone.now() + timedelta(days=2),
        )
    client = client_for(org["owner"])
    # three of them for the act-first block: its promises, its calls, its live stamp
    with django_assert_max_num_queries(14):
        assert client.get(case_url(org["case"])).status_code == 200


def test_the_timeline_pages_to_older_events(org):
    from cases.services import case_add_note

    for i in range(35):
        case_add_note(case=org["case"], by=org["owner"], text=f"numbered note {i:02d}")
    client = client_for(org["owner"])
    html = client.get(case_url(org["case"])).content.decode()
    assert "numbered note 34" in html and "numbered note 00" not in html
    assert "Older events" in html
    older = html.split('href="?before=')[1].split('#timeline"')[0]
    html2 = client.get(case_url(org["case"]) + "?before=" + older).content.decode()
    assert "numbered note 00" in html2


def test_the_timeline_pages_events_of_the_same_instant_without_losing_one(org):
    from cases.services import case_event_record

    moment = timezone.now()
    for i in range(35):
        case_event_record(
            case=org["case"],
            kind=EventKind.NOTE,
            actor=org["owner"],
            at=moment,
            data={"text": f"same instant {i:02d}"},
        )
    client = client_for(org["owner"])
    seen: list[str] = []
    url = case_url(org["case"])
    for _ in range(5):
        html = client.get(url).content.decode()
        seen += [f"same instant {i:02d}" for i in range(35) if f"same instant {i:02d}<" in html]
        if 'href="?before=' not in html:
            break
        cursor = html.split('href="?before=')[1].split("#timeline")[0]
        url = case_url(org["case"]) + "?before=" + cursor
    assert sorted(set(seen)) == [f"same instant {i:02d}" for i in range(35)]
    assert len(seen) == 35


def test_adding_a_note_calls_the_service(org):
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "notes/", {"text": "Called billing, waiting on them."}
    )
    assert response.status_code == 302
    assert CaseEvent.objects.filter(
        case=org["case"], kind=EventKind.NOTE, data__text="Called billing, waiting on them."
    ).exists()


def test_a_colleague_sees_the_services_message_when_adding_a_note(org):
    response = client_for(org["colleague"]).post(
        case_url(org["case"]) + "notes/", {"text": "Not mine to write."}
    )
    assert response.status_code == 400
    assert (
        "Only the case&#x27;s owner, their cover while they are away, or a manager of its team"
        " can change it." in response.content.decode()
    )
    assert not CaseEvent.objects.filter(data__text="Not mine to write.").exists()


def test_changing_status_and_priority_calls_the_service(org):
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "update/",
        {"status": "waiting_on_customer", "priority": "high", "reason": ""},
    )
    assert response.status_code == 302
    org["case"].refresh_from_db()
    assert (org["case"].status, org["case"].priority) == ("waiting_on_customer", "high")


def test_reopening_a_closed_case_without_a_reason_shows_the_field_error(org):
    Case.objects.filter(pk=org["case"].pk).update(status=CaseStatus.CLOSED)
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "update/", {"status": "open", "priority": "normal"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "A closed case can be reopened only with a reason." in html
    assert "Say why the case is reopened." in html
