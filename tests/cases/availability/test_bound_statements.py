"""Statements written once (``caseowner.bound``) on PostgreSQL: their constants are part of
the text (a partial index names them, so a generic plan can use it), a direct connection
prepares them and keeps one plan, the query log still shows each run with its values, and
behind PgBouncer (``DATABASE_PREPARED_STATEMENTS`` off) nothing is prepared."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseowner import bound
from caseowner.bound import Statement
from cases.models import OPEN_STATUSES, Case
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("statements are composed on PostgreSQL only (SQLite runs the queryset)")
    bound._CURSOR_CLASSES.clear()
    yield
    bound._CURSOR_CLASSES.clear()


def _open_cases(user):
    return Case.objects.filter(owner=user, status__in=OPEN_STATUSES).values("id")


def _prepared() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def test_constants_are_written_into_the_text_and_inputs_stay_parameters(team, open_case):
    agent = make_agent(team)
    statement = Statement(_open_cases, user="user")
    assert statement.rows(user=agent) == []
    composed = statement._composed["default"]
    assert "IN ('open', 'waiting_on_customer')" in composed.sql
    assert composed.slots == ["user"]  # the owner is the only parameter left
    mine = open_case(owner=agent)
    assert statement.rows(user=agent) == [{"id": mine.pk}]


def test_a_direct_connection_prepares_each_statement_once_with_a_generic_plan(settings, team):
    settings.DATABASE_PREPARED_STATEMENTS = True
    agent = make_agent(team)
    statement = Statement(_open_cases, user="user")
    with CaptureQueriesContext(connection) as runs:
        for _ in range(3):
            statement.rows(user=agent)
    ours = [(text, generic) for text, generic in _prepared() if "waiting_on_customer" in text]
    assert len(ours) == 1, ours  # prepared once, run three times
    assert ours[0][1] == 3  # plan_cache_mode=force_generic_plan: never replanned
    # the query log shows every run with its values, as for any query
    assert len(runs) == 3
    assert all(f'"owner_id" = {agent.pk}' in q["sql"] for q in runs.captured_queries)


def test_behind_pgbouncer_nothing_is_prepared(settings, team):
    settings.DATABASE_PREPARED_STATEMENTS = False
    agent = make_agent(team)
    before = len(_prepared())
    statement = Statement(_open_cases, user="user")
    with CaptureQueriesContext(connection) as runs:
        statement.rows(user=agent)
        statement.rows(user=agent)
    assert len(_prepared()) == before
    assert f'"owner_id" = {agent.pk}' in runs.captured_queries[-1]["sql"]
