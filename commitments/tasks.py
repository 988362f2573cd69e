"""Celery tasks: thin wrappers over services (ids in, never model instances)."""

from __future__ import annotations

from celery import shared_task

from commitments.sweep import commitments_sweep_due


@shared_task(name="commitments.sweep_due")
def sweep_due() -> int:
    """Periodic: mark due open promises missed (apology, manager alert); safe to overlap."""
    return commitments_sweep_due()
