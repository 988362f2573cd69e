"""The benchmark's generator and guards at a tiny scale (the full run is ``make bench``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Min, Q

from bench import db, generate
from bench.cli import parse_args
from bench.harness import NOT_BUILT, measure
from bench.report import render_compare, render_table


def test_it_refuses_sqlite_with_exit_code_2() -> None:
    with pytest.raises(SystemExit) as exc:
        db.bench_target("sqlite:///var/caseowner.sqlite3", 0.01)
    assert exc.value.code == 2


def test_it_refuses_to_run_without_a_database_url() -> None:
    with pytest.raises(SystemExit) as exc:
        db.bench_target(None, 0.01)
    assert exc.value.code == 2


def test_it_uses_a_database_of_its_own_per_scale() -> None:
    target = db.bench_target("postgres://postgres@127.0.0.1:5432/caseowner", 0.1)
    assert target.name == "caseowner_bench_0_1"
    assert target.url.endswith("/caseowner_bench_0_1")
    assert db.bench_target("postgres://h/caseowner_bench_0_1", 1).name == "caseowner_bench_1"


def test_the_http_rows_run_at_scale_one_unless_turned_off() -> None:
    assert parse_args(["--scale", "1"]).http is True
    assert parse_args(["--scale", "0.1"]).http is False
    assert parse_args(["--scale", "1", "--no-http"]).http is False
    assert parse_args(["--scale", "0.1", "--http"]).http is True


def test_counts_scale_linearly_with_one_of_each_at_least() -> None:
    full = generate.Counts.for_scale(1)
    assert (full.teams, full.agents, full.customers, full.cases) == (20, 500, 200_000, 1_000_000)
    assert (full.handoffs, full.commitments, full.notifications) == (300_000, 2_000_000, 2_000_000)
    assert full.hot_open == 300
    tiny = generate.Counts.for_scale(0.0001)
    assert tiny.teams == 1 and tiny.customers >= 1 and tiny.hot_open >= 1
    assert tiny.agents >= 3  # the hot agent plus two who can hand off to each other


def test_a_missing_endpoint_is_reported_not_raised() -> None:
    from bench.harness import NotBuilt

    def call(i: int) -> None:
        raise NotBuilt("/api/v1/nowhere/ is not routed")

    result = measure("x", "nowhere", call, n=5, warmup=1)
    assert result.status == NOT_BUILT
    table = render_table(
        {"scale": 0.001, "database": "d", "started_at": "t", "results": [result.as_dict()]}
    )
    assert "n/a (not built)" in table


@pytest.mark.django_db
def test_it_times_and_counts_queries_of_each_call() -> None:
    result = measure("noop", "no-op", lambda i: None, n=10, warmup=2, query_samples=2)
    assert result.n == 10 and result.queries == 0 and result.median_ms is not None
    rep = {"scale": 0.1, "started_at": "t", "results": [result.as_dict()], "data": {}}
    rep1 = {**rep, "scale": 1}
    assert "ratio" in render_compare([rep, rep1])


@pytest.mark.django_db
def test_generator_builds_a_consistent_contact_centre(postgres: None) -> None:
    from cases.models import Case, CaseEvent, Handoff

    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {db.MARKER_TABLE} (key text PRIMARY KEY, value text)"
        )
    data = generate.ensure_data(0.0005)
    counts = generate.Counts.for_scale(0.0005)
    assert Case.objects.count() == counts.cases
    assert data["counts"]["cases"] == counts.cases
    assert CaseEvent.objects.filter(kind="opened").count() == counts.cases
    open_q = Q(status__in=["open", "waiting_on_customer"])
    assert Case.objects.filter(open_q, owner_id=1).count() == counts.hot_open
    assert Handoff.objects.filter(status="offered").values("case").distinct().count() == (
        Handoff.objects.filter(status="offered").count()
    )
    try:
        from commitments.models import Commitment
    except ImportError:
        return
    earliest = dict(
        Commitment.objects.filter(status="open")
        .values("case")
        .annotate(m=Min("due_at"))
        .values_list("case", "m")
    )
    for case_id, next_due in Case.objects.filter(open_q).values_list("id", "next_due_at"):
        assert earliest.get(case_id) == next_due
