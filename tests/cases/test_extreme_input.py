"""Input at the edge of what the types allow answers 400, 404 or a page, never a 500."""

from __future__ import annotations

import pytest

from cases.selectors import timeline_page
from tests.cases.conftest import assert_error, client_for
from tests.factories import CaseFactory, HandoffFactory
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
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("params", EXTREMES)
def test_the_handoff_report_csv_takes_the_calendars_ends(world, params):
    HandoffFactory(case=CaseFactory(team=world["team"]))
    response = client_for(world["manager"]).get(
        "/api/v1/reports/handoffs/", {**params, "format": "csv"}
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)


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
