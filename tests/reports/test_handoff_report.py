"""The hand-off audit's period is the reports' one (``Window.between``): its API, its page
and its CSV select the same hand-offs for the same days, and refuse the same days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import CaseFactory, HandoffFactory, TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

PERIODS = [
    {},
    {"date_from": "2026-11-02", "date_to": "2026-11-02"},
    {"date_from": "2026-11-03"},
    {"date_to": "2026-11-02"},  # the 30 days up to it, as on every report
    {"date_from": "2026-10-01", "date_to": "2026-10-31"},
]
REFUSED = [
    {"date_from": "2026-11-10", "date_to": "2026-11-01"},  # backwards
    {"date_from": "2025-01-01", "date_to": "2026-11-01"},  # longer than 366 days
    {"date_to": "9999-12-31"},
    {"date_to": "0001-01-01"},
]


@pytest.fixture
def audit():
    team = TeamFactory()
    manager = make_manager(team)
    owner = make_agent(team)
    ids = {}
    for name, offered in {
        "long_ago": datetime(2025, 6, 1, 9, tzinfo=UTC),
        "october": datetime(2026, 10, 2, 9, tzinfo=UTC),
        "first": datetime(2026, 11, 2, 23, 59, tzinfo=UTC),
        "second": datetime(2026, 11, 3, 0, 0, tzinfo=UTC),
    }.items():
        ids[name] = HandoffFactory(case=CaseFactory(team=team, owner=owner), offered_at=offered).pk
    with time_machine.travel(NOW, tick=False):
        yield manager, ids


def _api(manager, params):
    client = APIClient()
    client.force_authenticate(manager)
    return client.get("/api/v1/reports/handoffs/", params)


def _page(manager, path, params):
    client = Client()
    client.force_login(manager)
    return client.get(path, params)


def _csv_ids(response) -> list[int]:
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [int(row[0]) for row in rows[1:]]


@pytest.mark.parametrize("params", PERIODS)
def test_the_audit_api_page_and_csv_select_the_same_days(audit, params):
    manager, _ids = audit
    api = _api(manager, params)
    assert api.status_code == 200, api.content
    from_api = [row["id"] for row in api.json()["results"]]
    page = _page(manager, "/manage/handoffs/", params)
    assert page.status_code == 200
    from_page = [h.pk for h in page.context["page_obj"].object_list]
    from_csv = _csv_ids(_page(manager, "/manage/handoffs.csv", params))
    assert from_api == from_page == from_csv


def test_the_audit_period_is_whole_utc_days_defaulting_like_every_report(audit):
    manager, ids = audit

    def api_ids(**params):
        return [row["id"] for row in _api(manager, params).json()["results"]]

    assert api_ids() == [ids["second"], ids["first"], ids["october"], ids["long_ago"]]
    assert api_ids(date_from="2026-11-02", date_to="2026-11-02") == [ids["first"]]
    # an end alone covers the 30 days up to it (Window.between), not all history
    assert api_ids(date_to="2026-11-02") == [ids["first"]]
    # a start alone runs to today
    assert api_ids(date_from="2026-11-03") == [ids["second"]]


@pytest.mark.parametrize("params", REFUSED)
def test_days_the_reports_refuse_are_refused_by_every_audit_surface(audit, params):
    manager, _ids = audit
    api = _api(manager, params)
    assert api.status_code == 400
    assert api.json()["code"] == "invalid_period"
    csv_api = _api(manager, {**params, "format": "csv"})
    assert csv_api.status_code == 400
    page = _page(manager, "/manage/handoffs/", params)
    assert page.status_code == 200
    assert list(page.context["page_obj"].object_list) == []
    assert "period" in page.content.decode()
    assert _csv_ids(_page(manager, "/manage/handoffs.csv", params)) == []
