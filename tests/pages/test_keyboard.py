"""Keyboard only, in headless Chromium: Tab, Shift+Tab, Enter and Space (and typing into the
fields), never a click. The agent skips the header, opens a case from the queue, records a
promise and offers a hand-off; the customer opens their link and acknowledges the new owner.
At every stop the focused element shows a focus ring (an outline or a box shadow) and is
on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import require_postgres
from tests.pages.world import DESKTOP, chromium, require_chromium, served_world, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# What has the focus, and whether a person can see where it is.
FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
  return {
    tag: e.tagName.toLowerCase(), text: (e.innerText || '').trim().slice(0, 80),
    label: label.trim(), type: e.type || '', value: e.value || '',
    inMain: e.closest('main') !== null,
    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none',
    onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight
      && r.right > 0 && r.left < innerWidth,
  };
}"""
Focus = dict[str, Any]


@pytest.fixture(scope="module")
def browser_and_world(django_db_setup, django_db_blocker):
    # The walks post forms to the module's live server while each test holds its transaction:
    # PostgreSQL serves both; SQLite's in-memory test database answers "table is locked".
    require_postgres()
    require_chromium()
    with served_world(django_db_blocker) as (base, world), chromium() as browser:
        yield browser, base, world


def press(page, key: str) -> Focus:
    page.keyboard.press(key)
    focus = page.evaluate(FOCUS)
    assert focus is not None, f"{key}: nothing has the focus"
    assert focus["ring"], f"{key}: no visible focus on {focus}"
    assert focus["onScreen"], f"{key}: the focus is off screen: {focus}"
    return focus


def tab_to(page, wanted: Callable[[Focus], bool], *, key: str = "Tab", limit: int = 80) -> Focus:
    """Tab (or Shift+Tab) until ``wanted`` holds (it may already), the focus visible at every
    stop."""
    focus = page.evaluate(FOCUS)
    if focus is not None and wanted(focus):
        return focus
    passed = []
    for _ in range(limit):
        focus = press(page, key)
        if wanted(focus):
            return focus
        passed.append(focus["text"] or focus["label"] or focus["tag"])
    raise AssertionError(f"not reached with {key} after {limit} stops: {passed}")


def labelled(text: str) -> Callable[[Focus], bool]:
    return lambda f: f["label"].startswith(text)


def named(text: str) -> Callable[[Focus], bool]:
    return lambda f: f["text"] == text


def skip_the_header(page) -> None:
    focus = press(page, "Tab")
    assert focus["text"] == "Skip to content", f"the first stop is the skip link, not {focus}"
    page.keyboard.press("Enter")
    assert press(page, "Tab")["inMain"], "after the skip link the next stop is in the page"


def test_an_agent_opens_a_case_records_a_promise_and_offers_it_by_keyboard(browser_and_world):
    from cases.models import Handoff
    from commitments.models import Commitment

    browser, base, world = browser_and_world
    case, colleague = world["own_case"], world["colleague"]
    with signed_in(browser, world, "owner", **DESKTOP) as page:
        page.goto(f"{base}/queue/")
        skip_the_header(page)
        tab_to(page, named(case.ref))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{base}/cases/{case.ref}/"

        tab_to(page, named("Record a promise…"))
        page.keyboard.press("Enter")  # opens the <details>
        tab_to(page, labelled("The promise, in the customer's words"))
        page.keyboard.type("I will send you the corrected address letter.")
        tab_to(page, labelled("Or within"))
        page.keyboard.type("2 business days")
        tab_to(page, named("Record the promise"))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        promise = Commitment.objects.get(
            case=case, description="I will send you the corrected address letter."
        )

        tab_to(page, named("Write the brief…"))
        page.keyboard.press("Space")
        tab_to(page, labelled("Hand the case to"))
        page.keyboard.type(colleague.agent_profile.display_name[:4])
        for label, text in (
            ("What the customer needs", "The new address on every letter from now on."),
            ("What has been done so far", "Address changed in billing; letter drafted today."),
            ("What the customer was promised", "The corrected letter within two business days."),
            ("The next step", "Send the corrected letter and confirm by email."),
        ):
            tab_to(page, labelled(label))
            page.keyboard.type(text)
        # back one field and forward again: Shift+Tab keeps the ring too
        assert press(page, "Shift+Tab")["label"].startswith("What the customer was promised")
        assert press(page, "Tab")["label"].startswith("The next step")
        for c in Commitment.objects.filter(case=case, status="open"):
            tab_to(page, lambda f, c=c: f["type"] == "checkbox" and f["value"] == str(c.pk))
            page.keyboard.press("Space")
        tab_to(page, named("Offer hand-off"))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        handoff = Handoff.objects.get(case=case, status="offered")
        assert handoff.to_agent == colleague
        assert promise.pk in {b["id"] for b in handoff.briefed_commitments}


def test_the_customer_acknowledges_their_new_owner_by_keyboard(browser_and_world):
    from cases.models import Handoff

    browser, base, world = browser_and_world
    with signed_in(browser, world, None, **DESKTOP) as page:
        page.goto(f"{base}/c/{world['token']}/")
        skip_the_header(page)
        tab_to(page, named("Acknowledge your new contact"))
        press(page, "Tab")
        tab_to(page, named("Acknowledge your new contact"), key="Shift+Tab")
        with page.expect_navigation():
            page.keyboard.press("Space")
        assert page.get_by_text("knows you have their details").is_visible()
    handoff = Handoff.objects.get(case=world["case"], status="accepted")
    assert handoff.customer_acknowledged_at is not None
