"""Outbox figures for the benchmark: how fast the sweep claims due rows out of a large
pending set, and how many messages per second Celery workers deliver to an SMTP sink (the
notice-latency figure, on the same workers and sink, is in bench/outbox_latency.py).

All run on the database Django is configured with (PostgreSQL) and remove the rows they
add. ``python -m bench.outbox`` measures on a database of its own, created next to the one
``DATABASE_URL`` names and dropped afterwards.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "bench-outbox:"
COLUMNS = [
    "channel",
    "recipient_address",
    "recipient_name",
    "recipient_kind",
    "template",
    "context",
    "attachments",
    "dedupe_key",
    "tags",
    "send_after",
    "status",
    "attempts",
    "last_error",
    "provider_message_id",
]


def _copy_pending(n: int, *, due: int, start: int = 0, now: datetime | None = None) -> None:
    """COPY ``n`` pending notifications into the outbox; the first ``due`` are due now."""
    from django.db import connection

    now = now or datetime.now(UTC)
    context = '{"subject": "Bench", "body": "A message from the benchmark."}'
    with connection.cursor() as cursor:
        copy_sql = f"COPY notifications_notification ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            chunk = io.StringIO()
            for i in range(start, start + n):
                if i - start < due:
                    send_after = now - timedelta(seconds=(due - (i - start)))
                else:
                    send_after = now + timedelta(minutes=5 + i % (14 * 24 * 60))
                chunk.write(
                    f"email\tcustomer{i}@example.com\tCustomer {i}\tcustomer\t"
                    f"notifications/email/message\t{context}\t[]\t{PREFIX}{i}\t[]\t"
                    f"{send_after.isoformat()}\tpending\t0\t\t\n"
                )
                if chunk.tell() > 1 << 20:
                    copy.write(chunk.getvalue())
                    chunk = io.StringIO()
            copy.write(chunk.getvalue())


def _cleanup() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_notificationtag WHERE notification_id IN "
            "(SELECT id FROM notifications_notification WHERE dedupe_key LIKE %s)",
            [PREFIX + "%"],
        )
        cursor.execute(
            "DELETE FROM notifications_notification WHERE dedupe_key LIKE %s", [PREFIX + "%"]
        )
        cursor.execute(
            "DELETE FROM notifications_deliverylog WHERE dedupe_key LIKE %s", [PREFIX + "%"]
        )


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # VACUUM cannot run inside a transaction (the tests run these in one)
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        cursor.execute(f"{verb} notifications_notification")


def _require_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("the outbox benchmark runs on PostgreSQL only")


def measure_sweep_claim(
    *,
    n_pending: int | None = None,
    n_due: int = 1000,
    repeats: int = 7,
    rows: int | None = None,
    scale: float | None = None,
    keep: bool = False,
    **_: Any,
) -> dict:
    """Time one claim of ``n_due`` due rows among ``n_pending`` pending (one batch).

    Each run is rolled back, so every repeat claims the same due rows from the same table.
    Also measured: the same claim while another session holds a snapshot open (pinning the
    xmin horizon) after a round of claims has left dead rows behind.
    """
    from django.db import connection, transaction

    from notifications import services

    _require_postgres()
    n_due = rows or n_due
    if n_pending is None:
        # A million pending rows at full scale; a smaller run keeps at least 100,000.
        n_pending = 1_000_000 if scale is None else max(100_000, int(1_000_000 * min(scale, 1)))
    _cleanup()
    started = time.perf_counter()
    _copy_pending(n_pending, due=n_due)
    _analyze()
    load_s = time.perf_counter() - started

    dispatched: list[int] = []
    original = services._dispatch
    services._dispatch = lambda claims: dispatched.append(len(claims))  # type: ignore[assignment]
    try:

        def claim_ms() -> tuple[float, int]:
            with transaction.atomic():
                t0 = time.perf_counter()
                claims = services.outbox_claim_batch(batch_size=n_due)
                elapsed = (time.perf_counter() - t0) * 1000
                transaction.set_rollback(True)
            return elapsed, len(claims)

        claim_ms()  # warm the cache
        timings, claimed = [], 0
        for _ in range(repeats):
            ms, claimed = claim_ms()
            timings.append(ms)

        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN SELECT id, attempts FROM notifications_notification "
                "WHERE status = 'pending' AND send_after <= now() "
                "ORDER BY send_after, id LIMIT %s FOR UPDATE SKIP LOCKED",
                [n_due],
            )
            plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:3])

        pinned = _claim_with_pinned_horizon(claim_ms, repeats)
    finally:
        services._dispatch = original  # type: ignore[assignment]
        if not keep:
            _cleanup()
            # a million dead rows would otherwise be measured by whatever reads the outbox
            # next (the /metrics scrape counted through them: 12 ms became 100)
            _analyze()

    return {
        "n": repeats,
        "n_pending": n_pending,
        "n_due": n_due,
        "claimed": claimed,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(sorted(timings)[max(0, int(len(timings) * 0.95) - 1)], 2),
        "min_ms": round(min(timings), 2),
        "throughput": round(claimed / (statistics.median(timings) / 1000), 1),
        "unit": "rows/s",
        "pinned_horizon_median_ms": pinned,
        "load_s": round(load_s, 1),
        "plan": plan,
    }


def _claim_with_pinned_horizon(claim_ms: Any, repeats: int) -> float | None:
    """Claims while a second session keeps a snapshot open: dead rows cannot be cleaned."""
    import psycopg
    from django.db import connection

    sd = connection.settings_dict
    other = psycopg.connect(
        dbname=sd["NAME"],
        user=sd["USER"] or None,
        password=sd["PASSWORD"] or None,
        host=sd["HOST"] or None,
        port=sd["PORT"] or None,
    )
    try:
        other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        other.execute("SELECT count(*) FROM notifications_notification WHERE id < 10")
        # Committed claims and releases leave dead tuples the open snapshot keeps alive.
        from notifications import services

        for _ in range(3):
            claims = services.outbox_claim_batch()
            services.outbox_release(claims=claims)
        timings = [claim_ms()[0] for _ in range(repeats)]
        return round(statistics.median(timings), 2)
    finally:
        other.rollback()
        other.close()


def _database_url() -> str:
    from urllib.parse import quote

    from django.db import connection

    sd = connection.settings_dict
    auth = quote(sd["USER"] or "") + (":" + quote(sd["PASSWORD"]) if sd["PASSWORD"] else "")
    return f"postgres://{auth}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"


class _Workers:
    """Celery worker processes on a private Redis, delivering to a local SMTP sink that notes
    when it accepted each message; the sweep runs in this process, as beat would run it."""

    def __init__(
        self,
        *,
        workers: int,
        redis_url: str | None,
        broker_url: str | None,
        pool: str,
        concurrency: int,
    ) -> None:
        self.workers, self.pool, self.concurrency = workers, pool, concurrency
        self.broker_hint = broker_url or redis_url
        self.accepted: dict[str, float] = {}
        self.backlog = self.base = 0

    def __enter__(self) -> _Workers:
        from django.conf import settings

        from caseowner.celery import app

        sys.path.insert(0, str(ROOT))
        from tests.integration.celery_worker import Proc, worker_args
        from tests.integration.smtp_sink import SmtpSink

        _require_postgres()
        broker = self.broker_hint or settings.CELERY_BROKER_URL
        self.private = None
        if shutil.which("redis-server"):
            # Our own broker: a worker of anyone else's on a shared Redis cannot take our tasks.
            from tests.integration.celery_worker import RedisServer
            from tests.integration.smtp_sink import free_port

            self.private = RedisServer(free_port()).start()
            broker = self.private.url
        if not broker.startswith("redis://"):
            raise RuntimeError("the delivery bench needs Redis: pass redis_url or set it up")
        app.conf.broker_url = broker
        app.conf.task_always_eager = False
        # Connections already pooled for another broker must not be reused.
        app._pool = None
        app.amqp._producer_pool = None
        settings.OUTBOX_MAX_IN_FLIGHT = 1000
        settings.OUTBOX_BATCH_SIZE = 500
        settings.OUTBOX_LEASE_SECONDS = 120

        import redis

        redis.Redis.from_url(broker).delete("celery", "unacked", "unacked_index")
        accepted = self.accepted

        class TimedSink(SmtpSink):
            def record(self, received: Any) -> None:
                accepted.setdefault(received.message_id, time.time())
                super().record(received)

        self.sink = TimedSink(parse=False).start()
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "EMAIL_URL": self.sink.url,
            "OUTBOX_LEASE_SECONDS": "120",
            "OUTBOX_IN_PROCESS": "false",
            "LOG_LEVEL": "WARNING",
        }
        logs = Path(os.environ.get("TMPDIR", "/tmp"))
        self.procs = [
            Proc(
                worker_args(concurrency=self.concurrency, pool=self.pool, name=f"bench{i}"),
                env,
                logs / f"bench-outbox-worker{i}.log",
            ).start()
            for i in range(self.workers)
        ]
        _cleanup()
        # Warm up: every worker has connected and sent something before the clock starts.
        _copy_pending(20 * self.workers, due=20 * self.workers, start=10_000_000)
        _sweep_until(lambda: self.sink.count() >= 20 * self.workers, timeout=120)
        # What was already due (the generated outbox holds notices due in the last hour) goes
        # before the clock starts, as beat would have sent it: the figures are of the work
        # measured, not of a backlog left by the data's generation.
        self.backlog = _drain_due()
        self.base = self.sink.count()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
        self.sink.stop()
        if self.private is not None:
            self.private.stop()
        _cleanup()
        _analyze()


def measure_delivery(
    *,
    n: int = 3000,
    workers: int = 2,
    redis_url: str | None = None,
    broker_url: str | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    timeout: float = 300.0,
    **_: Any,
) -> dict:
    """Messages per second delivered by ``workers`` Celery worker processes to a local SMTP
    sink, rows claimed by the sweep running in this process (as beat would run it)."""
    from django.conf import settings

    from notifications.models import Notification

    with _Workers(
        workers=workers,
        redis_url=redis_url,
        broker_url=broker_url,
        pool=pool,
        concurrency=concurrency,
    ) as run:
        base = run.sink.count()
        _copy_pending(n, due=n)
        t0 = time.perf_counter()
        _sweep_until(lambda: run.sink.count() - base >= n, timeout=timeout)
        elapsed = time.perf_counter() - t0
        sent = Notification.objects.filter(dedupe_key__startswith=PREFIX, status="sent").count()
        duplicates = sum(run.sink.duplicates().values())
    return {
        "n": n,
        "workers": workers,
        "pool": pool,
        "concurrency": concurrency,
        "delivery_batch": settings.OUTBOX_DELIVERY_BATCH,
        "seconds": round(elapsed, 2),
        "throughput": round(n / elapsed, 1),
        "backlog_drained": run.backlog,
        "unit": "emails/s",
        "marked_sent": sent,
        "duplicates": duplicates,
    }


def _drain_due(timeout: float = 600) -> int:
    """Sweep until no notice is due or being sent; how many there were."""
    from django.db.models import Q
    from django.utils import timezone

    from notifications.models import Notification, NotificationStatus

    def waiting() -> int:
        due = Q(status=NotificationStatus.PENDING, send_after__lte=timezone.now())
        return Notification.objects.filter(due | Q(status=NotificationStatus.SENDING)).count()

    found = waiting()
    _sweep_until(lambda: not waiting(), timeout=timeout, interval=0.5)
    return found


def _sweep_until(done: Any, timeout: float, interval: float = 0.1) -> None:
    from notifications.services import outbox_sweep

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not delivered within {timeout} s")
        outbox_sweep()
        time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    """Measure on a database of our own, next to DATABASE_URL's, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    from bench.outbox_latency import measure_notice_latency

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="caseowner_bench_outbox")
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--deliver", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", default="solo", help="solo, prefork or threads")
    parser.add_argument("--concurrency", type=int, default=1, help="per worker process")
    parser.add_argument("--skip-claim", action="store_true", help="delivery only")
    parser.add_argument(
        "--latency-seconds", type=float, default=0, help="notice latency run length (0: none)"
    )
    parser.add_argument("--latency-rate", type=int, default=100, help="notices due a second")
    parser.add_argument("--redis-url", default="", help="broker when redis-server is not installed")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    import psycopg

    source = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/caseowner")
    parts = urlsplit(source)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + args.database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseowner.settings")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        if not args.skip_claim:
            claim = measure_sweep_claim(n_pending=args.pending, n_due=args.due)
            print("sweep claim:", claim, flush=True)
        if args.deliver:
            redis_url = args.redis_url or None
            print(
                "delivery:",
                measure_delivery(
                    n=args.deliver,
                    redis_url=redis_url,
                    workers=args.workers,
                    pool=args.pool,
                    concurrency=args.concurrency,
                ),
                flush=True,
            )
        if args.latency_seconds:
            print(
                "notice latency:",
                measure_notice_latency(
                    rate=args.latency_rate,
                    seconds=args.latency_seconds,
                    redis_url=args.redis_url or None,
                    workers=args.workers,
                    pool=args.pool,
                    concurrency=args.concurrency,
                ),
                flush=True,
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
