"""What the measured operations share: who and what they use, and the paths they ask for."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from bench.harness import NotBuilt


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
