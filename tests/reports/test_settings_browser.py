"""The team settings page in headless Chromium (JavaScript off), for a team with an open
promise and its queued reminders: the manager opens it from the dashboard, a bad lead time
comes back on its field with nothing saved, the fixed form saves and the change shows in
the history.

Set ``PAGES_SCREENSHOT_DIR`` to keep screenshots.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.services import case_open
from commitments.services import commitment_create
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager
from tests.pages.test_browser import browser_page, shot  # noqa: F401 (fixture)
from tests.reports.test_dashboard_browser import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def billing_with_a_promise() -> None:
    billing = TeamFactory(name="Billing")
    make_manager(billing, username="helen", first_name="Helen", password=PASSWORD)
    owner = make_agent(billing)
    case = case_open(
        customer=CustomerFactory(), team=billing, channel="email", subject="Refund", by=owner
    )
    commitment_create(
        case=case,
        by=owner,
        description="Call you back with the refund date",
        kind="callback",
        due=timezone.now() + timedelta(days=7),
    )


def test_a_manager_changes_the_teams_settings(live_server, browser_page):  # noqa: F811
    billing_with_a_promise()
    page, base = browser_page, live_server.url
    log_in(page, base, "helen")
    page.get_by_role("link", name="Team settings").click()
    page.wait_for_load_state()
    assert "/manage/settings/?team=" in page.url
    assert page.get_by_role("heading", name="Billing: team settings").is_visible()
    shot(page, "30-team-settings")

    page.get_by_label("Saturday").fill("10:00–14:00")
    page.get_by_label("Remind the owner before a promise is due").fill("1 business day, soonish")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_text("Cannot read 'soonish'.").is_visible()
    assert page.get_by_text("No changes yet.").is_visible()
    shot(page, "31-team-settings-error")

    page.get_by_label("Remind the owner before a promise is due").fill(
        "1 business day, 2 business hours"
    )
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_text("queued reminders of open promises were moved").is_visible()
    history = page.locator("#settings-history")
    assert history.get_by_text("Sat 10:00–14:00").is_visible()
    assert history.get_by_text("1 business day, 2 business hours").is_visible()
    assert history.get_by_text("Helen", exact=False).first.is_visible()
    shot(page, "32-team-settings-saved")
