"""The team dashboard in headless Chromium (JavaScript off). With the demo's eight weeks
of history (read on the demo that tests/test_demo_load.py loads): it renders for the
manager, each chart has its table, a figure's link opens the rows behind it; it prints on
A4. An agent gets 403 and another team's manager 404.

Set ``PAGES_SCREENSHOT_DIR`` to keep screenshots and the printed PDF.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import TeamFactory, make_agent, make_manager
from tests.pages.test_browser import SHOTS, browser_page, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "caseowner-demo"


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def read_the_demo_dashboard(page, base: str) -> None:
    """Helen reads her dashboard of the loaded demo. The demo takes a while to load, so
    tests/test_demo_load.py calls this on the one load it makes."""
    log_in(page, base, "helen")
    assert page.url == f"{base}/manage/"  # the manager's landing page
    assert page.get_by_role("heading", name="Billing: how ownership is going").is_visible()
    shot(page, "20-dashboard")

    # every chart has a table of the same figures beside it
    # (promises, hand-offs and the time to accept them, the answers at close, first response)
    assert page.locator("figure.report-chart svg[role=img]").count() == 5
    # the answers at close have two: by week, and by what happened to the case
    assert page.locator("table.figures:not(#absences)").count() == 5
    assert page.locator("table#satisfaction-groups").is_visible()
    assert page.locator("table.figures tbody tr").first.is_visible()
    # today: who is away or leaving soon, in a table of its own
    assert page.locator("table#absences").is_visible()

    # a figure's link opens the rows behind it: week 1's "came due" count
    first_week = page.locator("section[aria-labelledby=promises-h] table tbody tr").first
    link = first_week.locator("td a").first
    expected = int(link.inner_text())
    link.click()
    page.wait_for_load_state()
    assert "/manage/promises/" in page.url
    assert page.get_by_text(f"{expected} promise").first.is_visible()
    shot(page, "21-promise-rows")

    page.goto(f"{base}/manage/agents/?sort=-missed")
    assert page.locator("#agents tbody tr").count() >= 3
    shot(page, "22-agents")

    if SHOTS:
        page.goto(f"{base}/manage/")
        page.emulate_media(media="print")
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(Path(SHOTS) / "dashboard-a4.pdf"), format="A4")
        shot(page, "23-dashboard-print")


def test_an_agent_gets_403_and_another_teams_manager_404(live_server, browser_page):  # noqa: F811
    """Two teams of the factories (the refusals need no demo data behind them)."""
    billing, support = TeamFactory(name="Billing"), TeamFactory(name="Support")
    make_manager(billing, username="helen", password=PASSWORD)
    make_agent(billing, user__username="amelia", user__password=PASSWORD)
    make_manager(support, username="stefan", password=PASSWORD)
    page, base = browser_page, live_server.url
    log_in(page, base, "amelia")
    assert page.url == f"{base}/queue/"
    assert page.goto(f"{base}/manage/").status == 403
    page.context.clear_cookies()
    log_in(page, base, "stefan")
    assert page.goto(f"{base}/manage/?team={billing.pk}").status == 404
    assert page.goto(f"{base}/manage/").status == 200
