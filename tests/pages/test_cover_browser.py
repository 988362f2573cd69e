"""The day as the cover, in headless Chromium (JavaScript off): Ada is away and Cole, her
backup, finds her case under "Covering for Ada Owner" in his queue, keeps her promise from the
case page and logs a call; the timeline says "Cole League for Ada Owner" each time, and Ada
stays the owner. Then the customer answers by email (to the case's reply address, through the
inbound service the mail receiver calls): the answer is on the case page and Cole's queue
flags the case "customer replied".

Set ``PAGES_SCREENSHOT_DIR`` to keep screenshots.
"""

from __future__ import annotations

import pytest

from cases.availability.services import agent_set_away
from cases.conversations.inbound import inbound_mail_receive
from cases.mail_thread import reply_address
from cases.models import Case, CaseEvent
from commitments.models import Commitment
from tests.mail import raw_mail
from tests.pages.test_browser import browser_page, log_in, shot  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_cover_works_the_away_owners_case_from_the_queue(org, live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    owner, cover, case = org["owner"], org["colleague"], org["case"]
    profile = owner.agent_profile
    profile.backup_agent = cover
    profile.save()
    agent_set_away(agent=owner, by=owner, away=True, note="On a course")
    callback = Commitment.objects.get(case=case, kind="callback")

    log_in(page, base, cover)
    page.goto(f"{base}/queue/")
    section = page.locator("section", has_text="Covering for Ada Owner")
    assert section.get_by_role("heading", name="Covering for Ada Owner: 1 case").is_visible()
    shot(page, "60-cover-queue")
    section.get_by_role("link", name=case.ref).click()
    page.wait_for_load_state()

    page.locator(f"#commitment-{callback.pk}").get_by_role("button", name="Mark kept").click()
    page.wait_for_load_state()
    callback.refresh_from_db()
    assert callback.status == "kept" and callback.owner_id == owner.pk
    assert page.get_by_text("Cole League for Ada Owner").first.is_visible()
    shot(page, "61-cover-kept")

    page.locator("#log-contact summary").click()
    page.locator("#log-contact").get_by_label("Summary").fill(
        "Called Dr Hopper: the refund reference is RF-88, Ada is back on Monday."
    )
    page.locator("#log-contact").get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    event = CaseEvent.objects.filter(case=case, kind="contact_to_customer").latest("id")
    assert (event.actor_id, event.data["on_behalf_of"]) == (cover.pk, owner.pk)
    assert page.get_by_text("Called Dr Hopper").first.is_visible()
    assert Case.objects.get(pk=case.pk).owner_id == owner.pk
    shot(page, "62-cover-logged-call")

    raw = raw_mail(
        to=reply_address(case.pk),
        sender=f"Grace Hopper <{case.customer.email}>",
        subject=f"Re: [{case.ref}] {case.subject}",
        text="Thank you, RF-88 arrived. Can Ada call me on Monday?",
    )
    assert inbound_mail_receive(raw=raw, via="smtp").message.case_id == case.pk
    page.goto(f"{base}/queue/")
    row = page.locator("section", has_text="Covering for Ada Owner").get_by_role(
        "row", name=case.ref
    )
    assert row.locator(".badge.customer_replied").is_visible()
    shot(page, "63-cover-queue-customer-replied")
    row.get_by_role("link", name=case.ref).click()
    page.wait_for_load_state()
    assert page.get_by_text("Can Ada call me on Monday?").first.is_visible()
