"""Every page audited with axe-core against WCAG 2.2 AA in headless Chromium: no serious or
critical violation on any page of ``tests.pages.world.PAGES`` (a page added later is one
line there), and whatever minor or moderate finding remains is named in the README's
"Accessibility" list, so a new one cannot slip in unnoticed.

axe-core comes from npm (frontend/node_modules, ``make install``) and is injected into the
page; skipped with a reason without it or without Chromium, except in CI where that fails.
One browser, one seeded world and one audit per page, in one test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pages.world import AXE, DESKTOP, PAGES, chromium, require_chromium, served_world
from tests.pages.world import signed_in as open_page

# The world is seeded once for the module (committed, so the server's thread sees it); the
# mark only has the test database created.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
README = Path(__file__).resolve().parents[2] / "README.md"


def audit(page) -> list[dict[str, Any]]:
    result = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


@pytest.fixture(scope="module")
def findings(django_db_setup, django_db_blocker) -> dict[str, list[dict[str, Any]]]:
    require_chromium(axe=True)
    found: dict[str, list[dict[str, Any]]] = {}
    with served_world(django_db_blocker) as (base, world), chromium() as browser:
        by_who: dict[str | None, list] = {}
        for p in PAGES:
            by_who.setdefault(p.who, []).append(p)
        for who, pages in by_who.items():
            # axe is injected as an inline script: the pages' CSP would refuse it. Given to the
            # context once, it runs as each page starts instead of being sent for every page.
            with open_page(browser, world, who, bypass_csp=True, **DESKTOP) as page:
                page.context.add_init_script(path=str(AXE))
                for p in pages:
                    answer = page.goto(base + p.path(world))
                    assert answer is not None and answer.status == 200, (p.name, answer)
                    assert page.url == base + p.path(world), f"{p.name} went to {page.url}"
                    found[p.name] = audit(page)
    return found


def test_no_page_has_a_serious_violation_and_the_readme_names_the_rest(findings):
    # One test for every page: ``-n 2`` never splits the module and audits the pages twice.
    blocking = [
        f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['targets']}"
        for name, found in findings.items()
        for v in found
        if v["impact"] in BLOCKING
    ]
    assert not blocking, "\n".join(blocking)
    section = README.read_text().split("### Accessibility", 1)[-1].split("\n## ", 1)[0]
    remaining = {v["id"] for found in findings.values() for v in found}
    unlisted = sorted(rule for rule in remaining if f"`{rule}`" not in section)
    assert not unlisted, f"README.md's Accessibility list does not name {unlisted}"
