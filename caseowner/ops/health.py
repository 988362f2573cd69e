"""Readiness: can this web process do its work? Each check answers (ok, detail).

The database answers, the broker answers (when there is one), every migration is applied,
and the outbox's health rule (``notifications.selectors.outbox_health``: delivery lag under
``READY_MAX_OUTBOX_LAG_SECONDS``, no lost lease left unreclaimed) holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from notifications.selectors import outbox_health

_migrations_applied = False


@dataclass
class Readiness:
    checks: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check["ok"]]

    @property
    def ready(self) -> bool:
        return not self.failing


def check_database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    if not url:
        return True, "no broker: periodic jobs run in this process"
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            client.ping()
        finally:
            client.close()
        return True, "redis answers"
    from kombu import Connection

    with Connection(url, connect_timeout=1.0) as conn:
        conn.ensure_connection(max_retries=1)
    return True, "broker answers"


def check_migrations() -> tuple[bool, str]:
    """Applied migrations stay applied: once true, a process stops asking."""
    global _migrations_applied
    if _migrations_applied:
        return True, "all applied"
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return False, f"{len(plan)} not applied: {names}"
    _migrations_applied = True
    return True, "all applied"


def check_outbox() -> tuple[bool, str]:
    health = outbox_health(stale_after=settings.READY_MAX_OUTBOX_LAG_SECONDS)
    if health.healthy:
        return True, f"lag {health.lag_seconds:.1f} s"
    return False, "; ".join(health.problems)


CHECKS: dict[str, Callable[[], tuple[bool, str]]] = {
    "database": check_database,
    "broker": check_broker,
    "migrations": check_migrations,
    "outbox": check_outbox,
}


def readiness() -> Readiness:
    """Every check, in order; a check that raises fails with the error as its detail. The
    checks after a failed database are skipped (they need it)."""
    result = Readiness()
    for name, check in CHECKS.items():
        if name in ("migrations", "outbox") and "database" in result.failing:
            result.checks[name] = {"ok": False, "detail": "skipped: database down"}
            continue
        try:
            ok, detail = check()
        except Exception as exc:  # a failed check is an answer, not a crash
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        result.checks[name] = {"ok": ok, "detail": detail}
    return result
