"""The one question a customer is asked when their case closes, and their answer.

A row is written when the question goes out (one per case: the database says so), with a
snapshot of how the case was looked after taken at that moment: its final owner, every owner
who held it (``SatisfactionHolder``), its hand-offs and how its promises ended. The answer
(score, comment) is filled in later from the customer's page; a second answer within
``ANSWER_CHANGE_WINDOW`` of the first replaces it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models.case import Case

SATISFACTION_COMMENT_MAX = 2000


class SatisfactionAnswer(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="satisfaction")
    team = models.ForeignKey("cases.Team", on_delete=models.PROTECT, related_name="+")
    # The owner when the case closed: the question names them.
    final_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField()
    # The snapshot at close: accepted hand-offs, and the customer's promises by how they ended
    # (an open one closing with the case counts as kept: closing keeps it, or is refused).
    handoffs = models.PositiveIntegerField(default=0)
    promises_kept = models.PositiveIntegerField(default=0)
    promises_renegotiated = models.PositiveIntegerField(default=0)
    promises_missed = models.PositiveIntegerField(default=0)
    # The answer: empty until the customer gives it.
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=SATISFACTION_COMMENT_MAX)
    answered_at = models.DateTimeField(null=True, blank=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    # Bumped by each answer: the alert of a replaced answer is a new one.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # the dashboard: a team's answers by the week they were given
            models.Index(
                fields=["team", "answered_at"],
                condition=Q(score__isnull=False),
                name="satisfaction_team_answered",
            ),
            # an agent's own figures: answers where they were the final owner
            models.Index(
                fields=["final_owner", "answered_at"],
                condition=Q(score__isnull=False),
                name="satisfaction_owner_answered",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="satisfaction_score_1_5",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True, answered_at__isnull=True)
                | Q(score__isnull=False, answered_at__isnull=False),
                name="satisfaction_score_with_time",
            ),
        ]

    def __str__(self) -> str:
        return f"satisfaction of case {self.case_id}: {self.score or '-'}"


class SatisfactionHolder(models.Model):
    """An owner who held the case before it closed: the answer counts for each of them."""

    answer = models.ForeignKey(SatisfactionAnswer, on_delete=models.CASCADE, related_name="holders")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    final = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "agent"], name="satisfaction_holder_once"),
        ]
        indexes = [
            # an agent's own figures: every answer of a case they held
            models.Index(fields=["agent", "answer"], name="satisfaction_holder_agent"),
        ]

    def __str__(self) -> str:
        return f"agent {self.agent_id} held the case of answer {self.answer_id}"
