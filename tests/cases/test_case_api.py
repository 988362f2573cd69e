"""The case API: permission matrix, error shape for bad input, fixed query counts."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseStatus, Customer
from tests.cases.conftest import assert_error, client_for
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db


# --- the permission matrix --------------------------------------------------------------------

LIST_VISIBLE = {"owner": True, "colleague": True, "manager": True, "outsider": False}


@pytest.mark.parametrize("who", ["owner", "colleague", "manager", "outsider"])
def test_list_shows_only_the_callers_teams(world, who):
    response = client_for(world[who]).get("/api/v1/cases/")
    assert response.status_code == 200
    refs = [row["ref"] for row in response.json()["results"]]
    assert (world["case"].ref in refs) is LIST_VISIBLE[who]


@pytest.mark.parametrize("who", ["owner", "colleague", "manager"])
def test_detail_is_readable_by_the_team(world, who):
    response = client_for(world[who]).get(f"/api/v1/cases/{world['case'].ref}/")
    assert response.status_code == 200
    assert response.json()["ref"] == world["case"].ref


def test_detail_of_another_teams_case_is_404_not_403(world):
    response = client_for(world["outsider"]).get(f"/api/v1/cases/{world['case'].ref}/")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "who,status",
    [("owner", 200), ("manager", 200), ("colleague", 403), ("outsider", 404)],
)
def test_patch_by_owner_and_manager_only(world, who, status):
    response = client_for(world[who]).patch(
        f"/api/v1/cases/{world['case'].ref}/", {"priority": "high"}, format="json"
    )
    assert response.status_code == status, response.content
    world["case"].refresh_from_db()
    assert (world["case"].priority == "high") is (status == 200)


@pytest.mark.parametrize(
    "who,status", [("owner", 201), ("colleague", 201), ("manager", 201), ("outsider", 400)]
)
def test_create_only_in_own_teams(world, who, status):
    response = client_for(world[who]).post(
        "/api/v1/cases/",
        {
            "customer": CustomerFactory().pk,
            "team": world["team"].pk,
            "channel": "email",
            "subject": "Invoice wrong",
        },
        format="json",
    )
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["code"] == "team_not_found"


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/cases/"),
        ("post", "/api/v1/cases/"),
        ("get", "/api/v1/cases/CASE-000001/"),
        ("patch", "/api/v1/cases/CASE-000001/"),
        ("get", "/api/v1/queue/"),
    ],
)
def test_anonymous_gets_401_with_the_error_shape(world, method, path):
    response = getattr(client_for(None), method)(path, {}, format="json")
    body = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert body["message"]


def test_token_authentication_works(world):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=world["owner"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/queue/").status_code == 200


# --- creating and reading -----------------------------------------------------------------------


def test_create_with_a_new_customer_picks_the_owner_by_rule(world):
    response = client_for(world["manager"]).post(
        "/api/v1/cases/",
        {
            "new_customer": {
                "name": "Margaret Okafor",
                "title": "Mrs",
                "email": "m.okafor@example.org",
                "time_zone": "Europe/London",
            },
            "team": world["team"].pk,
            "channel": "phone",
            "subject": "Engineer did not arrive",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ref"].startswith("CASE-")
    assert body["customer"]["name"] == "Margaret Okafor"
    # the owner has an open case; of the two with none, the rule takes the first by id
    assert body["owner"]["id"] == min(world["receiver"].pk, world["colleague"].pk)
    assert "opened" in [e["kind"] for e in body["timeline"]]


def test_detail_carries_timeline_handoffs_and_customer_history(world):
    earlier = CaseFactory(team=world["team"], customer=world["case"].customer)
    body = client_for(world["owner"]).get(f"/api/v1/cases/{world['case'].ref}/").json()
    for key in ("timeline", "handoffs", "customer_history", "owner", "customer", "next_due_at"):
        assert key in body
    assert [c["ref"] for c in body["customer_history"]] == [earlier.ref]


def test_reopening_a_closed_case_without_reason_is_400(world):
    case = world["case"]
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    response = client_for(world["owner"]).patch(
        f"/api/v1/cases/{case.ref}/", {"status": "open"}, format="json"
    )
    body = assert_error(response, 400, "reopen_reason_required")
    assert "reason" in body["fields"]


def test_filters_narrow_the_list(world):
    CaseFactory(team=world["team"], owner=world["colleague"], status=CaseStatus.WAITING)
    client = client_for(world["manager"])
    rows = client.get("/api/v1/cases/", {"status": "waiting_on_customer"}).json()["results"]
    assert [r["status"] for r in rows] == ["waiting_on_customer"]
    rows = client.get("/api/v1/cases/", {"owner": world["owner"].pk}).json()["results"]
    assert [r["ref"] for r in rows] == [world["case"].ref]


def test_note_is_added_by_the_owner(world):
    response = client_for(world["owner"]).post(
        f"/api/v1/cases/{world['case'].ref}/notes/", {"text": "Called back"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "note"


def test_a_new_customer_may_be_given_by_the_parts_of_their_name(world):
    response = client_for(world["owner"]).post(
        "/api/v1/cases/",
        {
            "new_customer": {"given_name": "Anna", "family_name": "van der Berg", "title": "Mrs"},
            "team": world["team"].pk,
            "channel": "phone",
            "subject": "Engineer did not arrive",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    customer = response.json()["customer"]
    assert (customer["name"], customer["given_name"], customer["family_name"]) == (
        "Anna van der Berg",
        "Anna",
        "van der Berg",
    )
    assert Customer.objects.get(pk=customer["id"]).salutation_name == "Mrs van der Berg"


# --- bad input: 400 with the error shape, never a 500, nothing written ---------------------------

BAD_CREATES = [
    ({}, "invalid_input"),
    ({"channel": "pigeon", "subject": "x", "customer": 1}, "invalid_input"),
    ({"channel": "email", "subject": "", "customer": 1}, "invalid_input"),
    ({"channel": "email", "subject": "x"}, "invalid_input"),
    ({"channel": "email", "subject": "x", "customer": 999999}, "customer_not_found"),
    ({"channel": "email", "subject": "x", "customer": "abc"}, "invalid_input"),
    ({"channel": "email", "subject": "x", "new_customer": {"name": ""}}, "invalid_customer"),
    (
        {"channel": "email", "subject": "x", "new_customer": {"name": "A", "time_zone": "Mars/X"}},
        "invalid_input",
    ),
    ({"channel": "email", "subject": "x" * 201, "customer": 1}, "invalid_input"),
    ({"channel": "email", "subject": "x", "customer": 1, "owner": 999999}, "owner_not_in_team"),
    ({"channel": "email", "subject": "x", "customer": 1, "team": 999999}, "team_not_found"),
    ({"channel": "email", "subject": "x", "customer": 1, "priority": "asap"}, "invalid_input"),
    ([1, 2, 3], "invalid_input"),
]


@pytest.mark.parametrize("payload,code", BAD_CREATES)
def test_bad_create_input_is_a_400_with_the_error_shape(world, payload, code):
    if isinstance(payload, dict) and payload.get("customer") == 1:
        payload = {**payload, "customer": world["case"].customer_id}
    if isinstance(payload, dict):
        payload.setdefault("team", world["team"].pk)
    before = Case.objects.count()
    response = client_for(world["owner"]).post("/api/v1/cases/", payload, format="json")
    assert_error(response, 400, code)
    assert Case.objects.count() == before


def test_malformed_json_is_a_400(world):
    response = client_for(world["owner"]).post(
        "/api/v1/cases/", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "payload",
    [{}, {"status": "done"}, {"priority": 5}, {"status": None}, ["x"], {"reason": "only"}],
)
def test_bad_patch_input_is_a_400(world, payload):
    response = client_for(world["owner"]).patch(
        f"/api/v1/cases/{world['case'].ref}/", payload, format="json"
    )
    assert_error(response, 400)


@pytest.mark.parametrize(
    "query",
    [{"status": "nope"}, {"owner": "x"}, {"due_before": "yesterday"}, {"cursor": "zzz"}],
)
def test_bad_list_filters_are_400_not_500(world, query):
    response = client_for(world["owner"]).get("/api/v1/cases/", query)
    assert_error(response, 400, "invalid_cursor" if "cursor" in query else None)


@pytest.mark.parametrize("ref", ["nonsense", "CASE-", "CASE-99999999", "CASE-0000001x", "%00"])
def test_unknown_references_are_404(world, ref):
    response = client_for(world["owner"]).get(f"/api/v1/cases/{ref}/")
    assert_error(response, 404, "not_found")


def test_bad_note_is_a_400(world):
    response = client_for(world["owner"]).post(
        f"/api/v1/cases/{world['case'].ref}/notes/", {"text": ""}, format="json"
    )
    assert_error(response, 400, "invalid_input")


# --- fixed query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 40])
def test_list_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    for _ in range(size):
        CaseFactory(team=world["team"], owner=world["owner"])
    client = client_for(world["manager"])
    with django_assert_max_num_queries(2):  # the managed teams, the page: nothing counted
        response = client.get("/api/v1/cases/", {"page_size": 50})
    assert len(response.json()["results"]) == size + 1


@pytest.mark.parametrize("size", [5, 40])
def test_queue_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    for _ in range(size):
        CaseFactory(team=world["team"], owner=world["owner"])
    client = client_for(world["owner"])
    # the page, the count, the flags, the offers waiting and the owner's open tasks
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/queue/", {"page_size": 50})
    assert len(response.json()["results"]) == size + 1


def test_detail_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    from cases import services

    for i in range(30):
        services.case_add_note(case=world["case"], by=world["owner"], text=f"note {i}")
    for _ in range(5):
        CaseFactory(team=world["team"], customer=world["case"].customer)
    client = client_for(world["owner"])
    # the reader's teams, the case, its timeline, hand-offs, the customer's history, promises
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/cases/{world['case'].ref}/")
    assert len(response.json()["timeline"]) == 30


def test_queue_orders_by_next_promise_and_flags_overdue(world):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    owner = world["owner"]
    Case.objects.filter(pk=world["case"].pk).update(next_due_at=None)
    late = CaseFactory(team=world["team"], owner=owner, next_due_at=now - timedelta(hours=1))
    soon = CaseFactory(team=world["team"], owner=owner, next_due_at=now + timedelta(hours=2))
    CaseFactory(team=world["team"], owner=owner, status=CaseStatus.CLOSED)
    rows = client_for(owner).get("/api/v1/queue/").json()["results"]
    assert [r["ref"] for r in rows] == [late.ref, soon.ref, world["case"].ref]
    assert [r["overdue"] for r in rows] == [True, False, False]


@pytest.mark.parametrize(
    "query", [{"team": "15697706736712273920"}, {"owner": "-1"}, {"customer": "1e30"}]
)
def test_ids_out_of_range_in_filters_are_400(world, query):
    assert_error(client_for(world["owner"]).get("/api/v1/cases/", query), 400, "invalid_input")


def test_ids_out_of_range_in_a_body_are_400(world):
    response = client_for(world["owner"]).post(
        "/api/v1/cases/",
        {"customer": 2**64, "team": world["team"].pk, "channel": "email", "subject": "x"},
        format="json",
    )
    assert_error(response, 400, "invalid_input")


def test_ids_out_of_range_in_a_path_are_404(world):
    response = client_for(world["owner"]).post("/api/v1/handoffs/99999999999999999999/accept/")
    assert response.status_code == 404


def test_a_datetime_with_an_extreme_offset_is_normalised_to_utc(world):
    response = client_for(world["owner"]).get(
        "/api/v1/cases/", {"due_before": "0115-10-24T14:22:19-19:59"}
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00-05:00"])
def test_a_datetime_outside_the_utc_range_is_a_400(world, value):
    response = client_for(world["owner"]).get("/api/v1/cases/", {"due_before": value})
    body = assert_error(response, 400, "invalid_input")
    assert body["fields"] == {"due_before": ["Out of range."]}


def test_the_fast_queue_payload_is_what_the_documented_serializer_writes(world):
    """``cases.payloads`` builds the queue from rows; ``QueueRowOut`` documents it (OpenAPI):
    the same JSON for the same cases, flags and names included."""
    from datetime import timedelta

    from django.utils import timezone

    from cases import payloads, selectors
    from cases.models import AgentProfile, Customer
    from cases.queue_api import QueueRowOut

    owner = world["owner"]
    now = timezone.now()
    CaseFactory(team=world["team"], owner=owner, next_due_at=now - timedelta(hours=1))
    replied = CaseFactory(team=world["team"], owner=owner, awaiting_reply_since=now)
    Customer.objects.filter(pk=replied.customer_id).update(phone="+447700900021", title="Dr")
    AgentProfile.objects.filter(user=owner).update(display_name="")
    queue = selectors.queue_for(user=owner)
    documented = QueueRowOut(selectors.queue_rows(cases=list(queue), now=now), many=True).data
    fast = payloads.queue_payload(list(payloads.queue_values(queue)), now=now)
    assert fast == [dict(row) for row in documented]
    assert {r["customer_replied"] for r in fast} == {True, False}
    assert any(r["overdue"] for r in fast)


def test_the_fast_offers_and_tasks_are_what_the_documented_serializers_write(world):
    """The queue's offers waiting and open tasks come from rows too: the same JSON as
    ``OfferWaitingOut`` and ``OwnerTaskOut`` for the same offers and tasks."""
    from django.utils import timezone

    from cases import payloads
    from cases.handoffs import selectors as handoff_selectors
    from cases.models import AgentProfile, OwnerTask
    from cases.queue_api import OfferWaitingOut, OwnerTaskOut
    from cases.task_services import owner_tasks_open
    from tests.factories import make_agent, offer

    owner = world["owner"]
    named, unnamed = make_agent(world["team"]), make_agent(world["team"])
    AgentProfile.objects.filter(user=unnamed).update(display_name="")
    offer(CaseFactory(team=world["team"], owner=named), by=named, to=owner)
    offer(CaseFactory(team=world["team"], owner=unnamed), by=unnamed, to=owner)
    OwnerTask.objects.create(
        case=world["case"],
        owner=owner,
        text="Call Mrs Campbell on 07700 900021",
        reason="customer has no email address",
        source_template="cases/email/case_opened",
        dedupe_key="payload-test",
        created_at=timezone.now(),
    )
    offers = handoff_selectors.handoff_offers_waiting_for(user=owner)
    assert len(offers) == 2
    assert payloads.offers_waiting_payload(offers) == [
        dict(row) for row in OfferWaitingOut(offers, many=True).data
    ]
    tasks = owner_tasks_open(user=owner)
    assert len(tasks) == 1
    assert payloads.open_tasks_payload(tasks) == [
        dict(row) for row in OwnerTaskOut(tasks, many=True).data
    ]


def test_the_fast_detail_parts_are_what_the_documented_serializers_write(world):
    """The API's detail builds its timeline, hand-offs and history from rows: the same JSON
    as ``EventOut``, ``HandoffBriefOut`` and ``HistoryOut`` for the same case, people with
    and without a display name, an event by nobody, another team's case without its owner."""
    from django.utils import timezone

    from cases import payloads, selectors, services
    from cases.api import EventOut, HandoffBriefOut, HistoryOut
    from cases.models import AgentProfile, CaseEvent
    from tests.factories import offer

    case, owner = world["case"], world["owner"]
    AgentProfile.objects.filter(user=world["receiver"]).update(display_name="")
    services.case_add_note(case=case, by=owner, text="Called, left a message.")
    CaseEvent.objects.create(case=case, kind="note", actor=None, at=timezone.now(), data={})
    offer(case, by=owner, to=world["receiver"])
    CaseFactory(team=world["team"], customer=case.customer, owner=world["colleague"])
    CaseFactory(team=world["other"], customer=case.customer, owner=world["outsider"])

    detail = selectors.case_detail(user=owner, case=case, timeline_limit=50)
    events = selectors.timeline_newest(case=case)[:50]
    assert payloads.timeline_payload(events) == [
        dict(row) for row in EventOut(detail.timeline.events, many=True).data
    ]
    assert payloads.handoffs_payload(selectors.case_handoffs(case=case)) == [
        dict(row) for row in HandoffBriefOut(detail.handoffs, many=True).data
    ]
    rows = payloads.history_rows(selectors.customer_history(user=owner, case=case))
    team_ids = selectors.history_team_ids(user=owner, history_team_ids={r["team_id"] for r in rows})
    fast = payloads.history_payload(rows, team_ids)
    documented = HistoryOut(detail.history, many=True, context={"team_ids": team_ids}).data
    assert fast == [dict(row) for row in documented]
    assert len(fast) == 2 and [r["owner"] is None for r in fast].count(True) == 1
    assert {e["actor"] is None for e in payloads.timeline_payload(events)} == {True, False}


def test_the_case_list_pages_newest_first_with_cursor_links(world):
    """Every case once, newest first, ties on ``created_at`` broken by id, back and forth
    with the links; no count of the history."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Case.objects.filter(pk=world["case"].pk).update(created_at=now - timedelta(days=9))
    made = [
        CaseFactory(team=world["team"], created_at=now - timedelta(days=i // 2)) for i in range(7)
    ]
    assert len({c.created_at for c in made}) == 4  # ties on created_at
    newest_first = Case.objects.filter(team=world["team"]).order_by("-created_at", "-id")
    expected = [c.ref for c in newest_first]
    assert len(expected) == 8
    client = client_for(world["manager"])
    body = client.get("/api/v1/cases/", {"page_size": 3}).json()
    assert set(body) == {"next", "previous", "results"} and body["previous"] is None
    seen = [r["ref"] for r in body["results"]]
    pages = [body]
    while body["next"]:
        body = client.get(body["next"]).json()
        pages.append(body)
        seen += [r["ref"] for r in body["results"]]
    assert seen == expected
    back = client.get(pages[-1]["previous"]).json()
    assert [r["ref"] for r in back["results"]] == [r["ref"] for r in pages[-2]["results"]]


def test_the_status_filter_pages_without_distinct(world):
    """DISTINCT over the case list sorted every match on all its columns before the page
    could be taken (no join repeats a case: status is its own column)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world["manager"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/cases/", {"status": ["open", "waiting_on_customer"]})
    assert [r["ref"] for r in response.json()["results"]] == [world["case"].ref]
    page = [q["sql"] for q in ctx.captured_queries if "cases_case" in q["sql"]]
    assert page and not any("DISTINCT" in sql for sql in page)
