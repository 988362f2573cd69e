"""Celery tasks: thin wrappers over the outbox services. Tasks take ids, never instances."""

from __future__ import annotations

from celery import shared_task

from notifications.services import notification_deliver, outbox_sweep


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict:
    result = outbox_sweep()
    return result.__dict__


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver_notification(notification_id: int, attempt: int) -> str:
    return notification_deliver(notification_id=notification_id, attempt=attempt)
