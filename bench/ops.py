"""The measured operations. Each one checks that what it needs exists and otherwise reports
"n/a (not built)", so the benchmark runs while parts of the product are still missing."""

from __future__ import annotations

import inspect
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from bench.harness import NOT_BUILT, NotBuilt, Result, measure
from bench.ops_callbacks import op_callback_slots
from bench.ops_conversation import op_contact_record, op_inbound_ingest
from bench.ops_cover import op_cover_for, op_cover_for_page
from bench.ops_metrics import op_figures_refresh, op_metrics_scrape
from bench.ops_poll import op_queue_poll
from bench.ops_search import op_search_name, op_search_phone, op_search_ref

TARGETS = {
    "queue": "med ≤8, CPU ≤6, ≤8 q",
    "case_detail": "med ≤8, CPU ≤6, ≤8 q",
    "case_list": "p95 ≤50",
    "customer_page": "≤8 q, p95 ≤25",
    "handoff_audit_page": "≤8 q, p95 ≤100",
    "handoff_report": "≤8 q, p95 ≤100",
    "commitments_report": "≤8 q, p95 ≤100",
    "team_dashboard": "≤8 q, med ≤40",
    "team_summary_report": "≤8 q, p95 ≤150",
    "team_agents_report": "≤8 q, p95 ≤150",
    "satisfaction_weekly": "≤8 q, p95 ≤150",
    "handoff_offer_accept": "≤30 q",
    "commitment_create_keep": "≤15 q",
    "sweep_claim": "≤50 ms / 1,000",
    "delivery": "≥600 emails/s",
    "notice_latency": "p99 ≤ 10 s",
}

SUMMARY = {
    "customer_needs": "The customer needs the refund for order 4471 confirmed in writing.",
    "actions_taken": "Billing approved the refund on Tuesday and the bank reference is known.",
    "customer_expectations": "They expect an email confirmation and a call before Friday noon.",
    "next_step": "Send the written confirmation, then phone to check the bank credited it.",
}


def route(path: str) -> str:
    """``path`` if a view answers it, else NotBuilt."""
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        raise NotBuilt(f"{path.split('?')[0]} is not routed") from None
    return path


def find_route(*words: str, api: bool) -> str | None:
    """The first URL pattern whose text holds every word (for pages whose path is not fixed)."""

    def walk(patterns: list, prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    for text in walk(get_resolver().url_patterns, ""):
        if text.startswith("api/") != api or text.startswith("admin/") or "<" in text:
            continue
        if all(w in text for w in words):
            return "/" + text.lstrip("^").rstrip("$")
    return None


@dataclass
class Env:
    """Who and what the operations use; built once per run."""

    n: int
    n_writes: int
    scale: float
    warmup: int
    rng: random.Random
    hot: Any
    manager: Any
    team_id: int
    case_ids: list[int]
    customer_case_ids: list[int]
    write_case_ids: list[int]
    clients: dict[int, Client] = field(default_factory=dict)
    # the notice-latency run's length (5 minutes at a real scale, seconds in the smoke run)
    latency_seconds: float = 300.0

    def api(self, user: Any) -> Client:
        client = self.clients.get(user.pk)
        if client is None:
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            client = Client(headers={"authorization": f"Token {token.key}"})
            self.clients[user.pk] = client
        return client


def build_env(*, n: int, n_writes: int, scale: float, warmup: int) -> Env:
    User = get_user_model()
    Case = apps.get_model("cases.Case")
    rng = random.Random(7)
    # the generator makes user 1 the hot agent (300 open cases)
    hot = User.objects.get(pk=1)
    team_id = hot.agent_profile.teams.values_list("id", flat=True).first()
    manager = User.objects.filter(managed_teams__id=team_id).first()
    ids = list(
        Case.objects.filter(team_id=team_id).order_by("?").values_list("id", flat=True)[:400]
    )
    open_ids = list(
        Case.objects.filter(team_id=team_id, status__in=["open", "waiting_on_customer"])
        .order_by("?")
        .values_list("id", flat=True)[:200]
    )
    # writes touch open cases of other agents (never the hot agent's queue), none with an
    # offer waiting
    write_ids = list(
        Case.objects.filter(status__in=["open", "waiting_on_customer"])
        .exclude(owner=hot)
        .exclude(handoffs__status="offered")
        .order_by("?")
        .values_list("id", flat=True)[: max(n_writes + warmup + 10, 50)]
    )
    return Env(
        n=n,
        n_writes=n_writes,
        scale=scale,
        warmup=warmup,
        rng=rng,
        hot=hot,
        manager=manager,
        team_id=team_id,
        case_ids=ids,
        customer_case_ids=open_ids or ids,
        write_case_ids=write_ids,
    )


def _ref(case_id: int) -> str:
    from cases.models import format_ref

    return format_ref(case_id)


# --- reads ----------------------------------------------------------------------------------


def op_queue(env: Env) -> Result:
    client = env.api(env.hot)

    def call(i: int) -> Any:
        return client.get(route("/api/v1/queue/?page_size=50"))

    r = measure("queue", "agent queue (API, 50 of 300 open)", call, n=env.n, warmup=env.warmup)
    r.extra["agent_open_cases"] = _open_cases(env.hot)
    return _hot_read_verdict(r)


# The hot reads' scale-1 targets (in-process): median and this process's CPU per request.
HOT_READ_MEDIAN_MS, HOT_READ_CPU_MS, HOT_READ_QUERIES = 8.0, 6.0, 8


def _hot_read_verdict(r: Result) -> Result:
    """The row's note says whether the hot read's target is met, each figure beside its
    target."""
    if r.status != "ok" or r.median_ms is None or r.cpu_median_ms is None:
        return r
    checks = [
        (f"median {r.median_ms} ≤ {HOT_READ_MEDIAN_MS:g}", r.median_ms <= HOT_READ_MEDIAN_MS),
        (f"CPU {r.cpu_median_ms} ≤ {HOT_READ_CPU_MS:g}", r.cpu_median_ms <= HOT_READ_CPU_MS),
        (
            f"{r.queries_max} q ≤ {HOT_READ_QUERIES}",
            r.queries_max is not None and r.queries_max <= HOT_READ_QUERIES,
        ),
    ]
    figures = ", ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in checks)
    verdict = f"target {'met' if all(ok for _, ok in checks) else 'NOT met'} ({figures})"
    r.note = f"{verdict}; {r.note}" if r.note else verdict
    return r


def _open_cases(user: Any) -> int:
    Case = apps.get_model("cases.Case")
    return Case.objects.filter(owner=user, status__in=["open", "waiting_on_customer"]).count()


def op_case_detail(env: Env) -> Result:
    client = env.api(env.hot)
    refs = [_ref(c) for c in env.case_ids] or ["CASE-000001"]

    def call(i: int) -> Any:
        return client.get(route(f"/api/v1/cases/{refs[i % len(refs)]}/"))

    r = measure(
        "case_detail",
        "case detail (API, timeline+hand-offs+promises)",
        call,
        n=env.n,
        warmup=env.warmup,
    )
    return _hot_read_verdict(r)


def op_case_list(env: Env) -> Result:
    client = env.api(env.hot)
    now = datetime.now(UTC)
    t = env.team_id
    queries = [
        f"team={t}&status=open&page_size=50",
        f"owner={env.hot.pk}&status=open&status=waiting_on_customer&page_size=50",
        f"team={t}&due_before={(now + timedelta(days=1)).isoformat()}&page_size=50",
        f"team={t}&channel=email&priority=high&page_size=50",
        f"created_after={(now - timedelta(days=30)).isoformat()}&page_size=50",
        f"team={t}&status=closed&page_size=50",
    ]
    paths = [route(f"/api/v1/cases/?{q.replace('+', '%2B')}") for q in queries]
    # the last mix reads the third page: its cursor from the first two pages' next links
    for _ in range(2):
        body = client.get(paths[-1]).json()
        if body.get("next"):
            paths[-1] = body["next"]

    def call(i: int) -> Any:
        return client.get(paths[i % len(paths)])

    return measure(
        "case_list", "case list (API, 6 filter mixes, 50/page)", call, n=env.n, warmup=env.warmup
    )


def op_customer_page(env: Env) -> Result:
    from cases.customers.links import make_customer_token

    Case = apps.get_model("cases.Case")
    gens = dict(
        Case.objects.filter(pk__in=env.customer_case_ids).values_list("id", "link_generation")
    )
    tokens = [make_customer_token(case_id=c, generation=g) for c, g in gens.items()]
    client = Client()

    def call(i: int) -> Any:
        return client.get(route(f"/c/{tokens[i % len(tokens)]}/"))

    return measure("customer_page", "customer page /c/<token>/", call, n=env.n, warmup=env.warmup)


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


# --- writes ---------------------------------------------------------------------------------


def _open_commitment_ids(case_id: int) -> list[int]:
    Commitment = _model("commitments.Commitment")
    if Commitment is None:
        return []
    return list(
        Commitment.objects.filter(case_id=case_id, status="open").values_list("id", flat=True)
    )


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def op_handoff_offer_accept(env: Env) -> Result:
    """Offer a case to a teammate and accept it as the teammate: two API calls."""
    User = get_user_model()
    Case = apps.get_model("cases.Case")
    cases = list(
        Case.objects.filter(pk__in=env.write_case_ids).values_list("id", "owner_id", "team_id")
    )
    if not cases:
        raise_result = Result("handoff_offer_accept", "offer + accept a hand-off")
        raise_result.status = "error"
        raise_result.note = "no open case to hand off"
        return raise_result
    owners = {cid: owner for cid, owner, _ in cases}
    teams = {cid: team for cid, _, team in cases}
    members: dict[int, list[int]] = {}
    Through = apps.get_model("cases.AgentProfile").teams.through
    for profile_user, team in Through.objects.filter(team_id__in=set(teams.values())).values_list(
        "agentprofile__user_id", "team_id"
    ):
        if profile_user != env.hot.pk:
            members.setdefault(team, []).append(profile_user)
    users = {
        u.pk: u for u in User.objects.filter(pk__in={m for ms in members.values() for m in ms})
    }

    def prepare(i: int) -> tuple:
        cid, _, _ = cases[i % len(cases)]
        owner = owners[cid]
        pool = [m for m in members.get(teams[cid], []) if m != owner]
        to = pool[i % len(pool)]
        return cid, owner, to, _open_commitment_ids(cid)

    def call(arg: tuple) -> Any:
        cid, owner, to, commitment_ids = arg
        offer = env.api(users[owner]).post(
            route(f"/api/v1/cases/{_ref(cid)}/handoffs/"),
            {
                "to_agent": to,
                "reason": "workload",
                **SUMMARY,
                "briefed_commitments": commitment_ids,
            },
            content_type="application/json",
        )
        if offer.status_code != 201:
            return offer
        handoff_id = offer.json()["id"]
        accept = env.api(users[to]).post(
            route(f"/api/v1/handoffs/{handoff_id}/accept/"), content_type="application/json"
        )
        if accept.status_code < 300:
            owners[cid] = to
        return accept

    for u in users.values():
        env.api(u)  # tokens before timing
    return measure(
        "handoff_offer_accept",
        "offer + accept a hand-off (2 API calls)",
        call,
        n=env.n_writes,
        warmup=env.warmup,
        prepare=prepare,
        unit="pairs/s",
    )


def op_commitment_create_keep(env: Env) -> Result:
    """Record a promise on a case and mark it kept: two API calls by the case's owner."""
    User = get_user_model()
    Case = apps.get_model("cases.Case")
    cases = list(Case.objects.filter(pk__in=env.write_case_ids).values_list("id", flat=True))

    def prepare(i: int) -> tuple:
        cid = cases[i % len(cases)]
        owner = User.objects.get(pk=Case.objects.values_list("owner_id", flat=True).get(pk=cid))
        env.api(owner)
        return cid, owner

    def call(arg: tuple) -> Any:
        cid, owner = arg
        client = env.api(owner)
        due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        made = client.post(
            route(f"/api/v1/cases/{_ref(cid)}/commitments/"),
            {
                "description": "Call the customer back with the courier's answer",
                "kind": "callback",
                "due_at": due,
            },
            content_type="application/json",
        )
        if made.status_code != 201:
            return made
        return client.post(
            route(f"/api/v1/commitments/{made.json()['id']}/keep/"),
            content_type="application/json",
        )

    if not cases:
        r = Result("commitment_create_keep", "create + keep a commitment")
        r.status, r.note = "error", "no open case"
        return r
    return measure(
        "commitment_create_keep",
        "create + keep a commitment (2 API calls)",
        call,
        n=env.n_writes,
        warmup=env.warmup,
        prepare=prepare,
        unit="pairs/s",
    )


# --- the outbox (measured by bench/outbox.py) -----------------------------------------------


def _outbox(name: str) -> Callable[..., Any]:
    try:
        from bench import outbox  # type: ignore[attr-defined]
    except ImportError:
        raise NotBuilt("bench/outbox.py is not there yet") from None
    fn = getattr(outbox, name, None)
    if fn is None:
        raise NotBuilt(f"bench.outbox.{name} is not there yet")
    return fn


def _call_with(fn: Callable[..., Any], **available: Any) -> Any:
    """Call ``fn`` with the keyword arguments it accepts among ``available``."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**available)
    return fn(**{k: v for k, v in available.items() if k in params})


def _from_outbox(key: str, label: str, value: Any, unit: str) -> Result:
    """Turn what bench/outbox.py returns (a Result, or a dict of figures) into a Result."""
    if isinstance(value, Result):
        value.key, value.label = key, value.label or label
        return value
    r = Result(key=key, label=label, unit=unit)
    if isinstance(value, dict):
        for name in (
            "n",
            "queries",
            "queries_max",
            "median_ms",
            "p95_ms",
            "p99_ms",
            "throughput",
            "errors",
            "note",
            "status",
            "unit",
        ):
            if name in value:
                setattr(r, name, value[name])
        r.extra = {k: v for k, v in value.items() if not hasattr(r, k)}
    else:
        r.note = repr(value)[:200]
    return r


def op_sweep_claim(env: Env, *, redis_url: str) -> Result:
    label = "sweep claims 1,000 due notifications"
    try:
        fn = _outbox("measure_sweep_claim")
        smoke = env.scale < 0.01
        value = _call_with(
            fn,
            scale=env.scale,
            rows=1000,
            repeats=env.n_writes,
            # the smoke run keeps the pending set small; real scales use the outbox's default
            **({"n_pending": 20_000} if smoke else {}),
        )
    except NotBuilt as exc:
        return Result("sweep_claim", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("sweep_claim", label, status="error", note=f"{type(exc).__name__}: {exc}")
    return _from_outbox("sweep_claim", label, value, "rows/s")


def _fresh_broker_connections() -> None:
    """Forget the broker connections the measured writes opened, so a broker the delivery
    measurement chooses is the one tasks are sent to."""
    try:
        from caseowner.celery import app
    except ImportError:
        return
    pool = getattr(app, "_pool", None)
    if pool is not None:
        pool.force_close_all()
        app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


# The workers as the README's runbook runs them: threads, so a worker's SMTP and database
# waits overlap, each thread with its own database and SMTP connection.
DELIVERY_POOL, DELIVERY_CONCURRENCY = "threads", 4
DELIVERY_TARGET = 600  # emails/s
LATENCY_RATE, LATENCY_TARGET_P99 = 300, 10.0  # notices due a second; seconds


def _met(ok: bool) -> str:
    return "target met" if ok else "target NOT met"


def op_delivery(env: Env, *, redis_url: str) -> Result:
    label = f"delivery: 2 Celery workers ({DELIVERY_POOL} ×{DELIVERY_CONCURRENCY}) → SMTP sink"
    try:
        fn = _outbox("measure_delivery")
        _fresh_broker_connections()
        # Celery prefers the CELERY_BROKER_URL variable to its configuration: while the
        # delivery measurement runs, the broker it configures must win.
        saved = os.environ.pop("CELERY_BROKER_URL", None)
        try:
            value = _call_with(
                fn,
                scale=env.scale,
                workers=2,
                pool=DELIVERY_POOL,
                concurrency=DELIVERY_CONCURRENCY,
                redis_url=redis_url,
                broker_url=redis_url,
                **({"n": 300} if env.scale < 0.01 else {}),
            )
        finally:
            if saved is not None:
                os.environ["CELERY_BROKER_URL"] = saved
            _fresh_broker_connections()
    except NotBuilt as exc:
        return Result("delivery", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("delivery", label, status="error", note=f"{type(exc).__name__}: {exc}")
    r = _from_outbox("delivery", label, value, "emails/s")
    if isinstance(value, dict) and value.get("throughput") is not None:
        r.note = (
            f"{value.get('duplicates', 0)} duplicates; "
            f"{_met(value['throughput'] >= DELIVERY_TARGET)}"
        )
    return r


def op_notice_latency(env: Env, *, redis_url: str) -> Result:
    seconds = env.latency_seconds
    label = f"notice latency: {LATENCY_RATE} due/s for {seconds:g} s, send_after → SMTP accept"
    try:
        fn = _outbox("measure_notice_latency")
        _fresh_broker_connections()
        saved = os.environ.pop("CELERY_BROKER_URL", None)
        try:
            value = _call_with(
                fn,
                rate=LATENCY_RATE,
                seconds=seconds,
                workers=2,
                pool=DELIVERY_POOL,
                concurrency=DELIVERY_CONCURRENCY,
                redis_url=redis_url,
                broker_url=redis_url,
            )
        finally:
            if saved is not None:
                os.environ["CELERY_BROKER_URL"] = saved
            _fresh_broker_connections()
    except NotBuilt as exc:
        return Result("notice_latency", label, status=NOT_BUILT, note=str(exc))
    except Exception as exc:
        return Result("notice_latency", label, status="error", note=f"{type(exc).__name__}: {exc}")
    r = _from_outbox("notice_latency", label, value, "s")
    if isinstance(value, dict) and value.get("p99_s") is not None:
        r.note = (
            f"median {value['median_s']} s, p95 {value['p95_s']} s, p99 {value['p99_s']} s, "
            f"{value['not_delivered']} not delivered; "
            + _met(value["p99_s"] <= LATENCY_TARGET_P99 and not value["not_delivered"])
        )
    return r


READS = [
    op_queue,
    op_case_detail,
    op_case_list,
    op_customer_page,
    op_handoff_audit_page,
    op_handoff_report,
    op_commitments_report,
    op_team_dashboard,
    op_team_summary_report,
    op_team_agents_report,
]
WRITES = [op_handoff_offer_accept, op_commitment_create_keep, op_contact_record, op_inbound_ingest]
READS += [op_metrics_scrape, op_figures_refresh]
READS += [op_search_name, op_search_phone, op_search_ref]
READS += [op_cover_for_page]
READS += [op_satisfaction_weekly]
READS += [op_queue_poll]
READS += [op_callback_slots]
WRITES += [op_cover_for]


def run_all(env: Env, *, redis_url: str, only: set[str] | None = None) -> list[Result]:
    results: list[Result] = []
    for op in [*READS, *WRITES]:
        key = op.__name__.removeprefix("op_")
        if only and key not in only:
            continue
        print(f"  measure: {key} …", flush=True)
        r = op(env)
        r.target = r.target or TARGETS.get(r.key, "")
        results.append(r)
        connection.close_if_unusable_or_obsolete()
    for op2 in (op_sweep_claim, op_delivery, op_notice_latency):
        key = op2.__name__.removeprefix("op_")
        if only and key not in only:
            continue
        print(f"  measure: {key} …", flush=True)
        r = op2(env, redis_url=redis_url)
        r.target = r.target or TARGETS.get(r.key, "")
        results.append(r)
    return results
