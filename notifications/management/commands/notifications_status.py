"""Print the outbox's health: counts by status, how late the oldest due message is, failures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from notifications.selectors import outbox_status


class Command(BaseCommand):
    help = "Counts by status, oldest due pending age, expired leases and recent failures."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--json", action="store_true", help="print JSON (as the endpoint)")
        parser.add_argument("--failures", type=int, default=10, help="failures to list")

    def handle(self, *args: object, **options: Any) -> None:
        status = outbox_status(failures=int(options["failures"]))
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        counts = status["counts"]
        self.stdout.write("Outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.stdout.write(f"Oldest due pending: {status['oldest_due_pending_seconds']:.1f} s late")
        self.stdout.write(
            f"Expired leases (worker lost, not yet reclaimed): {status['expired_leases']}"
        )
        failures = status["recent_failures"]
        self.stdout.write(f"Recent failures: {len(failures)}")
        for failure in failures:
            self.stdout.write(
                f"  #{failure['id']} {failure['channel']} to {failure['recipient']} "
                f"({failure['template']}, {failure['attempts']} attempts): {failure['error']}"
            )
