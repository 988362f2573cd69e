"""Operations measured: a manager's "cover for" of the hot agent (300 open cases at scale ≥
0.01): the page with every case's draft, and the one submission offering them all
(``POST /api/v1/agents/{id}/cover-for/``). Each submission runs inside a transaction rolled
back afterwards, so every call offers the same cases and nothing is left for later
operations (no offers, no queued notices)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone

from bench.harness import NotBuilt, Result, measure

TARGET_PAGE = "≤8 q"
TARGET_SUBMIT = "≤5 q a case, ≤1 s"
# The submission's own words per case; shared words for what every case has in common.
SHARED = {
    "actions_taken": "The owner was taken ill this morning; the team lead is spreading the "
    "open cases so nothing waits for their return.",
    "customer_expectations": "Each customer expects the promises listed here to be kept by "
    "the new owner on the dates they were given.",
}


def _routed(path: str) -> str:
    try:
        resolve(path)
    except Resolver404:
        raise NotBuilt(f"{path} is not routed") from None
    return path


def _body(env: Any) -> tuple[dict[str, Any], int]:
    from cases.availability import cover_for as cover_services

    drafts = cover_services.cover_drafts(agent=env.hot)
    receivers = cover_services.cover_receivers(agent=env.hot, by=env.manager, at=timezone.now())
    if not receivers:
        raise NotBuilt("no agent present to receive the hot agent's cases")
    cases = [
        {
            "case": d.case.ref,
            "customer_needs": f"{d.case.customer.full_name} needs an answer on {d.case.ref}: "
            f"{d.case.subject}.",
            "next_step": f"Call {d.case.customer.full_name} about {d.case.ref} first thing "
            "tomorrow and confirm the plan in writing.",
            "customer_expectations": d.customer_expectations,
            "briefed_commitments": [p.id for p in d.promises],
        }
        for d in drafts
    ]
    body = {"receivers": [r.user_id for r in receivers[:5]], "shared": SHARED, "cases": cases}
    return body, len(cases)


def op_cover_for_page(env: Any) -> Result:
    path = _routed(f"/manage/agents/{env.hot.pk}/cover-for/")
    client = _page_client(env)
    n_cases = len(_body(env)[0]["cases"])

    def call(i: int) -> Any:
        return client.get(path)

    return measure(
        "cover_for_page",
        f'"cover for" page: {n_cases} open cases with drafts',
        call,
        n=max(3, env.n // 20),
        warmup=min(env.warmup, 2),
        target=TARGET_PAGE,
    )


def op_cover_for(env: Any) -> Result:
    path = _routed(f"/api/v1/agents/{env.hot.pk}/cover-for/")
    body, n_cases = _body(env)
    client = env.api(env.manager)

    def call(i: int) -> Any:
        with transaction.atomic():
            response = client.post(path, body, content_type="application/json")
            transaction.set_rollback(True)
        return response

    return measure(
        "cover_for",
        f'"cover for": offer {n_cases} cases in one submission (API, rolled back)',
        call,
        n=max(2, env.n // 100),
        warmup=1,
        query_samples=1,
        target=TARGET_SUBMIT,
        items_per_call=n_cases,
        unit="cases/s",
    )


def _page_client(env: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(env.manager)
    return client
