"""The data generator: a contact centre with years of history, written with COPY.

At scale 1: 20 teams, 500 agents, 200,000 customers, 1,000,000 cases (80 % closed) with their
timelines, 300,000 hand-offs, 2,000,000 commitments (10 % open) and 2,000,000 notifications
(1 % pending). Every count scales linearly (at least one of each); one "hot" agent owns 300
open cases (fewer below scale 0.01). Rows are written in generation order with explicit
primary keys, so references need no lookups; sequences are moved past them afterwards.

Each part is recorded in the marker table when it is complete, so a later run at the same
scale reuses it, and a part whose model appears later (an app still being built) is added
on the next run.

The parts live in bench/generate_cases.py (the base) and bench/generate_history.py (the
rest); counts and the COPY writer in bench/generate_rows.py.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.db import connection, transaction

from bench.db import marker_get, marker_set
from bench.generate_cases import generate_base
from bench.generate_history import (
    generate_commitments,
    generate_contacts,
    generate_notifications,
    generate_satisfaction,
)
from bench.generate_rows import SEED, Counts, _fast_session, _log, _model, _normal_session

__all__ = ["PARTS", "Counts", "ensure_data", "table_counts"]


# Parts in order: (marker key, model that must exist, generator).
PARTS: list[tuple[str, str, Callable[[Counts, datetime, random.Random], None]]] = [
    ("base", "cases.Case", generate_base),
    ("notifications", "notifications.Notification", generate_notifications),
    ("commitments", "commitments.Commitment", generate_commitments),
    ("contacts", "cases.Contact", generate_contacts),
    ("satisfaction", "cases.SatisfactionAnswer", generate_satisfaction),
]


def _truncate_all() -> None:
    """Empty every app table (only ever called on a marked benchmark database)."""
    tables = [
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ("cases", "commitments", "notifications", "auth", "authtoken")
        and not m._meta.proxy
        and m._meta.managed
    ]
    tables = [t for t in tables if t not in ("auth_permission", "auth_group")]
    if tables:
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )


def ensure_data(scale: float, *, skip: bool = False) -> dict[str, Any]:
    """Generate whatever is missing at this scale; return what the database holds."""
    counts = Counts.for_scale(scale)
    timings: dict[str, float] = {}
    with connection.cursor() as cur:
        stored_scale = marker_get(cur, "scale")
    if stored_scale is not None and float(stored_scale) != scale:
        raise RuntimeError(
            f"the benchmark database holds scale {stored_scale}, not {scale}; run with --regenerate"
        )
    with connection.cursor() as cur:
        done = {key for key, _, _ in PARTS if marker_get(cur, f"part:{key}") == "done"}
    missing = [p for p in PARTS if p[0] not in done and _model(p[1]) is not None]
    if missing and skip:
        _log(
            "--skip-generate: not generating "
            + ", ".join(p[0] for p in missing)
            + " (measurements that need them may fail)"
        )
        missing = []
    if missing:
        with connection.cursor() as cur:
            generated_at = marker_get(cur, "generated_at")
        now = datetime.fromisoformat(generated_at) if generated_at else datetime.now(UTC)
        _fast_session()
        # millions of small tuples: the cyclic collector would rescan them again and again
        gc.disable()
        try:
            for key, _label, gen in missing:
                t0 = time.monotonic()
                _log(f"{key} at scale {scale:g} …")
                with transaction.atomic():
                    if key == "base":
                        _truncate_all()
                        with connection.cursor() as cur:
                            marker_set(cur, "scale", f"{scale:g}")
                            marker_set(cur, "generated_at", now.isoformat())
                    gen(counts, now, random.Random(f"{SEED}:{key}"))
                    with connection.cursor() as cur:
                        marker_set(cur, f"part:{key}", "done")
                timings[key] = round(time.monotonic() - t0, 1)
                _log(f"{key} done in {timings[key]:.1f}s")
        finally:
            gc.enable()
            _normal_session()
        t0 = time.monotonic()
        with connection.cursor() as cur:
            # VACUUM as well: a production database has been through autovacuum, so its
            # visibility map lets counts read indexes alone; rows fresh from COPY have none.
            # (Inside a transaction, as in the tests, only ANALYZE can run.)
            cur.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        timings["analyze"] = round(time.monotonic() - t0, 1)
        _log(f"VACUUM (ANALYZE) in {timings['analyze']:.1f}s")
    return {"counts": table_counts(), "generate_seconds": timings}


def table_counts() -> dict[str, int]:
    """Exact row counts (a second or so at scale 1; statistics can be stale)."""
    labels = {
        "teams": "cases.Team",
        "agents": "cases.AgentProfile",
        "customers": "cases.Customer",
        "cases": "cases.Case",
        "case_events": "cases.CaseEvent",
        "handoffs": "cases.Handoff",
        "contacts": "cases.Contact",
        "commitments": "commitments.Commitment",
        "notifications": "notifications.Notification",
        "delivery_log": "notifications.DeliveryLog",
    }
    out: dict[str, int] = {}
    with connection.cursor() as cur:
        for key, label in labels.items():
            model = _model(label)
            if model is None:
                continue
            cur.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
            out[key] = int(cur.fetchone()[0])
    return out
