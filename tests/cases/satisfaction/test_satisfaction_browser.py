"""The customer answers the question at close in Chromium: the link from the email opens
the page with their score chosen, they add a comment and send it; the page is audited with
axe-core. One browser, one page. Skipped with a reason without Chromium, except in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

from cases.models import CaseStatus, SatisfactionAnswer
from cases.services import case_change_status
from notifications.models import Notification
from tests.conftest import IN_CI
from tests.factories import CaseFactory, TeamFactory, make_agent, make_manager
from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS, shot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[3] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def require_chromium_and_axe() -> None:
    missing = [f"Chromium at {CHROMIUM}"] if not Path(CHROMIUM).exists() else []
    if not AXE.exists():
        missing.append(f"axe-core at {AXE} (make install)")
    try:
        import playwright  # noqa: F401
    except ImportError:  # pragma: no cover - a dev dependency
        missing.append("the playwright package")
    if missing:
        reason = "needs " + ", ".join(missing) + " (never downloaded by the tests)"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', "
        "'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']})"
    )
    return [v["id"] for v in result["violations"] if v["impact"] in BLOCKING]


def test_the_customer_answers_from_the_emails_link(live_server, settings):
    require_chromium_and_axe()
    from playwright.sync_api import sync_playwright

    settings.SITE_URL = live_server.url
    team = TeamFactory(name="Billing")
    owner = make_agent(team, display_name="Ada Owner")
    make_manager(team, first_name="Mona", last_name="Manager")
    case = CaseFactory(team=team, owner=owner, subject="Charged twice for March")
    case_change_status(case=case, status=CaseStatus.CLOSED, by=owner)
    question = Notification.objects.get(template="cases/email/satisfaction_question")
    link = dict(question.context["score_urls"])[2]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # axe is injected as an inline script: the page's CSP would refuse it.
            context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(link)
            assert page.get_by_role("heading", level=1).inner_text() == (
                "Did Ada Owner take care of this for you?"
            )
            assert page.get_by_label("2", exact=True).is_checked()
            page.get_by_label("Anything you would like to tell us? (optional)").fill(
                "Nobody called me back on Tuesday."
            )
            shot(page, "satisfaction-question")
            page.get_by_role("button", name="Send my answer").click()
            shot(page, "satisfaction-answered")
            assert "your answer is recorded" in page.locator("#answer-thanks").inner_text()
            assert not serious_violations(page)
            context.close()
            browser.close()
    finally:
        connections.close_all()
    answer = SatisfactionAnswer.objects.get(case=case)
    assert (answer.score, answer.comment) == (2, "Nobody called me back on Tuesday.")
    assert Notification.objects.filter(template="cases/email/satisfaction_alert").count() == 1
