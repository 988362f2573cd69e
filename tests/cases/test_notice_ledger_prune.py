"""The notice-limit ledger keeps only what its 24-hour window counts: the periodic
housekeeping task deletes older rows, in batches, and never a row the limits still count."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CustomerNoticeSent
from cases.notices import customer_notice_ledger_prune
from cases.tasks import prune_notice_ledger
from tests.factories import CaseFactory, TeamFactory, make_agent

pytestmark = pytest.mark.django_db


def _ledger(case, agent, ages: list[timedelta]) -> None:
    now = timezone.now()
    CustomerNoticeSent.objects.bulk_create(
        [CustomerNoticeSent(case=case, agent=agent, at=now - age) for age in ages]
    )


@pytest.fixture
def owner_case():
    team = TeamFactory()
    owner = make_agent(team)
    return owner, CaseFactory(team=team, owner=owner)


@time_machine.travel("2026-11-20 09:00:00+00:00", tick=False)
def test_the_task_deletes_rows_past_the_window_and_keeps_the_counted_ones(owner_case):
    owner, case = owner_case
    _ledger(case, owner, [timedelta(days=3), timedelta(days=1, seconds=1), timedelta(days=1)])
    _ledger(case, owner, [timedelta(hours=23, minutes=59), timedelta(minutes=5)])

    assert prune_notice_ledger() == {"pruned": 3}

    kept = sorted(CustomerNoticeSent.objects.values_list("at", flat=True))
    assert kept == [
        timezone.now() - timedelta(hours=23, minutes=59),
        timezone.now() - timedelta(minutes=5),
    ]
    assert prune_notice_ledger() == {"pruned": 0}


@time_machine.travel("2026-11-20 09:00:00+00:00", tick=False)
def test_pruning_goes_in_batches_until_nothing_old_is_left(owner_case):
    owner, case = owner_case
    _ledger(case, owner, [timedelta(days=2, minutes=n) for n in range(7)])
    _ledger(case, owner, [timedelta(hours=1)])

    with CaptureQueriesContext(connection) as ctx:
        assert customer_notice_ledger_prune(batch_size=3) == 7
    statements = [q["sql"].split()[0] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # batches of 3, 3 and 1, each a select of ids and a delete by id; the short last batch
    # ends the loop without another select
    assert statements == ["SELECT", "DELETE"] * 3
    assert CustomerNoticeSent.objects.count() == 1


def test_the_pruning_runs_with_the_periodic_sweeps():
    assert "cases.prune_notice_ledger" in settings.PERIODIC_TASKS
