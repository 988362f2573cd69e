"""Operation measured: the slots a customer may book a callback in, read through their link
(``GET /api/v1/customer/{token}/callback-slots/``) for open cases of many owners. Target at
scale 1: at most 4 queries and p95 ≤ 50 ms; the note says whether both were met."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.test import Client
from django.urls import Resolver404, resolve

from bench.harness import NotBuilt, Result, measure

MAX_QUERIES = 4
MAX_P95_MS = 50.0
TARGET = f"≤{MAX_QUERIES} q, p95 ≤{MAX_P95_MS:.0f}"


def op_callback_slots(env: Any) -> Result:
    from cases.customers.links import make_customer_token

    Case = apps.get_model("cases.Case")
    gens = dict(
        Case.objects.filter(pk__in=env.customer_case_ids).values_list("id", "link_generation")
    )
    tokens = [make_customer_token(case_id=c, generation=g) for c, g in gens.items()]
    if not tokens:
        raise NotBuilt("no open case to read slots for")
    paths = [f"/api/v1/customer/{t}/callback-slots/" for t in tokens]
    try:
        resolve(paths[0])
    except Resolver404:
        raise NotBuilt("callback-slots is not routed") from None
    client = Client()

    def call(i: int) -> Any:
        return client.get(paths[i % len(paths)])

    r = measure(
        "callback_slots",
        "callback slots /api/v1/customer/<token>/callback-slots/",
        call,
        n=env.n,
        warmup=env.warmup,
        target=TARGET,
    )
    met = (
        r.queries_max is not None
        and r.queries_max <= MAX_QUERIES
        and r.p95_ms is not None
        and r.p95_ms <= MAX_P95_MS
    )
    r.note = f"target {'met' if met else 'NOT met'}: {r.queries_max} q, p95 {r.p95_ms} ms" + (
        f"; {r.note}" if r.note else ""
    )
    return r
