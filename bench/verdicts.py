"""Met or not met beside every row whose target is written in the table's terms.

A target is read from the row's target text: ``≤N q`` (statements a call: the most any sampled
read made; for a write, the statements of its middle sampled call, the range shown beside it),
``≤N q a case`` (a call's statements per case it acts on), ``p95 ≤N``, ``med ≤N`` and
``CPU ≤N`` (milliseconds), ``≤N ms / …`` (the median) and ``≤N s`` (the median, seconds).
A row that already says whether its target is met (the hot reads, delivery, the HTTP rows)
is left as it is; a target in other words (``≪ 30 s interval``) gets no verdict.
"""

from __future__ import annotations

import re
import statistics

from bench.harness import Result

# writes: their first call in a process reads what the process then keeps (tokens, the team's
# calendar and webhook endpoints), so the middle call, not the largest, is the figure
WRITES_BY_MIDDLE_CALL = {"handoff_offer_accept", "commitment_create_keep"}

_TERM = re.compile(
    r"(?P<what>p95|med|CPU)?\s*≤\s*(?P<limit>[\d.,]+)\s*(?P<unit>q a case|q|ms|s)?(?=$|[,\s/])"
)


def add_verdict(r: Result) -> Result:
    if r.status != "ok" or not r.target or " met" in f" {r.note}" or "NOT met" in r.note:
        return r
    terms = re.split(r",\s+", r.target)
    checks = [c for term in terms if (c := _check(r, term.strip())) is not None]
    if not checks:
        return r
    figures = ", ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in checks)
    verdict = f"target {'met' if all(ok for _, ok in checks) else 'NOT met'} ({figures})"
    r.note = f"{verdict}; {r.note}" if r.note else verdict
    return r


def _check(r: Result, term: str) -> tuple[str, bool] | None:
    m = _TERM.match(term)
    if m is None:
        return None
    limit = float(m["limit"].replace(",", ""))
    what, unit = m["what"], m["unit"]
    if unit == "q a case":
        cases = r.extra.get("items_per_call") or 0
        if r.queries_max is None or not cases:
            return None
        per_case = round(r.queries_max / cases, 2)
        return f"{per_case} q a case ≤ {limit:g}", per_case <= limit
    if unit == "q":
        figure = _statements(r)
        if figure is None:
            return None
        return f"{figure} q ≤ {limit:g}", figure <= limit
    value = {"p95": r.p95_ms, "CPU": r.cpu_median_ms}.get(what or "", r.median_ms)
    if value is None:
        return None
    if unit == "s":
        return f"median {value / 1000:.3g} s ≤ {limit:g}", value <= limit * 1000
    name = {"p95": "p95", "CPU": "CPU"}.get(what or "", "median")
    return f"{name} {value:g} ≤ {limit:g}", value <= limit


def _statements(r: Result) -> float | None:
    counts = r.extra.get("statement_counts")
    if r.key in WRITES_BY_MIDDLE_CALL and counts:
        calls = [int(n) for n, times in counts.items() for _ in range(times)]
        return statistics.median_low(calls)
    return r.queries_max
