"""The customer books, moves and cancels a callback from their page in headless Chromium
(JavaScript off, one browser for the module): each step a form, a redirect and the page's
message, and the promise behind it made, renegotiated and withdrawn."""

from __future__ import annotations

import os

import pytest
import time_machine

from cases.customers.links import make_customer_token
from cases.services import case_open
from commitments.models import BusinessCalendar, CommitmentKind, CommitmentStatus
from tests.commitments.conftest import london
from tests.factories import CustomerFactory, TeamFactory, make_agent
from tests.pages.test_browser import browser_page, shot  # noqa: F401 - the fixture

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_customer_books_moves_and_cancels_a_callback(live_server, browser_page):  # noqa: F811
    with time_machine.travel(london(2026, 12, 7, 9, 0), tick=True):
        team = TeamFactory(name="Billing", time_zone="Europe/London")
        BusinessCalendar.objects.create(team=team)
        owner = make_agent(team, display_name="Ada Owner")
        case = case_open(
            customer=CustomerFactory(full_name="Grace Hopper", time_zone="Europe/London"),
            team=team, channel="email", subject="Meter reading", by=owner, owner=owner,
        )  # fmt: skip
        page = browser_page
        token = make_customer_token(case_id=case.pk, generation=case.link_generation)
        page.goto(f"{live_server.url}/c/{token}/")
        page.get_by_role("link", name="Choose a time to be called back").click()
        # the first day with free times is open, the others fold to their name: Tuesday
        # opens in place
        assert page.locator("details.slot-day[open]").count() == 1
        page.locator("details.slot-day summary", has_text="Tuesday 8 December").click()
        page.get_by_label("11:00").first.check()
        page.get_by_role("button", name="Book the call back").click()
        assert "Your call back is booked." in page.content()
        shot(page, "callback-booked")
        page.get_by_label("14:30").first.check()
        page.get_by_role("button", name="Move the call back").click()
        assert "Your call back has moved." in page.content()
        page.get_by_role("button", name="Cancel the call back").click()
        assert "Your call back is cancelled." in page.content()
        shot(page, "callback-cancelled")
    callbacks = case.commitments.filter(kind=CommitmentKind.CALLBACK).order_by("pk")
    assert [c.status for c in callbacks] == [
        CommitmentStatus.RENEGOTIATED,
        CommitmentStatus.WITHDRAWN,
    ]
    assert callbacks[1].due_at == london(2026, 12, 7, 15, 0)
