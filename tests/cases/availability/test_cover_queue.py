"""The cover's queue shows the cases they cover ("Covering for Oliver Bennett: 3 cases"),
next promise due first, on the page and in ``queue/``, within the queue's query budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.availability.services import absence_record
from cases.models import Case
from tests.commitments.conftest import london
from tests.factories import make_agent

MONDAY = london(2026, 3, 16, 10)
DURING = london(2026, 3, 18, 10)
AFTER = london(2026, 3, 23, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture
def away(team, agent, open_case):
    """Oliver owns three open cases (due in 5, 1 and 3 days) and is away Tue–Thu; Amelia is
    his backup and owns one case herself."""
    amelia = make_agent(team, display_name="Amelia Clarke")
    profile = agent.agent_profile
    profile.display_name = "Oliver Bennett"
    profile.backup_agent = amelia
    profile.save()
    with time_machine.travel(MONDAY, tick=False):
        cases = [open_case(subject=f"Oliver's case {n}") for n in (5, 1, 3)]
        own = open_case(owner=amelia, subject="Amelia's own case")
        absence_record(
            agent=agent, by=agent, starts_at=london(2026, 3, 17), ends_at=london(2026, 3, 20)
        )
    for case, days in zip(cases, (5, 1, 3), strict=True):
        Case.objects.filter(pk=case.pk).update(next_due_at=DURING + timedelta(days=days))
    return {"cover": amelia, "owner": agent, "cases": cases, "own": own}


def _page(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/queue/").content.decode()


def _api(user) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    return client.get("/api/v1/queue/").json()


def test_the_queue_page_shows_the_cases_covered_next_due_first(away):
    with time_machine.travel(DURING, tick=False):
        html = _page(away["cover"])
    assert "Covering for Oliver Bennett: 3 cases" in html
    section = html.split("Covering for Oliver Bennett")[1].split("</section>")[0]
    assert (
        section.index("Oliver&#x27;s case 1")
        < section.index("Oliver&#x27;s case 3")
        < section.index("Oliver&#x27;s case 5")
    )
    assert "Amelia&#x27;s own case" in html.split("Cases I own")[1]


def test_the_queue_api_lists_the_cases_covered(away):
    with time_machine.travel(DURING, tick=False):
        body = _api(away["cover"])
    [section] = body["covering"]
    assert section["owner"] == {"id": away["owner"].pk, "name": "Oliver Bennett"}
    assert section["count"] == 3
    assert [c["subject"] for c in section["cases"]] == [
        "Oliver's case 1",
        "Oliver's case 3",
        "Oliver's case 5",
    ]
    assert [r["subject"] for r in body["results"]] == ["Amelia's own case"]


def test_nothing_is_covered_once_the_owner_is_back(away):
    with time_machine.travel(AFTER, tick=False):
        assert _api(away["cover"])["covering"] == []
        assert "Covering for" not in _page(away["cover"])


def test_the_owner_does_not_see_their_own_cases_as_covered(away):
    with time_machine.travel(DURING, tick=False):
        assert _api(away["owner"])["covering"] == []


def test_a_cover_who_owns_nothing_still_sees_the_cases_covered(away):
    Case.objects.filter(pk=away["own"].pk).update(status="resolved")
    with time_machine.travel(DURING, tick=False):
        body = _api(away["cover"])
    assert body["results"] == [] and body["covering"][0]["count"] == 3


def _queries(user, url: str) -> int:
    client = APIClient()
    client.force_authenticate(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_covered_cases_cost_the_same_queries_however_many(away, open_case):
    with time_machine.travel(DURING, tick=False):
        few = _queries(away["cover"], "/api/v1/queue/")
        for _ in range(6):
            open_case(subject="More of Oliver's")
        many = _queries(away["cover"], "/api/v1/queue/")
        assert _api(away["cover"])["covering"][0]["count"] == 9
    assert many == few


def test_a_customers_reply_flags_the_covered_case_on_the_page_and_in_the_api(away):
    from cases.conversations.inbound import inbound_mail_receive
    from cases.mail_thread import reply_address
    from tests.mail import raw_mail

    replied = away["cases"][1]
    with time_machine.travel(DURING, tick=False):
        raw = raw_mail(to=reply_address(replied.pk), text="Any news on the refund?")
        inbound_mail_receive(raw=raw, via="smtp")
        html, body = _page(away["cover"]), _api(away["cover"])
    section = html.split("Covering for Oliver Bennett")[1].split("</section>")[0]
    row = section.split(f">{replied.ref}</a>")[1].split("</tr>")[0]
    assert "customer replied" in row and section.count("customer replied") == 1
    flags = {c["ref"]: c["customer_replied"] for c in body["covering"][0]["cases"]}
    assert flags == {c.ref: c.pk == replied.pk for c in away["cases"]}
