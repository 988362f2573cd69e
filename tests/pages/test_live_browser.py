"""The compact, live pages in Chromium: on the case page what the owner must act on first is
above the fold at 1280 x 800, the header is one row down to 1024 px, My queue shows an offer
that arrives without a reload (JavaScript on; the poll's interval shortened), and with
JavaScript off the same pages work as before. One browser for the module."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from cases.models import HandoffStatus
from commitments.services import commitment_create
from tests.conftest import IN_CI
from tests.factories import CaseFactory, HandoffFactory, offer
from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        reason = f"needs Chromium at {CHROMIUM} (never downloaded by the tests)"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        if IN_CI:
            pytest.fail("CI: needs the playwright package")
        pytest.skip("needs the playwright package")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _signed_in(chromium, base: str, user, *, javascript: bool, width: int = 1280):
    """A page whose context carries ``user``'s session cookie (no login form to fill)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context = chromium.new_context(
        viewport={"width": width, "height": 800}, java_script_enabled=javascript
    )
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _header_rows(page) -> int:
    """How many rows the header's items sit on: an item whose middle is below the first
    item's bottom starts another row."""
    return page.evaluate(
        "(() => { const boxes = Array.from(document.querySelectorAll('.site-header .inner > *'))"
        ".map(e => e.getBoundingClientRect());"
        " const first = boxes[0];"
        " return 1 + boxes.filter(b => b.top + b.height / 2 > first.bottom).length; })()"
    )


@pytest.fixture
def busy_case(org):
    """The org's case with three promises (one due within the hour) and one hand-off."""
    case, owner = org["case"], org["owner"]
    for hours, text in ((1, "I will confirm the refund today."), (50, "Statement by Friday.")):
        commitment_create(
            case=case,
            by=owner,
            description=text,
            kind="update",
            due=timezone.now() + timedelta(hours=hours),
        )
    HandoffFactory(case=case, status=HandoffStatus.ACCEPTED)
    return case


def test_the_case_page_puts_what_to_act_on_first_and_the_queue_is_live(
    org, busy_case, live_server, chromium, settings
):
    settings.LIVE_POLL_MS = 300
    base = live_server.url
    try:
        context, page = _signed_in(chromium, base, org["owner"], javascript=True)
        # the act-first block polls with its ETag and is kept as it is on 304
        with page.expect_response(lambda r: "/live/" in r.url and r.status == 304):
            page.goto(f"{base}/cases/{busy_case.ref}/")
        block = page.locator("#act-first")
        assert "I will confirm the refund today." in block.inner_text()
        assert block.bounding_box()["y"] + block.bounding_box()["height"] <= 800
        heights = {"case": page.evaluate("document.documentElement.scrollHeight")}
        # the long sections are folded to their summary and open in place
        earlier = page.locator("#handoffs details.more")
        assert earlier.get_attribute("open") is None
        earlier.locator("summary").first.click()
        assert earlier.get_attribute("open") is not None
        for width in (1280, 1024):
            page.set_viewport_size({"width": width, "height": 800})
            assert _header_rows(page) == 1, width
        manager_context, manager_page = _signed_in(
            chromium, base, org["manager"], javascript=False, width=1024
        )
        manager_page.goto(f"{base}/queue/")
        assert _header_rows(manager_page) == 1  # a manager's header has more in it
        manager_context.close()
        print(f"page heights at 1280 px: {heights}")
        context.close()
        # one live server and one database flush for both pages (the suite's time is tight)
        _the_queue_shows_an_arriving_offer_without_a_reload(org, base, chromium)
    finally:
        connections.close_all()


def _the_queue_shows_an_arriving_offer_without_a_reload(org, base: str, chromium) -> None:
    """An offer arriving shows in My queue without a reload, counted in the tab's title (the
    poll's interval is the test's: LIVE_POLL_MS = 300); without JavaScript, a reload away."""
    context, page = _signed_in(chromium, base, org["owner"], javascript=True)
    page.goto(f"{base}/queue/")
    page.evaluate("window.loadedOnce = true")
    assert page.title().startswith("My queue")
    parcel = CaseFactory(team=org["team"], owner=org["colleague"], subject="Parcel lost")
    arriving = offer(parcel, to=org["owner"])
    page.get_by_text("Parcel lost").first.wait_for()
    assert page.evaluate("window.loadedOnce === true")  # the same page: no reload
    assert page.title().startswith("(1) My queue")
    assert page.locator(f"#offer-{arriving.pk}").is_visible()
    context.close()

    # without JavaScript the queue is the same page, a reload away
    context, page = _signed_in(chromium, base, org["owner"], javascript=False)
    page.goto(f"{base}/queue/")
    assert page.locator(f"#offer-{arriving.pk}").is_visible()
    page.get_by_role("link", name=org["case"].ref).click()
    page.locator("#act-first").wait_for()
    context.close()
