"""The conversation on the pages: the customer's email on the timeline and in the queue, the
reply written on the case page, and unmatched mail routed by a manager. Browser tests run in
headless Chromium with JavaScript off (``PAGES_SCREENSHOT_DIR`` keeps screenshots)."""

from __future__ import annotations

import pytest

from cases.conversations.inbound import inbound_mail_receive
from cases.conversations.services import reply_address
from cases.models import Contact, InboundMessage
from tests.mail import raw_mail
from tests.pages.conftest import case_url, client_for
from tests.pages.test_browser import browser_page, log_in, shot  # noqa: F401 - the fixture

HOSTILE = '<p>Refund <b>please</b></p><img src="https://tracker.example/p.gif"><script>x()</script>'


def customer_writes(case, text="Any news on the refund?", **kwargs):
    raw = raw_mail(
        to=reply_address(case.pk),
        sender="Grace Hopper <grace@example.org>",
        subject=f"Re: [{case.ref}] Charged twice for March",
        text=text,
        **kwargs,
    )
    return inbound_mail_receive(raw=raw, via="smtp").message


@pytest.mark.django_db
def test_the_reply_form_is_the_owners_and_managers(org):
    page = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Reply to the customer" in page and "Dear Dr Hopper," in page
    assert (
        "Reply to the customer"
        in client_for(org["manager"]).get(case_url(org["case"])).content.decode()
    )
    assert (
        "Reply to the customer"
        not in client_for(org["colleague"]).get(case_url(org["case"])).content.decode()
    )


@pytest.mark.django_db
def test_an_empty_reply_is_refused_on_the_form(org):
    answer = client_for(org["owner"]).post(f"/cases/{org['case'].ref}/reply/", {"body": ""})
    assert answer.status_code == 400
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_the_customers_html_never_reaches_the_page_unescaped(org):
    customer_writes(org["case"], text="<script>alert(1)</script> hello", html=HOSTILE)
    page = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in page


@pytest.mark.django_db
def test_the_unmatched_mail_page_shows_sanitised_html_only(org):
    inbound_mail_receive(raw=raw_mail(subject="Who do I ask?", html=HOSTILE), via="smtp")
    page = client_for(org["manager"]).get("/manage/inbound/").content.decode()
    assert "<b>please</b>" in page
    for bad in ("<script>x()", "tracker.example", "<img"):
        assert bad not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_owner_sees_the_customers_email_and_replies(org, live_server, browser_page):  # noqa: F811
    page, base, case = browser_page, live_server.url, org["case"]
    customer_writes(case)
    log_in(page, base, org["owner"])
    row = page.locator("tr", has_text=case.ref)
    assert row.locator(".badge.customer_replied").is_visible()
    shot(page, "conv-01-queue-customer-replied")

    page.get_by_role("link", name=case.ref).click()
    page.wait_for_url(f"{base}{case_url(case)}")
    assert page.locator(".timeline", has_text="Any news on the refund?").is_visible()
    shot(page, "conv-02-case-with-customer-email")

    page.get_by_label("Your reply").fill("Dear Dr Hopper,\n\nThe refund left today.\n\nAda")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    assert page.locator(".success", has_text="Reply sent").is_visible()
    assert page.locator(".timeline", has_text="The refund left today.").is_visible()
    shot(page, "conv-03-case-after-reply")
    case.refresh_from_db()
    assert case.awaiting_reply_since is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_routes_unmatched_mail(org, live_server, browser_page):  # noqa: F811
    page, base, case = browser_page, live_server.url, org["case"]
    inbound_mail_receive(
        raw=raw_mail(
            subject="Refund",
            sender="Grace Hopper <grace@example.org>",
            html=HOSTILE,
            text="Refund please, about my March bill.",
        ),
        via="smtp",
    )
    log_in(page, base, org["manager"])
    page.locator("#nav-team summary").click()  # the manager's pages sit in the Team menu
    page.get_by_role("link", name="Unmatched mail").click()
    page.wait_for_url(f"{base}/manage/inbound/")
    shot(page, "conv-04-unmatched-mail")
    page.get_by_label("Case reference").fill(case.ref)
    page.get_by_role("button", name="Put on the case").click()
    page.wait_for_url(f"{base}{case_url(case)}#timeline")
    assert page.locator(".timeline", has_text="Refund please").is_visible()
    shot(page, "conv-05-case-after-routing")
    assert InboundMessage.objects.get().case == case
