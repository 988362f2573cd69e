"""The benchmark's "cover for" operations on a small team: each submission offers every case
of the hot agent and leaves nothing behind (rolled back); the page reads its drafts."""

from __future__ import annotations

import random

import pytest

from bench.ops import Env
from bench.ops_cover import op_cover_for, op_cover_for_page
from cases.models import Handoff
from notifications.models import Notification
from tests.commitments.conftest import agent, manager, open_case, team  # noqa: F401
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


def _env(hot, boss) -> Env:
    return Env(
        n=40, n_writes=2, scale=0.001, warmup=1, rng=random.Random(1), hot=hot, manager=boss,
        team_id=0, case_ids=[], customer_case_ids=[], write_case_ids=[],
    )  # fmt: skip


def test_cover_for_offers_every_case_each_call_and_leaves_nothing(team, agent, manager, open_case):  # noqa: F811
    make_agent(team)
    for _ in range(4):
        open_case()
    notices = Notification.objects.count()
    result = op_cover_for(_env(agent, manager))
    assert result.status == "ok", result.note
    assert result.errors == 0 and result.n == 2 and result.queries
    assert not Handoff.objects.exists()
    assert Notification.objects.count() == notices


def test_the_cover_for_page_is_measured(team, agent, manager, open_case):  # noqa: F811
    make_agent(team)
    open_case()
    result = op_cover_for_page(_env(agent, manager))
    assert result.status == "ok", result.note
    assert result.errors == 0
