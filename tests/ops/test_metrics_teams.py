"""/metrics: per-team promise and hand-off figures, and the sweeps' timings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from caseowner import scheduler
from caseowner.ops.figures import figures_refresh
from cases.models import HandoffStatus
from commitments.models import Commitment, CommitmentStatus
from tests.factories import CaseFactory, HandoffFactory, TeamFactory
from tests.ops.conftest import T0, scrape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_metrics")]


def promise(case, *, due: timedelta, risk: timedelta, **fields) -> Commitment:
    return Commitment.objects.create(
        case=case,
        team_id=case.team_id,
        owner=case.owner,
        description="Call back with the courier's answer",
        kind="callback",
        due_at=T0 + due,
        made_at=T0 - timedelta(days=1),
        at_risk_from=T0 + risk,
        **fields,
    )


@pytest.fixture
def billing(frozen):
    """Team Billing (London, Mon–Fri 09–17) at Monday 09:00."""
    team = TeamFactory(name="Billing")
    case = CaseFactory(team=team)
    promise(case, due=timedelta(minutes=30), risk=-timedelta(minutes=30))  # soon, at risk
    promise(case, due=timedelta(days=3), risk=timedelta(days=2))  # neither
    promise(  # soon, confirmed on track
        case,
        due=timedelta(minutes=50),
        risk=-timedelta(minutes=10),
        confirmed_on_track_at=T0 - timedelta(minutes=5),
    )
    for ended in (timedelta(hours=1), timedelta(days=3)):
        promise(
            case,
            due=-ended,
            risk=-ended - timedelta(hours=1),
            status=CommitmentStatus.MISSED,
            ended_at=T0 - ended,
        )
    HandoffFactory(
        case=CaseFactory(team=team),
        status=HandoffStatus.OFFERED,
        offered_at=T0 - timedelta(seconds=600),
        escalated_at=T0 - timedelta(seconds=60),
    )
    TeamFactory(name="Quiet")
    return team


def team_values(samples, team: str) -> dict[str, float]:
    return {name: value for (name, labels), value in samples.items() if ("team", team) in labels}


def test_promises_per_team_open_due_soon_at_risk_and_missed_today(billing, client):
    values = team_values(scrape(client), "Billing")
    assert values["caseowner_promises_open"] == 3
    assert values["caseowner_promises_due_within_business_hour"] == 2
    assert values["caseowner_promises_at_risk"] == 1
    assert values["caseowner_promises_missed_today"] == 1
    assert values["caseowner_promises_missed_daily_norm"] == round(1 / 28, 3)


def test_handoffs_per_team_waiting_oldest_and_escalated_today(billing, client):
    values = team_values(scrape(client), "Billing")
    assert values["caseowner_handoffs_waiting"] == 1
    assert values["caseowner_handoffs_oldest_waiting_seconds"] == 600
    assert values["caseowner_handoffs_escalated_today"] == 1


def test_a_team_with_nothing_shows_zeros(billing, client):
    values = team_values(scrape(client), "Quiet")
    assert values["caseowner_promises_open"] == 0
    assert values["caseowner_handoffs_waiting"] == 0


def test_a_business_hour_counts_working_time_only(billing, client, frozen):
    # Friday 16:30 in London: one business hour ends on Monday at 09:30.
    frozen.move_to(T0 - timedelta(days=2, hours=16, minutes=30))
    friday = T0 - timedelta(days=2, hours=16, minutes=30)
    case = CaseFactory(team=billing)
    Commitment.objects.filter(status=CommitmentStatus.OPEN).delete()
    monday_0920 = friday + timedelta(days=2, hours=16, minutes=50)
    promise(case, due=monday_0920 - T0, risk=timedelta(0))
    promise(case, due=monday_0920 + timedelta(minutes=20) - T0, risk=timedelta(0))
    figures = figures_refresh()
    assert figures["teams"]["Billing"]["due_within_business_hour"] == 1


def test_scrapes_read_the_stored_figures_not_the_tables(
    billing, client, django_assert_max_num_queries
):
    figures_refresh()
    Commitment.objects.all().delete()
    # the outbox: six counts by status, lag, expired leases; nothing on promises or hand-offs
    with django_assert_max_num_queries(8):
        values = team_values(scrape(client), "Billing")
    assert values["caseowner_promises_open"] == 3


def test_the_figures_say_how_old_they_are(billing, client, frozen):
    figures_refresh()
    frozen.shift(timedelta(seconds=20))
    assert scrape(client)[("caseowner_ops_figures_age_seconds", ())] == 20.0


def test_each_sweep_run_records_its_end_duration_and_rows(frozen, client):
    def sweep() -> dict[str, int]:
        return {"claimed": 2, "reclaimed": 1, "archived": 9}

    scheduler.run_due({"notifications.sweep_outbox": (sweep, 2.0)}, {}, 0.0)

    samples = scrape(client)
    task = (("task", "notifications.sweep_outbox"),)
    assert samples[("caseowner_sweep_last_run_timestamp_seconds", task)] == T0.timestamp()
    assert samples[("caseowner_sweep_last_duration_seconds", task)] >= 0
    assert samples[("caseowner_sweep_last_rows", task)] == 3
    assert samples[("caseowner_sweep_runs_total", task)] == 1
    assert samples[("caseowner_sweep_rows_total", task)] == 3


def test_a_periodic_task_run_by_celery_is_timed_too(frozen, client):
    from commitments.tasks import sweep_due

    sweep_due.apply()

    samples = scrape(client)
    task = (("task", "commitments.sweep_due"),)
    assert samples[("caseowner_sweep_last_run_timestamp_seconds", task)] == T0.timestamp()
    assert samples[("caseowner_sweep_runs_total", task)] == 1
