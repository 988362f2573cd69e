"""Exit non-zero when no Celery worker or no beat was seen lately: for a cron job, a
container health check or a monitoring probe."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseowner.ops.workers import WorkerSightings, worker_sightings


class Command(BaseCommand):
    help = "Fail (exit 1) when no worker or beat was seen within --max-silence seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-silence",
            type=float,
            default=None,
            help="seconds (default WORKER_MAX_SILENCE_SECONDS)",
        )
        parser.add_argument(
            "--ping-timeout",
            type=float,
            default=1.0,
            help="seconds to wait for live workers to answer a ping through the broker",
        )

    def handle(self, *args: object, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            self.stdout.write("No broker: the periodic jobs run inside the web process.")
            return
        limit = options["max_silence"] or settings.WORKER_MAX_SILENCE_SECONDS
        seen: WorkerSightings = worker_sightings(ping_timeout=options["ping_timeout"])
        now = time.time()
        problems = []
        if not seen.workers:
            problems.append("no worker ever seen")
        for name, at in sorted(seen.workers.items()):
            self.stdout.write(f"worker {name}: seen {now - at:.0f} s ago")
        if seen.workers and now - max(seen.workers.values()) > limit:
            problems.append(f"no worker seen for more than {limit:.0f} s")
        if seen.beat is None:
            problems.append("beat never seen")
        else:
            self.stdout.write(f"beat: seen {now - seen.beat:.0f} s ago")
            if now - seen.beat > limit:
                problems.append(f"beat not seen for more than {limit:.0f} s")
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        self.stdout.write("ok")
