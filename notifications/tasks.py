"""Celery tasks: thin wrappers over the outbox services. Tasks take ids, never instances."""

from __future__ import annotations

from celery import shared_task

from notifications.services import (
    Claim,
    notification_deliver,
    notification_deliver_batch,
    outbox_sweep,
)


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict:
    result = outbox_sweep()
    return result.__dict__


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver_notification(notification_id: int, attempt: int) -> str:
    return notification_deliver(notification_id=notification_id, attempt=attempt)


@shared_task(name="notifications.deliver_batch", ignore_result=True)
def deliver_batch(claims: list[list[int]]) -> dict[int, str]:
    """``claims`` is ``[[notification_id, attempt], …]``, sent over one connection."""
    return notification_deliver_batch(
        claims=[Claim(notification_id=pk, attempt=attempt) for pk, attempt in claims]
    )
