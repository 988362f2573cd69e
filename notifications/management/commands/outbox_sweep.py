"""Run the outbox sweep once, or in a loop (a sweeper without Celery beat)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from notifications.services import outbox_sweep


class Command(BaseCommand):
    help = "Claim due notifications and hand them to the workers (once, or --loop)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="sweep every interval")
        parser.add_argument("--interval", type=float, default=settings.OUTBOX_SWEEP_INTERVAL)

    def handle(self, *args: object, **options: Any) -> None:
        while True:
            result = outbox_sweep()
            if options["verbosity"] > 1 or not options["loop"]:
                self.stdout.write(str(result))
            if not options["loop"]:
                return
            close_old_connections()
            time.sleep(float(options["interval"]))
