"""Input at the edge of what the types allow answers 400, 404 or a page, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from caseowner.errors import RuleError
from cases.availability.services import absence_record
from cases.models import Absence, Contact, OwnerTask
from cases.selectors import timeline_page
from cases.services import case_open
from commitments.models import BusinessCalendar
from tests.cases.conftest import assert_error, client_for
from tests.factories import CaseFactory, CustomerFactory, HandoffFactory
from tests.pages.conftest import client_for as page_client_for

pytestmark = pytest.mark.django_db

EXTREMES = [
    {"date_to": "9999-12-31"},
    {"date_from": "9999-12-31"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    {"date_to": "0001-01-01"},
]


@pytest.mark.parametrize("params", EXTREMES)
def test_the_handoff_report_takes_the_calendars_ends(world, params):
    HandoffFactory(case=CaseFactory(team=world["team"]))
    response = client_for(world["manager"]).get("/api/v1/reports/handoffs/", params)
    # the reports' period (Window.between) refuses days it cannot show
    assert_error(response, 400, "invalid_period")


@pytest.mark.parametrize("params", EXTREMES)
def test_the_handoff_report_csv_takes_the_calendars_ends(world, params):
    HandoffFactory(case=CaseFactory(team=world["team"]))
    response = client_for(world["manager"]).get(
        "/api/v1/reports/handoffs/", {**params, "format": "csv"}
    )
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "invalid_period"


@pytest.mark.parametrize("params", EXTREMES)
@pytest.mark.parametrize("path", ["/manage/handoffs/", "/manage/handoffs.csv"])
def test_the_audit_page_and_its_csv_take_the_calendars_ends(world, params, path):
    HandoffFactory(case=CaseFactory(team=world["team"]))
    response = page_client_for(world["manager"]).get(path, params)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "before",
    [
        "9999-12-31T23:59:59-23:59~1",
        "9999-12-31T23:59:59+23:59~1",
        "0001-01-01T00:00:00+23:59~1",
        "0001-01-01T00:00:00~1",
        "2024-01-01T00:00:00~99999999999999999999999",
        "2024-01-01T00:00:00~²",
    ],
)
def test_a_timeline_cursor_out_of_range_is_no_crash(world, before):
    page = timeline_page(case=world["case"], before=before)
    assert isinstance(page.events, list)


def test_the_case_page_takes_an_out_of_range_cursor(world):
    case = world["case"]
    response = page_client_for(world["owner"]).get(
        f"/cases/{case.ref}/", {"before": "9999-12-31T23:59:59-23:59~1"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("ref", ["²", "CASE-²", "١٢", "CASE-００１"])
def test_a_reference_with_non_ascii_digits_is_not_found(world, ref):
    client = client_for(world["owner"])
    assert_error(client.post(f"/api/v1/cases/{ref}/handoffs/", {}), 404, "not_found")
    assert_error(client.get(f"/api/v1/cases/{ref}/"), 404, "not_found")


# --- the calendar's ends in reports and absences (caseowner.parsing's years) ----------------

CALENDAR_ENDS = ["0001-01-01", "9999-12-31"]


@pytest.mark.parametrize("to", CALENDAR_ENDS)
@pytest.mark.parametrize("report", ["summary", "agents"])
def test_a_report_api_period_at_the_calendars_ends_is_invalid_input(world, to, report):
    response = client_for(world["manager"]).get(
        f"/api/v1/reports/teams/{world['team'].pk}/{report}/", {"to": to}
    )
    body = assert_error(response, 400, "invalid_input")
    assert list(body["fields"]) == ["to"]


REPORT_PAGES = [
    "/manage/",
    "/manage/agents/",
    "/manage/promises/",
    "/manage/first-response/",
    "/manage/open-cases/",
]


@pytest.mark.parametrize("to", CALENDAR_ENDS)
@pytest.mark.parametrize("path", REPORT_PAGES)
def test_a_report_page_refuses_a_period_at_the_calendars_ends(world, to, path):
    response = page_client_for(world["manager"]).get(path, {"to": to})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2999." in response.content.decode()


@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_the_promises_page_refuses_filters_at_the_calendars_ends(world, day):
    params = {"date_from": day, "date_to": day, "due_after": f"{day}T00:00"}
    response = page_client_for(world["manager"]).get("/manage/promises/", params)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        ("0001-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "starts_at"),
        ("2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "ends_at"),
        ("2020-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "ends_at"),
    ],
)
def test_an_absence_at_the_calendars_ends_is_invalid_input(world, starts_at, ends_at, field):
    owner = world["owner"]
    response = client_for(owner).post(
        f"/api/v1/agents/{owner.pk}/absences/",
        {"starts_at": starts_at, "ends_at": ends_at},
        format="json",
    )
    assert list(assert_error(response, 400, "invalid_input")["fields"]) == [field]
    assert not Absence.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [("0001-01-01T00:00", "2999-01-01T00:00"), ("2020-01-01T00:00", "9999-12-31T23:59")],
)
def test_the_availability_page_refuses_an_absence_at_the_calendars_ends(world, starts_at, ends_at):
    response = page_client_for(world["owner"]).post(
        "/me/availability/", {"starts_at": starts_at, "ends_at": ends_at}
    )
    assert response.status_code == 200
    assert "Enter a date between 1900 and 2999." in response.content.decode()
    assert not Absence.objects.exists()


def test_the_absence_service_refuses_the_first_day_of_the_calendar(world):
    with pytest.raises(RuleError) as caught:
        absence_record(
            agent=world["owner"],
            by=world["owner"],
            starts_at=datetime(1, 1, 1, tzinfo=UTC),
            ends_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
    assert list(caught.value.fields) == ["starts_at"]


# --- non-ASCII digits, NUL bytes and over-long text in page forms and queries ----------------


def test_a_new_case_for_customer_superscript_two_is_refused(world):
    response = page_client_for(world["owner"]).post(
        "/cases/new/",
        {"customer": "²", "subject": "Hello", "channel": "email", "team": world["team"].pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_arabic_indic_digits_never_pick_a_customer(world):
    customer = CustomerFactory()
    digits = "".join(chr(0x0660 + int(d)) for d in str(customer.pk))
    response = page_client_for(world["owner"]).post(
        "/cases/new/",
        {"customer": digits, "subject": "Hello", "channel": "email", "team": world["team"].pk},
    )
    assert response.status_code == 400
    assert not customer.cases.exists()


def test_ending_absence_superscript_two_is_refused(world):
    response = page_client_for(world["owner"]).post(
        "/me/availability/", {"action": "end", "absence": "²"}, follow=True
    )
    assert response.status_code == 200
    assert "Enter a whole number in digits 0-9." in response.content.decode()


def test_cover_for_with_receivers_superscript_two_is_no_crash(world):
    owner = world["owner"]
    response = page_client_for(world["manager"]).post(
        f"/manage/agents/{owner.pk}/cover-for/", {"receivers": "²"}
    )
    assert response.status_code < 500


@pytest.mark.parametrize("query", ["Ada\x00", "a" * 40_000, "%" * 40_000, "é" * 40_000])
def test_a_search_with_a_nul_or_past_two_hundred_characters_is_refused(world, query):
    client = client_for(world["owner"])
    assert list(assert_error(client.get("/api/v1/search/", {"q": query}), 400)["fields"]) == ["q"]
    page = page_client_for(world["owner"]).get("/search/", {"q": query})
    assert page.status_code == 400


@pytest.mark.parametrize("value", ["%" * 40_000, "é" * 40_000])
@pytest.mark.parametrize("name", ["name", "email", "phone"])
def test_the_customers_filter_refuses_a_pattern_past_its_length(world, name, value):
    response = client_for(world["owner"]).get("/api/v1/customers/", {name: value})
    assert list(assert_error(response, 400, "invalid_input")["fields"]) == [name]


@pytest.mark.parametrize("query", ["Ada\x00", "é" * 40_000])
def test_the_new_case_customer_picker_refuses_a_nul_or_an_overlong_search(world, query):
    response = page_client_for(world["owner"]).get("/cases/new/", {"q": query})
    assert response.status_code == 400
    assert "The request has invalid fields." in response.content.decode()


def test_a_task_done_from_the_page_with_a_nul_is_refused(world):
    customer = CustomerFactory(email="", full_name="Mary Campbell")
    case = case_open(
        customer=customer, team=world["team"], channel="web", subject="Kettle", by=world["owner"]
    )
    task = OwnerTask.objects.get(case=case)
    response = page_client_for(world["owner"]).post(
        f"/tasks/{task.pk}/done/", {"summary": "Called\x00"}, follow=True
    )
    assert "The request has invalid fields." in response.content.decode()
    task.refresh_from_db()
    assert task.done_at is None
    assert not Contact.objects.filter(case=case).exists()


@pytest.mark.parametrize("back", ["-1", "handoff-audit", "//evil.example/", "/manage/\x00"])
def test_the_review_form_returns_to_the_audit_for_a_next_that_is_no_local_path(world, back):
    handoff = HandoffFactory(case=CaseFactory(team=world["team"]))
    response = page_client_for(world["manager"]).post(
        f"/manage/handoffs/{handoff.pk}/review/", {"next": back}
    )
    assert (response.status_code, response["Location"]) == (302, "/manage/handoffs/")


# --- a team's settings: closed days and the holiday region ----------------------------------


def _settings(world):
    return f"/api/v1/reports/teams/{world['team'].pk}/settings/"


def test_a_closed_day_without_its_day_is_invalid_input(world):
    response = client_for(world["manager"]).patch(
        _settings(world), {"closed_days": [{"name": "Staff party"}]}, format="json"
    )
    body = assert_error(response, 400, "invalid_input")
    assert list(body["fields"]) == ["closed_days.0.day"]


@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_a_closed_day_at_the_calendars_ends_is_invalid_input(world, day):
    response = client_for(world["manager"]).patch(
        _settings(world), {"closed_days": [{"day": day}]}, format="json"
    )
    assert list(assert_error(response, 400, "invalid_input")["fields"]) == ["closed_days.0.day"]


@pytest.mark.parametrize(
    "changes",
    [
        {"holiday_subdivision": "ß" * 16},  # "SS" × 16 once upper-cased: 32 characters
        {"holiday_country": "DE", "holiday_subdivision": "ß" * 16},
        {"holiday_country": "GB", "holiday_subdivision": "ZZZ"},
        {"holiday_subdivision": "ENG"},  # a region needs its country
    ],
)
def test_a_holiday_region_is_a_real_subdivision_of_the_country(world, changes):
    response = client_for(world["manager"]).patch(_settings(world), changes, format="json")
    body = assert_error(response, 400, "invalid_settings")
    assert "holiday_subdivision" in body["fields"]
    assert not BusinessCalendar.objects.filter(team=world["team"]).exists()


def test_a_real_holiday_region_is_saved(world):
    response = client_for(world["manager"]).patch(
        _settings(world), {"holiday_country": "gb", "holiday_subdivision": " eng"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["holiday_country"], response.json()["holiday_subdivision"]) == (
        "GB",
        "ENG",
    )
