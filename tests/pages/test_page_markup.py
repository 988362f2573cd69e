"""Markup every page shares: one base layout, a label for every form control, a single h1,
and no inline script (the pages work without JavaScript; the CSP forbids inline scripts anyway:
the live parts' htmx comes from /static/)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from cases.models import HandoffStatus
from tests.factories import CaseFactory, HandoffFactory
from tests.pages.conftest import client_for, token_for

pytestmark = pytest.mark.django_db


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels_for: set[str] = set()
        self.controls: list[dict] = []
        self.label_depth = 0
        self.h1 = 0
        self.scripts = 0
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if a.get("type") not in ("hidden", "submit", "button"):
                self.controls.append({**a, "_wrapped": self.label_depth > 0, "_tag": tag})
        elif tag == "h1":
            self.h1 += 1
        elif tag == "script" and not a.get("src", "").startswith("/static/"):
            self.scripts += 1
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def _check(html: str) -> None:
    parsed = _Controls()
    parsed.feed(html)
    unlabelled = [
        c
        for c in parsed.controls
        if not c["_wrapped"] and c.get("id") not in parsed.labels_for and not c.get("aria-label")
    ]
    assert not unlabelled, unlabelled
    assert parsed.h1 == 1
    assert parsed.scripts == 0
    assert parsed.stylesheets == ["/static/css/site.css"]


def test_every_page_has_labelled_controls_one_h1_and_no_script(org):
    HandoffFactory(case=CaseFactory(team=org["team"]))
    HandoffFactory(
        case=CaseFactory(team=org["team"], owner=org["colleague"]),
        to_agent=org["owner"],
        status=HandoffStatus.OFFERED,
    )
    owner, manager = client_for(org["owner"]), client_for(org["manager"])
    pages = [
        Client().get("/accounts/login/"),
        owner.get("/queue/"),
        owner.get(f"/cases/{org['case'].ref}/"),
        owner.get("/cases/new/"),
        manager.get("/manage/handoffs/"),
        Client().get(f"/c/{token_for(org['case'])}/"),
        Client().get("/c/not-a-token/"),
    ]
    for response in pages:
        _check(response.content.decode())
