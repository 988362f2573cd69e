"""Merges of two customer records, kept so that each can be undone exactly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models.people import Customer


class CustomerMerge(models.Model):
    """``merged`` was folded into ``survivor``: ``moved`` names every row that changed
    customer ({"cases": [ids…]}), so ``customer_unmerge`` moves back exactly those."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_in")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_out")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(survivor=models.F("merged")), name="customermerge_two_records"
            ),
            # a record is merged away at most once at a time
            models.UniqueConstraint(
                fields=["merged"], condition=Q(undone_at__isnull=True), name="customermerge_live"
            ),
        ]
        indexes = [
            # the customer page's merges into a survivor, newest first
            models.Index(fields=["survivor", "-at"], name="customermerge_survivor"),
        ]

    def __str__(self) -> str:
        return f"customer {self.merged_id} → {self.survivor_id}"

    @property
    def case_ids(self) -> list[int]:
        return list(self.moved.get("cases", []))
