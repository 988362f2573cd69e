"""The reliability suite: races, crashes, a state machine over the services, erasure and
backups. Every part adds its figures to one session-wide collector, written at the end to
``var/reliability/summary.json`` and printed, so CI keeps a record of what was tried and
what broke (``violations``, ``lost``, ``duplicates_without_same_message_id``,
``server_errors`` must all be 0)."""

from __future__ import annotations

import fcntl
import json
import os
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


def summary(parts: dict[str, dict[str, Any]], run: str) -> dict[str, Any]:
    totals = {key: sum(int(p.get(key, 0)) for p in parts.values()) for key in MUST_BE_ZERO}
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run": run,
        "totals": totals,
        "parts": parts,
    }


def write_summary(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Writes the figures to ``SUMMARY``. Within one run of ``make test`` (``RELIABILITY_RUN``
    names it) every process adds its parts to the file, so the parallel pass's workers and
    the serial pass make one summary; otherwise a session's figures replace the file's."""
    run = os.environ.get("RELIABILITY_RUN", "")
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    with open(SUMMARY.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged: dict[str, dict[str, Any]] = {}
        if run and SUMMARY.exists():
            before = json.loads(SUMMARY.read_text())
            if before.get("run") == run:
                merged.update(before.get("parts", {}))
        merged.update(parts)
        data = summary(merged, run)
        SUMMARY.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return data


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures():
    """The session's collector; the file is written once the last test has reported (a run
    of part of the suite writes that part's figures only)."""
    yield _FIGURES
    if not _FIGURES.parts:
        return
    data = write_summary(_FIGURES.parts)
    print(f"\n[reliability] totals: {data['totals']} → {SUMMARY}")
