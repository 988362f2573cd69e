"""The kernel's periodic job. Thin: it calls ``idempotency_keys_prune``."""

from __future__ import annotations

from celery import shared_task

from caseowner.idempotency import idempotency_keys_prune


@shared_task(name="caseowner.prune_idempotency_keys", ignore_result=True)
def prune_idempotency_keys() -> dict[str, int]:
    """Housekeeping: Idempotency-Key answers are kept 24 hours; older ones go in batches."""
    return {"pruned": idempotency_keys_prune()}
