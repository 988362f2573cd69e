""" "Cases I cover" (the agent's availability page) reads a fixed number of queries however
many cases the away colleagues own."""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.availability.hours import cover_duties
from cases.availability.services import absence_record, agent_set_away
from tests.commitments.conftest import london
from tests.factories import make_agent

MONDAY = london(2026, 3, 16, 10)


def _queries(backup) -> int:
    client = Client()
    client.force_login(backup)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/me/availability/")
    assert response.status_code == 200
    return len(captured)


def test_cases_i_cover_reads_the_same_queries_as_the_cases_grow(team, agent, open_case):
    backup = make_agent(team, display_name="Ben Ortiz")
    other = make_agent(team, display_name="Olga Other")
    for owner in (agent, other):
        profile = owner.agent_profile
        profile.backup_agent = backup
        profile.save()
    with time_machine.travel(MONDAY, tick=False):
        open_case(owner=agent)
        open_case(owner=other)
        agent_set_away(agent=agent, by=agent, away=True)
        absence_record(
            agent=other, by=other, starts_at=london(2026, 3, 16, 9), ends_at=london(2026, 3, 20)
        )
        few = _queries(backup)
        assert len(cover_duties(user=backup, at=MONDAY)) == 2
        for _ in range(8):
            open_case(owner=agent)
            open_case(owner=other)
        many = _queries(backup)
        assert len(cover_duties(user=backup, at=MONDAY)) == 18
    assert many == few
