"""The agent's pages: login, My queue, the case page and its forms, opening a case."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, EventKind, Handoff, HandoffStatus
from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_create
from tests.cases.factories_handoff import good_summary, offer
from tests.factories import CaseFactory, make_agent
from tests.pages.conftest import client_for

pytestmark = pytest.mark.django_db


def offer_briefed(case: Case, **kwargs) -> Handoff:
    """An offer that ticks every open promise of the case as briefed."""
    ids = list(Commitment.objects.filter(case=case, status="open").values_list("pk", flat=True))
    return offer(case, briefed_commitments=ids, **kwargs)


def case_url(case: Case) -> str:
    return f"/cases/{case.ref}/"


# --- login and navigation ---------------------------------------------------------------------


def test_the_login_page_renders_with_labelled_fields():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_logging_in_leads_to_the_queue(org):
    response = Client().post(
        "/accounts/login/",
        {"username": org["owner"].username, "password": "pw-for-tests-only"},
    )
    assert response.status_code == 302 and response["Location"] == "/start/"
    landing = Client()
    landing.force_login(org["owner"])
    assert landing.get("/start/")["Location"] == "/queue/"


def test_logout_is_a_post_form_in_the_header(org):
    html = client_for(org["owner"]).get("/queue/").content.decode()
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html


def test_pages_need_a_login(org):
    for url in ["/queue/", case_url(org["case"]), "/cases/new/", "/manage/handoffs/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_audit_link_shows_only_for_managers(org):
    assert "/manage/handoffs/" not in client_for(org["owner"]).get("/queue/").content.decode()
    assert "/manage/handoffs/" in client_for(org["manager"]).get("/queue/").content.decode()


# --- My queue ---------------------------------------------------------------------------------


def test_the_queue_lists_my_open_cases_by_next_promise_due(org):
    owner = org["owner"]
    later = CaseFactory(team=org["team"], owner=owner, subject="Later one")
    sooner = CaseFactory(team=org["team"], owner=owner, subject="Sooner one")
    Case.objects.filter(pk=later.pk).update(next_due_at=timezone.now() + timedelta(days=9))
    Case.objects.filter(pk=sooner.pk).update(next_due_at=timezone.now() + timedelta(minutes=5))
    CaseFactory(team=org["team"], owner=owner, subject="Closed one", status=CaseStatus.CLOSED)
    html = client_for(owner).get("/queue/").content.decode()
    assert html.index("Sooner one") < html.index("Charged twice") < html.index("Later one")
    assert "Closed one" not in html


def test_the_queue_flags_an_overdue_case(org):
    late = CaseFactory(team=org["team"], owner=org["owner"], subject="Late one")
    commitment_create(
        case=late,
        by=org["owner"],
        description="Call back within the hour.",
        kind="callback",
        due=timezone.now() + timedelta(hours=1),
    )
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        html = client_for(org["owner"]).get("/queue/").content.decode()
    row = html.split("Late one")[0].rsplit("<tr", 1)[1]
    assert 'class="overdue"' in row
    assert "badge overdue" in html.split("Late one")[1].split("</tr>")[0]


def test_the_queue_pages(org):
    for i in range(30):
        CaseFactory(team=org["team"], owner=org["owner"], subject=f"Bulk case {i}")
    first = client_for(org["owner"]).get("/queue/")
    assert "Page 1 of 2" in first.content.decode()
    second = client_for(org["owner"]).get("/queue/?page=2")
    assert second.status_code == 200 and "Page 2 of 2" in second.content.decode()


def _queue_queries(org, n: int, django_assert_max_num_queries) -> None:
    for i in range(n):
        case = CaseFactory(team=org["team"], owner=org["owner"], subject=f"Bulk {i}")
        offer(CaseFactory(team=org["team"]), to=org["owner"]) if i < 3 else None
        Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() + timedelta(hours=i))
    client = client_for(org["owner"])
    with django_assert_max_num_queries(8):
        assert client.get("/queue/").status_code == 200


@pytest.mark.parametrize("n", [1, 40])
def test_the_queue_runs_a_fixed_number_of_queries(org, n, django_assert_max_num_queries):
    _queue_queries(org, n, django_assert_max_num_queries)


def test_the_queue_shows_offers_waiting_with_the_brief_and_accepts_one(org):
    theirs = CaseFactory(team=org["team"], owner=org["colleague"], subject="Needs you")
    handoff = offer(theirs, to=org["owner"])
    client = client_for(org["owner"])
    html = client.get("/queue/").content.decode()
    assert "Needs you" in html and good_summary().next_step in html
    response = client.post(f"/handoffs/{handoff.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == case_url(theirs)
    theirs.refresh_from_db()
    assert theirs.owner == org["owner"]


def test_declining_an_offer_needs_a_reason_and_keeps_the_owner(org):
    theirs = CaseFactory(team=org["team"], owner=org["colleague"])
    handoff = offer(theirs, to=org["owner"])
    client = client_for(org["owner"])
    client.post(f"/handoffs/{handoff.pk}/decline/", {"reason": ""})
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OFFERED
    client.post(f"/handoffs/{handoff.pk}/decline/", {"reason": "On leave from tomorrow."})
    handoff.refresh_from_db()
    theirs.refresh_from_db()
    assert handoff.status == HandoffStatus.DECLINED and theirs.owner == org["colleague"]


def test_someone_else_cannot_accept_an_offer_meant_for_another(org):
    handoff = offer_briefed(org["case"], to=org["colleague"])
    response = client_for(org["manager"]).post(f"/handoffs/{handoff.pk}/accept/", follow=True)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OFFERED
    assert response.status_code == 200


# --- the case page ----------------------------------------------------------------------------


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
    with django_assert_max_num_queries(11):
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
    assert "Only the case&#x27;s owner or a manager of its team can change it." in (
        response.content.decode()
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


def test_offering_a_handoff_with_a_weak_summary_shows_the_gate_errors(org):
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["colleague"].pk,
            "reason": "shift_end",
            "customer_needs": "see notes",
            "actions_taken": "see notes",
            "customer_expectations": "see notes",
            "next_step": "see notes",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert not Handoff.objects.filter(case=org["case"]).exists()


def test_offering_a_handoff_with_a_good_brief_creates_the_offer(org):
    summary = good_summary()
    response = client_for(org["owner"]).post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["colleague"].pk,
            "reason": "shift_end",
            "customer_needs": summary.customer_needs,
            "actions_taken": summary.actions_taken,
            "customer_expectations": summary.customer_expectations,
            "next_step": summary.next_step,
            "briefed_commitments": [
                c.pk for c in Commitment.objects.filter(case=org["case"], status="open")
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    handoff = Handoff.objects.get(case=org["case"])
    assert handoff.to_agent == org["colleague"] and handoff.status == HandoffStatus.OFFERED
    org["case"].refresh_from_db()
    assert org["case"].owner == org["owner"]  # the sender stays accountable until acceptance


def test_the_offer_form_lists_the_open_promises_to_brief(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert f'name="briefed_commitments" value="{org["promise"].pk}"' in html


# --- promises on the case page -----------------------------------------------------------------


def test_recording_a_promise_in_business_time_calls_the_service(org):
    response = client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {
            "description": "Refund confirmed by email.",
            "kind": "refund",
            "within": "2 business days",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Commitment.objects.get(description="Refund confirmed by email.")
    assert made.made_in_business_time and made.owner == org["owner"]


def test_a_due_time_on_the_form_is_read_in_the_teams_time_zone(org):
    due = (timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    london = due.astimezone(zoneinfo.ZoneInfo("Europe/London"))
    client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {
            "description": "Delivery slot confirmed.",
            "kind": "delivery",
            "due_at": london.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Commitment.objects.get(description="Delivery slot confirmed.").due_at == due


def test_an_unreadable_span_shows_the_services_field_error(org):
    response = client_for(org["owner"]).post(
        f"/cases/{org['case'].ref}/commitments/new/",
        {"description": "Something soon.", "kind": "update", "within": "soonish"},
    )
    assert response.status_code == 400
    assert "Write e.g. “2 business days” or “4 business hours”." in response.content.decode()


def test_keeping_a_promise_calls_the_service(org):
    client_for(org["owner"]).post(f"/commitments/{org['promise'].pk}/keep/")
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.KEPT


def test_renegotiating_a_promise_creates_its_successor(org):
    response = client_for(org["owner"]).post(
        f"/commitments/{org['promise'].pk}/renegotiate/",
        {"within": "3 business days", "reason": "Billing needs another day to approve it."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.RENEGOTIATED
    assert org["promise"].successor is not None


def test_withdrawing_needs_a_reason(org):
    response = client_for(org["owner"]).post(
        f"/commitments/{org['promise'].pk}/withdraw/", {"reason": ""}
    )
    assert response.status_code == 400
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.OPEN


def test_another_teams_promise_is_not_found(org):
    response = client_for(org["outsider"]).post(f"/commitments/{org['promise'].pk}/keep/")
    assert response.status_code == 404


def test_a_colleague_cannot_keep_the_owners_promise(org):
    client_for(org["colleague"]).post(f"/commitments/{org['promise'].pk}/keep/")
    org["promise"].refresh_from_db()
    assert org["promise"].status == CommitmentStatus.OPEN


# --- opening a case ---------------------------------------------------------------------------


def test_opening_a_case_for_an_existing_customer(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "customer": org["customer"].pk,
            "team": org["team"].pk,
            "channel": "phone",
            "subject": "Card declined",
            "priority": "normal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(subject="Card declined")
    assert case.customer == org["customer"] and response["Location"] == case_url(case)


def test_opening_a_case_for_a_new_customer_with_a_named_owner(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "new_name": "Katherine Johnson",
            "new_title": "Mrs",
            "new_addressed_as": "Katherine",
            "new_email": "kj@example.org",
            "new_time_zone": "America/New_York",
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Wrong address on invoice",
            "priority": "high",
            "owner": org["colleague"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(subject="Wrong address on invoice")
    assert case.owner == org["colleague"] and case.customer.addressed_as == "Katherine"


def test_opening_a_case_needs_exactly_one_customer(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {"team": org["team"].pk, "channel": "email", "subject": "Nobody", "priority": "normal"},
    )
    assert response.status_code == 400
    assert "Choose an existing customer or give a new customer" in response.content.decode()


def test_opening_a_case_with_an_owner_outside_the_team_shows_the_services_error(org):
    other_team_agent = make_agent(org["team"])
    org["team"].agents.remove(other_team_agent.agent_profile)
    response = client_for(org["manager"]).post(
        "/cases/new/",
        {
            "customer": org["customer"].pk,
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Wrong owner",
            "priority": "normal",
            "owner": org["outsider"].pk,
        },
    )
    assert response.status_code == 400
    assert not Case.objects.filter(subject="Wrong owner").exists()


def test_the_customer_picker_searches_by_name(org):
    html = client_for(org["owner"]).get("/cases/new/?q=hopper").content.decode()
    assert "Grace Hopper" in html


def test_a_promise_on_a_case_reaches_the_queue_order(org):
    case = CaseFactory(team=org["team"], owner=org["owner"], subject="Urgent promise")
    commitment_create(
        case=case,
        by=org["owner"],
        description="Call back in ten minutes.",
        kind="callback",
        due=timezone.now() + timedelta(minutes=10),
    )
    html = client_for(org["owner"]).get("/queue/").content.decode()
    assert html.index("Urgent promise") < html.index("Charged twice")


def test_a_manager_reassigns_a_case_to_another_team_they_manage(org):
    org["other_team"].managers.add(org["manager"])
    summary = good_summary()
    client = client_for(org["manager"])
    html = client.get(case_url(org["case"])).content.decode()
    assert "Team that takes the case" in html
    assert f'<option value="{org["outsider"].pk}">Otto Side' in html
    response = client.post(
        case_url(org["case"]) + "handoffs/",
        {
            "to_agent": org["outsider"].pk,
            "reason": "manager_reassignment",
            "customer_needs": summary.customer_needs,
            "actions_taken": summary.actions_taken,
            "customer_expectations": summary.customer_expectations,
            "next_step": summary.next_step,
            "to_team": org["other_team"].pk,
            "briefed_commitments": [
                c.pk for c in Commitment.objects.filter(case=org["case"], status="open")
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    handoff = Handoff.objects.get(case=org["case"])
    assert handoff.to_team == org["other_team"] and handoff.to_agent == org["outsider"]


def test_an_agent_offers_only_to_their_cases_team(org):
    html = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Team that takes the case" not in html
    assert f'<option value="{org["outsider"].pk}">' not in html


def test_the_site_root_leads_to_the_queue_or_the_login(org):
    assert Client().get("/")["Location"] == "/accounts/login/"
    assert client_for(org["owner"]).get("/")["Location"] == "/queue/"
