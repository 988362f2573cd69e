"""The managers' rows: the hand-off audit page and report, the commitments report, the team
dashboard, the team reports and the satisfaction figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client

from bench.harness import NotBuilt, Result, measure
from bench.ops_env import Env, find_route, route


def _audit_params(env: Env) -> str:
    today = datetime.now(UTC).date()
    return (
        f"team={env.team_id}&date_from={(today - timedelta(days=90)).isoformat()}"
        f"&date_to={today.isoformat()}"
    )


def op_handoff_audit_page(env: Env) -> Result:
    try:
        path: str | None = route("/manage/handoffs/")
    except NotBuilt:
        path = find_route("audit", api=False)
    client = Client()
    client.force_login(env.manager)

    def call(i: int) -> Any:
        if path is None:
            raise NotBuilt("no hand-off audit page routed")
        return client.get(f"{path}?{_audit_params(env)}")

    r = measure(
        "handoff_audit_page",
        "hand-off audit page (team, 90 days)",
        call,
        n=env.n,
        warmup=env.warmup,
    )
    r.extra["path"] = path
    return _verdict(r, queries=8, p95_ms=100)


def _verdict(
    r: Result, *, queries: int, p95_ms: float | None = None, median_ms: float | None = None
) -> Result:
    """The row's note says whether its scale-1 target is met (the issue's managers' pages)."""
    if r.status != "ok" or r.median_ms is None:
        return r
    met = r.queries_max is not None and r.queries_max <= queries
    met = met and (p95_ms is None or (r.p95_ms or 0) <= p95_ms)
    met = met and (median_ms is None or r.median_ms <= median_ms)
    figure = f"p95 {r.p95_ms} ms" if p95_ms is not None else f"median {r.median_ms} ms"
    verdict = f"target {'met' if met else 'NOT met'}: {r.queries_max} q, {figure}"
    r.note = f"{verdict}; {r.note}" if r.note else verdict
    return r


def op_handoff_report(env: Env) -> Result:
    client = env.api(env.manager)

    def call(i: int) -> Any:
        return client.get(route(f"/api/v1/reports/handoffs/?{_audit_params(env)}"))

    return measure(
        "handoff_report", "hand-off report (API, team, 90 days)", call, n=env.n, warmup=env.warmup
    )


def op_commitments_report(env: Env) -> Result:
    client = env.api(env.manager)

    def call(i: int) -> Any:
        params = _audit_params(env).replace("date_from=", "from=").replace("date_to=", "to=")
        return client.get(route(f"/api/v1/reports/commitments/?{params}"))

    return measure(
        "commitments_report",
        "commitments report (API, team, 90 days)",
        call,
        n=env.n,
        warmup=env.warmup,
    )


def op_team_dashboard(env: Env) -> Result:
    client = Client()
    client.force_login(env.manager)

    def call(i: int) -> Any:
        return client.get(route(f"/manage/?team={env.team_id}&weeks=8"))

    r = measure(
        "team_dashboard", "team dashboard page (team, 8 weeks)", call, n=env.n, warmup=env.warmup
    )
    return _verdict(r, queries=8, median_ms=40)


def op_satisfaction_weekly(env: Env) -> Result:
    """The answers to the question at close by week and by how cases went (the reports API;
    the dashboard reads the same ``satisfaction_weekly`` once per change, from its cache)."""
    client = env.api(env.manager)

    def call(i: int) -> Any:
        return client.get(route(f"/api/v1/reports/teams/{env.team_id}/satisfaction/?weeks=8"))

    return measure(
        "satisfaction_weekly",
        "satisfaction by week (API, 8 weeks)",
        call,
        n=env.n,
        warmup=env.warmup,
    )


def op_team_summary_report(env: Env) -> Result:
    client = env.api(env.manager)

    def call(i: int) -> Any:
        return client.get(route(f"/api/v1/reports/teams/{env.team_id}/summary/?weeks=8"))

    return measure(
        "team_summary_report",
        "team summary report (API, 8 weeks)",
        call,
        n=env.n,
        warmup=env.warmup,
    )


def op_team_agents_report(env: Env) -> Result:
    client = env.api(env.manager)

    def call(i: int) -> Any:
        return client.get(route(f"/api/v1/reports/teams/{env.team_id}/agents/?weeks=8"))

    return measure(
        "team_agents_report",
        "team agents report (API, 8 weeks)",
        call,
        n=env.n,
        warmup=env.warmup,
    )
