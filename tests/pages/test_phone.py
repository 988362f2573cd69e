"""The customer's page on a phone, in Chromium's mobile emulation (375 × 667, 2× pixels,
touch): nothing scrolls sideways, every link and button is a tap target of at least 44 px,
the owner's phone is a ``tel:`` link and their email a ``mailto:`` one, and the promise
dates read whole (never broken mid-word, 14 px or more). The HTML part of every email the
services queued to the customer fits the same width. Each check looks at a screenshot
taken in the test (kept with ``PAGES_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pages.test_accessibility import BLOCKING, audit
from tests.pages.world import AXE, PHONE, chromium, require_chromium, served_world, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = os.environ.get("PAGES_SCREENSHOT_DIR", "")
WIDTH = PHONE["viewport"]["width"]
TAP = 44  # px, WCAG 2.5.5 (AAA) and the platforms' own guidelines

# Every link, button and form control on screen (a skip link waits off it until focused),
# with its box in CSS pixels.
TARGETS = """() => [...document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary')].map(e => {
    // a radio button or checkbox is tapped on its label
    const box = e.matches('[type=radio], [type=checkbox]') && e.labels.length ? e.labels[0] : e;
    const r = box.getBoundingClientRect();
    return {text: (e.innerText || e.value || e.name || '').trim().slice(0, 40),
            href: e.getAttribute('href') || '', width: r.width, height: r.height,
            shown: r.right > 0 && r.bottom > 0 && e.offsetParent !== null};
  }).filter(t => t.shown)"""
# Each promise's date line: its font size, its right edge, and any word broken across lines.
DATES = """() => [...document.querySelectorAll('.promise-due')].map(e => {
    const broken = [], walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.data.matchAll(/\\S+/g)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        if (r.getClientRects().length > 1) broken.push(m[0]);
      }
    }
    return {text: e.innerText, size: parseFloat(getComputedStyle(e).fontSize),
            right: e.getBoundingClientRect().right, broken};
  })"""
WIDE = "() => document.documentElement.scrollWidth"


@pytest.fixture(scope="module")
def phone(django_db_setup, django_db_blocker):
    require_chromium()
    with served_world(django_db_blocker) as (base, world), chromium() as browser:
        # axe-core audits each customer page on the phone too (an inline script: no CSP)
        with signed_in(browser, world, None, bypass_csp=True, **PHONE) as page:
            if AXE.exists():
                page.context.add_init_script(path=str(AXE))
            yield page, base, world


def keep(page, name: str) -> bytes:
    png = page.screenshot(full_page=True)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        (Path(SHOTS) / f"phone-{name}.png").write_bytes(png)
    return png


def png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")


def fits_a_phone(page, name: str) -> None:
    png = keep(page, name)
    # the full-page screenshot is as wide as the screen: nothing sticks out sideways
    assert png_width(png) == WIDTH * PHONE["device_scale_factor"]
    assert page.evaluate(WIDE) <= WIDTH

    targets = page.evaluate(TARGETS)
    assert targets, "no link or button found"
    small = [t for t in targets if t["height"] < TAP or t["width"] < TAP]
    assert not small, f"tap targets under {TAP} px: {small}"
    if AXE.exists():
        found = audit(page)
        assert not [v for v in found if v["impact"] in BLOCKING], found


def test_the_customer_page_fits_a_phone(phone):
    page, base, world = phone
    page.goto(f"{base}/c/{world['token']}/")
    fits_a_phone(page, "customer-page")

    owner = world["owner"].agent_profile
    tel = page.locator(f'a[href="tel:{owner.direct_phone.replace(" ", "")}"]')
    assert tel.inner_text() == owner.direct_phone
    assert page.locator(f'a[href="mailto:{owner.direct_email}"]').count() == 1

    dates = page.evaluate(DATES)
    assert len(dates) == 2  # the first reply and the call back
    for date in dates:
        assert date["size"] >= 14, date
        assert date["right"] <= WIDTH and not date["broken"], date


def test_booking_a_callback_fits_a_phone(phone):
    page, base, world = phone
    page.goto(f"{base}/c/{world['token']}/callback/")
    assert page.locator("input[type=radio]").count() > 0, "no time offered"
    fits_a_phone(page, "customer-callback")


def test_the_satisfaction_question_fits_a_phone(phone):
    page, base, world = phone
    page.goto(f"{base}/satisfaction/{world['satisfaction_token']}/")
    fits_a_phone(page, "satisfaction")


def test_the_customer_emails_fit_a_phone(phone, time_machine, settings):
    """Every notice the services queue to a customer (the whole day of ``build_world``, in
    German, whose long words wrap least), as queued and with the owner away and a cover."""
    from notifications.models import Notification, NotificationChannel
    from notifications.rendering import context_refresh, render_email
    from tests.test_customer_notices_read_right import build_world
    from tests.test_email_parts_agree import variants

    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language="de", with_manager=True, customer_kind="addressed")
    page = phone[0]
    emails = Notification.objects.filter(
        channel=NotificationChannel.EMAIL, recipient_kind="customer"
    ).order_by("pk")
    seen = set()
    for n in emails:
        if n.template in seen:
            continue
        seen.add(n.template)
        for label, context in variants(context_refresh(n.context)):
            if label not in ("as queued", "covering"):
                continue
            mail = render_email(
                template=n.template, context=context, recipient_name=n.recipient_name
            )
            assert mail.html, n.template
            page.set_content(mail.html)
            name = f"{n.template.replace('/', '-')}-{context.get('language', 'en')}-{label}"
            png = keep(page, name.replace(" ", "-"))
            assert png_width(png) == WIDTH * PHONE["device_scale_factor"], name
            assert page.evaluate(WIDE) <= WIDTH, name
    assert {
        "cases/email/case_opened",
        "cases/email/handoff_introduction",
        "cases/email/reply",
        "commitments/email/renegotiated",
        "commitments/email/missed",
    } <= seen, seen
