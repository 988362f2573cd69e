"""The agent's availability page and the customer page while an owner is away, in headless
Chromium (JavaScript off); ``PAGES_SCREENSHOT_DIR`` keeps the screenshots."""

from __future__ import annotations

import pytest

from cases.models import Absence
from tests.pages.conftest import client_for, token_for
from tests.pages.test_browser import browser_page, log_in, shot  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_goes_away_the_customer_sees_the_cover_and_the_backup_sees_the_duty(
    org,
    live_server,
    browser_page,  # noqa: F811 - the fixture
):
    page, base = browser_page, live_server.url
    owner, colleague = org["owner"], org["colleague"]
    profile = owner.agent_profile
    profile.backup_agent = colleague
    profile.save()
    log_in(page, base, owner)
    page.goto(f"{base}/me/availability/")
    page.get_by_label("Note (optional)").fill("Flu")
    page.get_by_role("button", name="I am away now").click()
    assert "You are away" in page.content()
    shot(page, "away-01-my-availability")
    page.goto(f"{base}/c/{token_for(org['case'])}/")
    text = page.content()
    assert "Ada Owner is away" in text and "Cole League" in text
    shot(page, "away-02-customer-page")
    duties = client_for(colleague).get("/me/availability/").content.decode()
    assert org["case"].ref in duties


def test_an_agent_records_an_absence_on_their_page(org):
    client = client_for(org["owner"])
    response = client.post(
        "/me/availability/",
        {"action": "record", "starts_at": "2031-05-04T09:00", "ends_at": "2031-05-08T17:00"},
        follow=True,
    )
    assert response.status_code == 200
    absence = Absence.objects.get(agent=org["owner"])
    assert absence.starts_at.isoformat() == "2031-05-04T08:00:00+00:00"  # London BST
    assert "4 May 2031" in response.content.decode()
