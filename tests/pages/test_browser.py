"""The pages in headless Chromium (JavaScript off) against a live server: log in, work the
queue, add a note, a refused form, the customer's acknowledgement and the manager's audit.
Skipped with a reason when Chromium is absent, except in CI where that is a failure.

Set ``PAGES_SCREENSHOT_DIR`` to keep a full-page screenshot of every page visited.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

from cases.handoffs.services import handoff_accept
from cases.models import CaseEvent, EventKind
from commitments.models import Commitment
from tests.conftest import IN_CI
from tests.factories import offer
from tests.pages.conftest import token_for

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS = os.environ.get("PAGES_SCREENSHOT_DIR", "")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page():
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
        # The pages must work without JavaScript: the browser runs with it switched off.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=False
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # The test's own queries ran while Playwright's loop was current, on a connection
            # of their own: close it here, or the test database cannot be dropped.
            connections.close_all()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/")
    shot(page, "01-login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    # agents land on their queue, managers on their team's dashboard
    page.wait_for_url(lambda url: url.endswith(("/queue/", "/manage/")))


def test_an_agent_logs_in_opens_a_case_from_the_queue_and_adds_a_note(
    org, live_server, browser_page
):
    page, base = browser_page, live_server.url
    log_in(page, base, org["owner"])
    assert page.get_by_role("heading", name="My queue").is_visible()
    shot(page, "02-queue")

    page.get_by_role("link", name=org["case"].ref).click()
    page.wait_for_url(f"{base}/cases/{org['case'].ref}/")
    assert page.get_by_text("Dr Hopper").first.is_visible()
    shot(page, "03-case")

    page.get_by_label("Internal note").fill("Spoke to billing; refund approved today.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    assert page.get_by_text("Note added to the timeline.").is_visible()
    assert page.locator(".timeline .note", has_text="refund approved today").is_visible()
    assert CaseEvent.objects.filter(
        case=org["case"], kind=EventKind.NOTE, data__text="Spoke to billing; refund approved today."
    ).exists()
    shot(page, "04-case-after-note")

    page.get_by_role("link", name="New case").click()
    page.wait_for_url(f"{base}/cases/new/")
    shot(page, "05-new-case")


def test_a_refused_form_shows_the_services_message(org, live_server, browser_page):
    page, base = browser_page, live_server.url
    log_in(page, base, org["owner"])
    page.goto(f"{base}/cases/{org['case'].ref}/")
    page.get_by_text("Write the brief…").click()
    page.get_by_label("Hand the case to").select_option(str(org["colleague"].pk))
    for label in (
        "What the customer needs",
        "What has been done so far",
        "What the customer was promised and expects",
        "The next step",
    ):
        page.get_by_label(label).fill("see notes")
    page.get_by_role("button", name="Offer hand-off").click()
    page.wait_for_load_state()
    assert page.get_by_text("The hand-off summary is incomplete").is_visible()
    shot(page, "06-offer-refused")


def test_the_customer_acknowledges_their_new_owner(org, live_server, browser_page):
    ids = list(
        Commitment.objects.filter(case=org["case"], status="open").values_list("pk", flat=True)
    )
    handoff = handoff_accept(
        handoff=offer(org["case"], to=org["colleague"], briefed_commitments=ids),
        by=org["colleague"],
    )
    page, base = browser_page, live_server.url
    page.goto(f"{base}/c/{token_for(org['case'])}/")
    assert page.get_by_role("heading", name="Hello Dr Hopper").is_visible()
    assert page.get_by_text("customer sounded upset").count() == 0
    shot(page, "07-customer-page")

    page.get_by_role("button", name="Acknowledge your new contact").click()
    page.wait_for_load_state()
    assert page.get_by_text("knows you have their details").is_visible()
    handoff.refresh_from_db()
    assert handoff.customer_acknowledged_at is not None
    shot(page, "08-customer-acknowledged")

    page.goto(f"{base}/c/not-a-valid-token/")
    assert page.get_by_role("heading", name="This link no longer works").is_visible()
    shot(page, "09-customer-link-invalid")


def test_a_manager_opens_the_audit(org, live_server, browser_page):
    ids = list(
        Commitment.objects.filter(case=org["case"], status="open").values_list("pk", flat=True)
    )
    handoff_accept(
        handoff=offer(org["case"], to=org["colleague"], briefed_commitments=ids),
        by=org["colleague"],
    )
    page, base = browser_page, live_server.url
    log_in(page, base, org["manager"])
    page.locator("#nav-team summary").click()  # the manager's pages sit in the Team menu
    page.get_by_role("link", name="Hand-off audit").click()
    page.wait_for_url(f"{base}/manage/handoffs/")
    assert page.get_by_role("link", name=org["case"].ref).is_visible()
    shot(page, "10-audit")
