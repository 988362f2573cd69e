"""The manager's "cover for" page in headless Chromium (JavaScript off): from the team's
agents a manager opens "Cover for" an agent who is away, a summary left short comes back on
its case with nothing offered, the completed page offers every case at once, and once the
receivers accept every case has a new, present owner.

Set ``PAGES_SCREENSHOT_DIR`` to keep screenshots.
"""

from __future__ import annotations

import pytest

from cases.availability.services import agent_set_away
from cases.handoffs.services import handoff_accept
from cases.models import Case, Handoff
from cases.services import case_open
from tests.factories import CustomerFactory, make_agent
from tests.pages.test_browser import browser_page, log_in, shot  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_case(page, case, *, next_step: bool = True) -> None:
    draft = page.locator(f"#case-{case.pk}-draft")
    if draft.get_attribute("open") is None:  # each draft is folded to its summary
        draft.locator("summary").click()
    page.get_by_label(f"What the customer needs ({case.ref})").fill(
        f"{case.customer.full_name} needs {case.subject.lower()} sorted out before the weekend."
    )
    if next_step:
        page.get_by_label(f"The next step ({case.ref})").fill(
            f"Phone {case.customer.full_name} tomorrow morning about {case.ref} and confirm."
        )


def test_a_manager_covers_for_an_away_agent_in_one_step(org, live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    owner, team = org["owner"], org["team"]
    cases = [org["case"]] + [
        case_open(
            customer=CustomerFactory(full_name=name),
            team=team,
            channel="email",
            subject=subject,
            owner=owner,
            by=owner,
        )
        for name, subject in (
            ("Alan Turing", "Refund for a cancelled order"),
            ("Ada Lovelace", "Address change not applied"),
        )
    ]
    make_agent(team, display_name="Dee Present")
    agent_set_away(agent=owner, by=owner, away=True, note="Unwell")

    log_in(page, base, org["manager"])
    # the dashboard's "today" panel shows her away, her promises uncovered
    page.goto(f"{base}/manage/?team={team.pk}")
    row = page.locator("table#absences tbody tr", has_text="Ada Owner")
    assert row.is_visible() and "away now" in row.inner_text()
    assert "uncovered" in row.inner_text()
    shot(page, "39-dashboard-absences")
    page.goto(f"{base}/manage/agents/?team={team.pk}")
    page.get_by_role("link", name="Cover for Ada Owner").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Cover for Ada Owner").is_visible()
    for case in cases:
        assert page.locator(f"#case-{case.pk}").is_visible()
    shot(page, "40-cover-for")

    page.get_by_label("Cole League").check()
    page.get_by_label("Dee Present").check()
    for case in cases[:-1]:
        _fill_case(page, case)
    _fill_case(page, cases[-1], next_step=False)
    page.get_by_role("button", name="Offer all 3 cases").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Nothing was offered").is_visible()
    refused = page.locator(f"#case-{cases[-1].pk} .errorlist")
    assert refused.first.is_visible()
    assert page.locator(f"#case-{cases[0].pk} .errorlist").count() == 0
    assert not Handoff.objects.filter(case__in=cases, status="offered").exists()
    shot(page, "41-cover-for-refused")

    page.get_by_label(f"The next step ({cases[-1].ref})").fill(
        "Check the address with the courier today and write to Ada Lovelace by noon."
    )
    page.get_by_role("button", name="Offer all 3 cases").click()
    page.wait_for_load_state()
    assert page.get_by_text("3 case(s) offered").is_visible()
    assert page.get_by_text("has no open case left to offer").is_visible()
    shot(page, "42-cover-for-offered")

    offers = list(Handoff.objects.filter(case__in=cases, status="offered"))
    assert len(offers) == 3
    for handoff in offers:
        handoff_accept(handoff=handoff, by=handoff.to_agent)
    owners = dict(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("pk", "owner_id"))
    assert owners == {h.case_id: h.to_agent_id for h in offers}
    assert owner.pk not in owners.values()
