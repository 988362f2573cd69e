"""The reliability suite: races, crashes, a state machine over the services, erasure and
backups. Every part adds its figures to one session-wide collector, written at the end to
``var/reliability/summary.json`` and printed, so CI keeps a record of what was tried and
what broke (``violations``, ``lost``, ``duplicates_without_same_message_id``,
``server_errors`` must all be 0)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

# The real processes and services of the integration tests, reused here.
from tests.integration.conftest import outbox_processes, smtp_sink  # noqa: F401

SUMMARY = Path(__file__).resolve().parents[2] / "var" / "reliability" / "summary.json"
# Figures every part reports (0 when it had nothing to count); the acceptance keys.
MUST_BE_ZERO = ("violations", "lost", "duplicates_without_same_message_id", "server_errors")


class Figures:
    """Figures per test, summed into totals when the session ends."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, Any]] = {}

    def record(self, part: str, **figures: Any) -> None:
        entry = self.parts.setdefault(part, {key: 0 for key in MUST_BE_ZERO})
        entry.update(figures)
        print(f"\n[reliability] {part}: " + ", ".join(f"{k}={v}" for k, v in entry.items()))

    def summary(self) -> dict[str, Any]:
        totals = {key: sum(int(p.get(key, 0)) for p in self.parts.values()) for key in MUST_BE_ZERO}
        return {
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "totals": totals,
            "parts": self.parts,
        }


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures():
    """The session's collector; the file is written once the last test has reported (a run
    of part of the suite writes that part's figures only)."""
    yield _FIGURES
    if not _FIGURES.parts:
        return
    data = _FIGURES.summary()
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"\n[reliability] totals: {data['totals']} → {SUMMARY}")
