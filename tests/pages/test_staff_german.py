"""A German agent reads German: every staff page of ``tests.pages.world.PAGES`` (the pages the
accessibility audit walks), rendered for agents whose language is German, carries no English
the product wrote: not in the text, and not in what assistive technology reads out
(placeholder, aria-label, title, alt). What people wrote (names, subjects, notes, promises,
briefs, hours) is theirs and is taken out before reading; what is left must come from the
catalogue. Client renders only: one seeded world, no browser."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.test import Client

from cases.models import (
    Absence,
    AgentProfile,
    Case,
    CaseEvent,
    Contact,
    Customer,
    Handoff,
    StaffLanguage,
    Team,
)
from commitments.models import Commitment
from tests.pages.world import PAGES, seed_world

pytestmark = pytest.mark.django_db

# Words of English the pages' own sentences use that are no German words too ("Team",
# "Status", "Chat", "Filter", "Median", "Spam", "in", "an" are both).
ENGLISH = re.compile(
    r"\b(the|and|with|your|you|of|is|are|has|have|for|from|by|on|at|this|that|what|who|when|"
    r"which|case|cases|promise|promises|hand-offs?|owner|owns|customers?|due|open|closed|"
    r"resolved|waiting|save|search|new|my|queue|reply|note|notes|email|phone|today|week|weeks|"
    r"none|nobody|yes|away|back|cover|backup|page|next|previous|record|recorded|offer|offered|"
    r"accept|accepted|decline|declined|kept|missed|overdue|risk|log|sign|settings|audit|"
    r"agents?|first|response|target|rate|goal|business|day|days|hours|minutes|time|zone|"
    r"language|details|edit|merge|title|subject|description|priority|channel|show|period|"
    r"reports|dashboard|history|changes|before|after|only|any|all|every|each|"
    r"Mon|Tue|Wed|Thu|Fri|Sat|Sun|Mar|May|Oct|Dec)\b",
    re.IGNORECASE,
)
# English the pages keep on purpose: the language's own name in the language menu; the words
# the due-time and lead-time fields read (their parser takes English), quoted as examples; a
# region's code (Bavaria's) in the holidays' example.
ALLOWED = ["English", "1 business day, 1 business hour", "2 business days", "BY für DE"]
# What assistive technology reads out besides the text.
READ_OUT = re.compile(r'\s(?:placeholder|aria-label|title|alt)="([^"]*)"')


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def people_wrote() -> list[str]:
    """Names, subjects, notes, promises, briefs and hours as people typed them."""
    written: list[str] = ["caseowner"]
    for p in AgentProfile.objects.all():
        written += [p.display_name, p.job_title, p.working_hours, p.away_note]
    for c in Customer.objects.all():
        written += [c.full_name, c.addressed_as, c.email, c.salutation_name]
    for case in Case.objects.all():
        written += [case.ref, case.subject, case.description]
    written += list(Team.objects.values_list("name", flat=True))
    written += list(Commitment.objects.values_list("description", flat=True))
    written += list(Absence.objects.values_list("note", flat=True))
    written += list(Contact.objects.values_list("summary", flat=True))
    for h in Handoff.objects.all():
        written += [h.customer_needs, h.actions_taken, h.customer_expectations, h.next_step]
    for data in CaseEvent.objects.values_list("data", flat=True):
        written += [data.get(k, "") for k in ("text", "summary", "excerpt", "reason", "note")]
        written += _strings(data.get("summary_fields", {}))
    return [w for w in written if w and len(w) > 1]


def read_out(page: str) -> str:
    """The page's text and what is read out of its attributes, without scripts and styles."""
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    attributes = " ".join(READ_OUT.findall(page))
    text = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(f"{text} {attributes}")


def english_left(page: str, *, written: list[str]) -> list[str]:
    text = re.sub(r"\s+", " ", read_out(page))
    for value in sorted({*written, *ALLOWED}, key=len, reverse=True):
        text = text.replace(re.sub(r"\s+", " ", value), " ")
    text = re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+|CASE-\d+", " ", text)
    found = {m.group(0) for m in ENGLISH.finditer(text)}
    return sorted(f"{w!r} in …{_around(text, w)}…" for w in found)


def _around(text: str, word: str) -> str:
    at = re.search(rf"\b{re.escape(word)}\b", text)
    assert at is not None
    return text[max(0, at.start() - 40) : at.end() + 40]


@pytest.fixture
def german_world(settings) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = seed_world()
    AgentProfile.objects.update(language=StaffLanguage.GERMAN)
    return world


def test_no_staff_page_carries_english_for_a_german_agent(german_world):
    written = people_wrote()
    report = []
    # pages nobody signs in to, but the login, are the customer's: they speak the customer's
    # language (tests/test_german_renders.py)
    staff_pages = [p for p in PAGES if p.who is not None or p.name == "login"]
    for p in staff_pages:
        client = Client(headers={"accept-language": "en-GB,en;q=0.9"})
        if p.who is None:
            client = Client(headers={"accept-language": "de-DE,de;q=0.9"})
        else:
            client.force_login(german_world[p.who])
        response = client.get(p.path(german_world))
        assert response.status_code == 200, (p.name, response.status_code)
        page = response.content.decode()
        assert '<html lang="de"' in page, p.name
        if left := english_left(page, written=written):
            report.append(f"{p.name}: " + "; ".join(left))
    assert not report, "\n".join(report)


def test_the_same_pages_read_english_for_an_english_agent(german_world):
    """The catalogue check above would pass on an empty page: the English render shows the
    words it looks for, so it can tell."""
    AgentProfile.objects.update(language=StaffLanguage.ENGLISH)
    client = Client(headers={"accept-language": "de-DE,de;q=0.9"})
    client.force_login(german_world["owner"])
    page = client.get("/queue/").content.decode()
    assert english_left(page, written=people_wrote())
    assert '<html lang="en-gb"' in page
