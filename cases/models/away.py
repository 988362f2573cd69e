"""Time an agent is away: planned absences (the "away now" switch lives on the profile)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now


class Absence(models.Model):
    """A planned absence: from ``starts_at`` (included) to ``ends_at`` (excluded). Ended
    early, ``ends_at`` moves to that moment and ``ended_at`` says when; one called off before
    it began keeps its start and ends there (it covers no time)."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="absences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the team's managers were told it leaves promises uncovered (once per absence).
    uncovered_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="absence_ends_after_start"
            ),
        ]
        indexes = [
            # availability: an agent's absences that have not ended before a moment
            models.Index(fields=["agent", "ends_at"], name="absence_agent_ends"),
            # the uncovered-promises sweep: absences starting soon, not yet alerted
            models.Index(
                fields=["starts_at"],
                condition=Q(uncovered_alerted_at__isnull=True),
                name="absence_unalerted_start",
            ),
        ]
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.agent} away {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
