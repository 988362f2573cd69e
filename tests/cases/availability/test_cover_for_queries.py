"""A manager's "cover for" offers every case in one transaction whose statements barely grow
with the cases: the locks, reads and writes go for all of them at once."""

from __future__ import annotations

import os

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.availability.cover_for import CoverRequest, cover_drafts, cover_for
from cases.availability.services import agent_set_away
from tests.cases.availability.test_cover_for import MONDAY, SHARED, _items
from tests.commitments.conftest import promise
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

# Statements each further case adds (22 when each case was its own hand-off offer).
PER_CASE_MAX = 5


def _statements(n: int, team, agent, manager, open_case) -> int:
    with time_machine.travel(MONDAY, tick=False):
        cases = [open_case(owner=agent) for _ in range(n)]
        promise(cases[0], agent, due="1 business day")
        agent_set_away(agent=agent, by=agent, away=True)
        ben, cat = make_agent(team), make_agent(team)
        drafts = cover_drafts(agent=agent)
        with CaptureQueriesContext(connection) as captured:
            handoffs = cover_for(
                agent=agent,
                by=manager,
                request=CoverRequest(
                    cases=_items(drafts), receivers=[ben.pk, cat.pk], shared=SHARED
                ),
            )
    assert len(handoffs) == n
    if os.environ.get("SHOW_QUERIES"):
        print(f"\nCOVER {n}: {len(captured)}")
        print("\n".join(q["sql"][:160] for q in captured.captured_queries))
    return len(captured)


def test_each_case_costs_a_few_statements(team, agent, manager, open_case):
    one = _statements(1, team, agent, manager, open_case)
    four = _statements(4, team, make_agent(team), manager, open_case)
    assert (four - one) / 3 <= PER_CASE_MAX, (one, four)
