"""The owner's tasks: what a customer notice could not do by itself. A notice with no route
to the customer (a phone-only customer and an email notice) becomes a task on the owner's
queue — "Call Mrs Campbell: …" — done when the call is made and recorded as a contact."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models.case import Case

TASK_TEXT_MAX = 500


class OwnerTask(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="owner_tasks")
    # The owner when the task was made; the queue shows a case's open tasks to whoever owns
    # the case now (a hand-off carries them).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=TASK_TEXT_MAX)
    # Why the product could not do it itself ("customer has no email address").
    reason = models.CharField(max_length=200)
    # The notice it stands for: its template, and its dedupe key (one task per notice).
    source_template = models.CharField(max_length=200)
    dedupe_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The contact (the call) that did it.
    contact = models.ForeignKey(
        "cases.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # the queue and the case page: a case's open tasks, oldest first
            models.Index(
                fields=["case", "created_at"],
                condition=Q(done_at__isnull=True),
                name="ownertask_case_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="ownertask_done_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
