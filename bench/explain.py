"""EXPLAIN (ANALYZE, BUFFERS) of the slowest statements the measured reads ran."""

from __future__ import annotations

import re

from django.db import connection

from bench.harness import Result


def _shape(sql: str) -> str:
    """The statement with its literals taken out, so one query is not listed twice."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def slowest_statements(results: list[Result], k: int = 3) -> list[dict]:
    if k <= 0:
        return []
    seen: set[str] = set()
    found: list[dict] = []
    for r in results:
        for q in r.extra.get("slowest_sql", []):
            found.append({**q, "operation": r.key})
    found.sort(key=lambda q: -q["ms"])
    out = []
    for q in found:
        sql = q["sql"]
        shape = _shape(sql)
        # a read: a SELECT, or a UNION of them ("(SELECT …) UNION ALL (SELECT …)")
        read = sql.lstrip().upper().startswith(("SELECT", "(SELECT"))
        if shape in seen or not read or "FOR UPDATE" in sql:
            continue
        seen.add(shape)
        out.append(q)
        if len(out) == k:
            break
    return out


def explain(statements: list[dict]) -> list[dict]:
    """Run each statement once more under EXPLAIN (ANALYZE, BUFFERS) and keep the plan."""
    plans = []
    for q in statements:
        try:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan = "\n".join(row[0] for row in cur.fetchall())
        except Exception as exc:  # a plan that cannot be taken is reported
            plan = f"(no plan: {type(exc).__name__}: {exc})"
        plans.append({**q, "plan": plan})
    return plans


def render(plans: list[dict]) -> str:
    out = ["slowest statements (EXPLAIN ANALYZE, BUFFERS):"]
    for i, p in enumerate(plans, 1):
        out.append(f"[{i}] {p['operation']}: {p['ms']:.2f} ms when measured")
        out.append("    " + p["sql"][:2000])
        out += ["    " + line for line in p["plan"].splitlines()]
    return "\n".join(out)
