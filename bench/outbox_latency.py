"""The notice-latency figure: notices falling due at a steady rate, timed from each one's
``send_after`` to the SMTP sink's acceptance (workers and sink from bench/outbox.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.outbox import COLUMNS, PREFIX, _Workers


def measure_notice_latency(
    *,
    rate: int = 100,
    seconds: float = 300.0,
    workers: int = 2,
    redis_url: str | None = None,
    broker_url: str | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    sweep_interval: float | None = None,
    **_: Any,
) -> dict:
    """Notices falling due at ``rate`` a second for ``seconds``: the time from each one's
    ``send_after`` to the SMTP server's acceptance, with the sweep every
    ``OUTBOX_SWEEP_INTERVAL`` seconds (as beat runs it) and two workers delivering."""
    from django.conf import settings

    from notifications.models import Notification

    interval = settings.OUTBOX_SWEEP_INTERVAL if sweep_interval is None else sweep_interval
    total = int(rate * seconds)
    with _Workers(
        workers=workers,
        redis_url=redis_url,
        broker_url=broker_url,
        pool=pool,
        concurrency=concurrency,
    ) as run:
        lead = 3.0  # the first notice falls due this long after the rows are written
        start = datetime.now(UTC) + timedelta(seconds=lead)
        _copy_due_over_time(total, rate=rate, start=start)
        deadline = time.monotonic() + lead + seconds + 120
        while run.sink.count() - run.base < total:
            if time.monotonic() > deadline:
                break
            from notifications.services import outbox_sweep

            outbox_sweep()
            time.sleep(interval)
        due = dict(
            Notification.objects.filter(
                dedupe_key__startswith=PREFIX, dedupe_key__lt=f"{PREFIX}1"
            ).values_list("id", "send_after")
        )
        from notifications.models import notification_message_id

        latencies = sorted(
            run.accepted[notification_message_id(pk)] - send_after.timestamp()
            for pk, send_after in due.items()
            if notification_message_id(pk) in run.accepted
        )
        lost = len(due) - len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * q))], 2)

    return {
        "n": total,
        "rate_per_s": rate,
        "seconds": seconds,
        "sweep_interval_s": interval,
        "workers": workers,
        "backlog_drained": run.backlog,
        "delivered": len(latencies),
        "not_delivered": lost,
        "median_s": pct(0.5) if latencies else None,
        "p95_s": pct(0.95) if latencies else None,
        "p99_s": pct(0.99) if latencies else None,
        "max_s": round(latencies[-1], 2) if latencies else None,
        "unit": "s",
    }


def _copy_due_over_time(n: int, *, rate: int, start: datetime) -> None:
    """COPY ``n`` pending notices falling due ``rate`` a second from ``start`` (keys
    ``PREFIX`` + a zero-padded number, below the warm-up's)."""
    from django.db import connection

    context = '{"subject": "Bench", "body": "A notice from the benchmark."}'
    with connection.cursor() as cursor:
        copy_sql = f"COPY notifications_notification ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for i in range(n):
                send_after = start + timedelta(seconds=i / rate)
                copy.write(
                    f"email\tcustomer{i}@example.com\tCustomer {i}\tcustomer\t"
                    f"notifications/email/message\t{context}\t[]\t{PREFIX}0{i:09d}\t[]\t"
                    f"{send_after.isoformat()}\tpending\t0\t\t\n"
                )
