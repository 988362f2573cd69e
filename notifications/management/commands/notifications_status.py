"""Print the outbox's health: counts by status, how late the oldest due message is, expired
leases, the health rule's verdict (``outbox_health``) and recent failures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from notifications.selectors import DEFAULT_STALE_AFTER, outbox_status


class Command(BaseCommand):
    help = "Counts by status, oldest due pending age, expired leases and recent failures."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON (as the endpoint)")
        parser.add_argument("--failures", type=int, default=10, help="failures to list")
        parser.add_argument(
            "--stale-after",
            type=float,
            default=DEFAULT_STALE_AFTER,
            help="seconds the oldest due message may be late before the outbox is unhealthy",
        )

    def handle(self, *args: object, **options: Any) -> None:
        status = outbox_status(
            failures=int(options["failures"]), stale_after=float(options["stale_after"])
        )
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        counts = status["counts"]
        self.stdout.write("Outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.stdout.write(f"Oldest due pending: {status['oldest_due_pending_seconds']:.1f} s late")
        self.stdout.write(
            f"Expired leases (worker lost, not yet reclaimed): {status['expired_leases']}"
        )
        problems = status["problems"]
        self.stdout.write("Health: " + ("ok" if status["healthy"] else "; ".join(problems)))
        failures = status["recent_failures"]
        self.stdout.write(f"Recent failures: {len(failures)}")
        for failure in failures:
            self.stdout.write(
                f"  #{failure['id']} {failure['channel']} to {failure['recipient']} "
                f"({failure['template']}, {failure['attempts']} attempts): {failure['error']}"
            )
