"""Reads on cases the page and the API share: the detail, the paged timeline, the queue's rows,
and people by id with the caller's error code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import selectors
from cases.errors import CaseRuleError
from cases.models import Case, EventKind
from cases.services import case_event_record
from tests.factories import CaseFactory, HandoffFactory, make_agent

pytestmark = pytest.mark.django_db


def notes(case, count, *, at=None):
    for i in range(count):
        case_event_record(
            case=case, kind=EventKind.NOTE, actor=case.owner, at=at, data={"text": f"n{i:02d}"}
        )


def test_the_timeline_pages_by_time_and_id_without_losing_an_event(world):
    notes(world["case"], 7, at=timezone.now())  # all in one instant
    seen, cursor = [], None
    while True:
        page = selectors.timeline_page(case=world["case"], before=cursor, limit=3)
        seen += [e.data["text"] for e in page.events]
        if page.older_cursor is None:
            break
        cursor = page.older_cursor
    assert seen == [f"n{i:02d}" for i in reversed(range(7))]


def test_the_last_page_of_the_timeline_has_no_cursor(world):
    notes(world["case"], 3)
    page = selectors.timeline_page(case=world["case"], limit=3)
    assert len(page.events) == 3 and page.older_cursor is None


def test_the_detail_has_the_open_offer_and_the_customers_other_cases(world):
    case = world["case"]
    earlier = CaseFactory(team=world["other"], customer=case.customer)
    offered = HandoffFactory(case=case, status="offered")
    detail = selectors.case_detail(user=world["owner"], case=case)
    assert detail.open_offer == offered
    assert detail.history == [earlier]
    # the earlier case belongs to a team the owner does not work in: listed, not linked
    assert earlier.team_id not in detail.history_team_ids
    assert detail.owner["name"] == case.owner.agent_profile.display_name


@pytest.mark.parametrize("events", [3, 80])
def test_the_detail_runs_a_fixed_number_of_queries(world, events, django_assert_num_queries):
    notes(world["case"], events)
    for _ in range(5):
        CaseFactory(team=world["team"], customer=world["case"].customer)
        HandoffFactory(case=world["case"])
    case = selectors.case_get(user=world["owner"], ref=world["case"].ref)
    with django_assert_num_queries(3):
        detail = selectors.case_detail(user=world["owner"], case=case, timeline_limit=50)
        assert len(detail.timeline.events) == min(events, 50)


def test_queue_rows_flag_a_case_whose_next_promise_is_past_due(world):
    now = timezone.now()
    late = CaseFactory(team=world["team"], owner=world["owner"], next_due_at=now - timedelta(1))
    rows = selectors.queue_rows(cases=[late, world["case"]], now=now)
    assert [(r.case, r.flags) for r in rows] == [(late, ["overdue"]), (world["case"], [])]


def test_the_queue_page_pages_my_open_cases(world):
    for _ in range(3):
        CaseFactory(team=world["team"], owner=world["owner"])
    page_obj, rows = selectors.queue_page(user=world["owner"], page=2, per_page=3)
    assert page_obj.number == 2 and len(rows) == 1
    assert Case.objects.filter(owner=world["owner"]).count() == 4


def test_a_user_by_id_or_the_callers_code(world):
    assert (
        selectors.user_by_id(world["owner"].pk, field="x", code="c", message="m")
        == (world["owner"])
    )
    with pytest.raises(CaseRuleError) as caught:
        selectors.user_by_id(999_999, field="owner", code="owner_not_in_team", message="No.")
    assert (caught.value.code, caught.value.fields) == (
        "owner_not_in_team",
        {"owner": ["Not found."]},
    )


def test_the_intake_choices_are_the_callers_teams_and_their_active_agents(world):
    gone = make_agent(world["team"], user__is_active=False)
    assert list(selectors.intake_teams(user=world["owner"])) == [world["team"]]
    owners = [pk for pk, _ in selectors.intake_owner_choices(user=world["owner"])]
    assert world["receiver"].pk in owners and world["outsider"].pk not in owners
    assert gone.pk not in owners
    assert selectors.intake_default_team_id(user=world["owner"]) == world["team"].pk
