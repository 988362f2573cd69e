"""Periodic job of the operations area. Thin: it calls ``figures_refresh``."""

from __future__ import annotations

from celery import shared_task

from caseowner.ops.figures import figures_refresh


@shared_task(name="ops.refresh_figures", ignore_result=True)
def refresh_figures() -> None:
    """Periodic: store the per-team promise and hand-off figures the scrapes read."""
    figures_refresh()
