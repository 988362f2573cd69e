"""Operations measured: the staff search (``GET /api/v1/search/?q=``) for a misspelt name, a
phone number typed nationally, and a case reference, as the hot agent."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from bench.harness import Result, measure

TARGET = "≤4 q, p95 ≤50"


def _customers(env: Any, k: int) -> list[Any]:
    Customer = apps.get_model("cases.Customer")
    count = Customer.objects.count()
    step = max(count // k, 1)
    ids = [1 + i * step for i in range(k)]
    return list(Customer.objects.filter(pk__in=ids).only("pk", "full_name", "phone"))


def _misspelt(name: str) -> str:
    """The generator's "First Last 123" with the 2nd and 3rd letters of the surname swapped
    ("Alex Nugyen"), the number left out: every "Alex Nguyen N" answers it."""
    first, last = name.split()[:2]
    if len(last) > 3:
        last = last[0] + last[2] + last[1] + last[3:]
    return f"{first} {last}"


def _national(e164: str) -> str:
    from cases.customers.phones import national

    return national(e164)


def _op(env: Any, key: str, label: str, queries: list[str]) -> Result:
    client = env.api(env.hot)

    def call(i: int) -> Any:
        return client.get("/api/v1/search/", {"q": queries[i % len(queries)]})

    return measure(key, label, call, n=env.n, warmup=env.warmup, target=TARGET, ok=_found)


def _found(response: Any) -> bool:
    """A search that answers 200 but finds nothing counts as an error: the figures must be
    those of a search that found the customer or case."""
    return response.status_code == 200 and response.json().get("best") is not None


def op_search_name(env: Any) -> Result:
    names = [_misspelt(c.full_name) for c in _customers(env, 50)]
    return _op(env, "search_name", "search: misspelt name (API)", names)


def op_search_phone(env: Any) -> Result:
    phones = [_national(c.phone) for c in _customers(env, 50) if c.phone]
    return _op(env, "search_phone", "search: phone, national format (API)", phones)


def op_search_ref(env: Any) -> Result:
    from cases.models import format_ref

    refs = [format_ref(pk) for pk in env.case_ids[:50]] or ["CASE-000001"]
    return _op(env, "search_ref", "search: case reference (API)", refs)
