"""In headless Chromium (JavaScript off): a misspelt surname typed in the header's search
box finds the customer, whose page shows their cases."""

from __future__ import annotations

import pytest

from tests.pages.test_browser import browser_page, log_in, shot  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_misspelt_surname_in_the_header_finds_the_customer_and_their_cases(
    org,
    live_server,
    browser_page,  # noqa: F811
):
    page, base = browser_page, live_server.url
    log_in(page, base, org["colleague"])
    page.get_by_label("Search cases and customers").fill("Grace Hoppre")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(f"{base}/search/?q=Grace+Hoppre")
    shot(page, "20-search-results")
    page.get_by_role("link", name="Grace Hopper").first.click()
    page.wait_for_url(f"{base}/customers/{org['customer'].pk}/")
    shot(page, "21-customer")
    assert page.get_by_role("heading", name="Grace Hopper").is_visible()
    assert page.get_by_role("link", name=org["case"].ref).is_visible()
    assert page.get_by_text("Charged twice for March").is_visible()
