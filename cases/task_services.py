"""The owner's tasks: done when the call is made. Marking one done records the contact that
did it (``cases.conversations.services.contact_record``) and closes the task, in one transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from caseowner.parsing import parse_text
from caseowner.types import User
from cases.conversations.services import NewContact, contact_record
from cases.errors import CaseRuleError
from cases.events import case_event_webhooks
from cases.models import (
    CONTACT_SUMMARY_MAX,
    Case,
    CaseEvent,
    Channel,
    ContactDirection,
    EventKind,
    OwnerTask,
)
from cases.permissions import visible_cases


def owner_tasks_open(*, user: User) -> QuerySet[OwnerTask]:
    """The open tasks of the cases a user owns now, oldest first (a hand-off carries them)."""
    return (
        OwnerTask.objects.filter(case__owner=user, done_at__isnull=True)
        .select_related("case", "case__customer")
        .order_by("created_at", "pk")
    )


def case_owner_tasks(*, case: Case) -> QuerySet[OwnerTask]:
    """A case's tasks, open ones first."""
    return (
        OwnerTask.objects.filter(case=case)
        .select_related("done_by")
        .order_by("-done_at", "created_at", "pk")
    )


def owner_task_get(*, user: User, task_id: int) -> OwnerTask:
    """A task of a case the user can see, else ``not_found`` (never another team's)."""
    task = (
        OwnerTask.objects.filter(pk=task_id, case__in=visible_cases(user))
        .select_related("case", "case__team", "case__customer", "case__owner")
        .first()
    )
    if task is None:
        raise CaseRuleError("not_found", f"No task {task_id}.", status=404)
    return task


@transaction.atomic
def owner_task_done(
    *,
    task: OwnerTask,
    by: User,
    summary: str,
    channel: str = Channel.PHONE,
    at: datetime | None = None,
) -> OwnerTask:
    """The call is made: record it as a contact to the customer and close the task. Marking
    a done task done again changes nothing (the first record stands)."""
    if not summary.strip():
        raise CaseRuleError(
            "invalid_task",
            "Say what the customer was told.",
            fields={"summary": ["This field may not be blank."]},
        )
    parse_text(summary, field="summary", max_length=CONTACT_SUMMARY_MAX, multiline=True)
    recorded = contact_record(
        case=task.case,
        contact=NewContact(
            direction=ContactDirection.TO_CUSTOMER,
            channel=channel,
            summary=summary,
            at=at,
            external_id=f"owner-task:{task.pk}",
        ),
        by=by,
    )
    locked = OwnerTask.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        return locked
    now = timezone.now()
    locked.done_at, locked.done_by, locked.contact = now, by, recorded.contact
    locked.save(update_fields=["done_at", "done_by", "contact"])
    event = CaseEvent.objects.create(
        case=locked.case,
        kind=EventKind.OWNER_TASK_DONE,
        actor=by,
        at=now,
        data={"task_id": locked.pk, "text": locked.text, "call_id": recorded.contact.pk},
    )
    case_event_webhooks(event)
    return locked
