"""Hand-offs between owners and managers' reviews of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case, Team


class HandoffReason(models.TextChoices):
    SHIFT_END = "shift_end", _("Shift end")
    EXPERTISE = "expertise", _("Expertise needed")
    ESCALATION = "escalation", _("Escalation")
    WORKLOAD = "workload", _("Workload")
    ABSENCE = "absence", _("Absence")
    MANAGER_REASSIGNMENT = "manager_reassignment", _("Manager reassignment")


class HandoffStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Handoff(models.Model):
    """A change of owner with the context the next owner (and a manager) can rely on."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="handoffs")
    # The case's team, copied at offer time and moved with the case (an accepted hand-off
    # to another team moves every hand-off of the case): the audit and the reports filter on
    # it without joining the cases. Indexed by ``handoff_team_offered`` (team first).
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", db_index=False)
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_sent"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_received"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A manager's reassignment across teams: the case moves to this team on acceptance.
    to_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=30, choices=HandoffReason.choices)
    customer_needs = models.TextField()
    actions_taken = models.TextField()
    customer_expectations = models.TextField()
    next_step = models.TextField()
    # Snapshot of the open commitments at offer time: [{"id", "description", "due_at"}].
    briefed_commitments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=12, choices=HandoffStatus.choices, default=HandoffStatus.OFFERED
    )
    decline_reason = models.TextField(blank=True)
    offered_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    customer_acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Ping-pong and other audit flags, e.g. ["back_to_previous_owner", "fourth_owner"].
    flags = models.JSONField(default=list, blank=True)
    quality_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # When a waiting offer reminds the receiver, then escalates to the team's managers
    # (business time from offered_at, fixed at offer time), and when each happened.
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # the receiver's waiting offers in the queue
            models.Index(
                fields=["to_agent", "offered_at"],
                condition=Q(status="offered"),
                name="handoff_waiting_for",
            ),
            # the dashboard's "offers waiting" of a team
            models.Index(
                fields=["team", "offered_at"],
                condition=Q(status="offered"),
                name="handoff_team_waiting",
            ),
            # the manager audit of every managed team (superusers: all teams) over a period
            models.Index(fields=["offered_at"], name="handoff_offered_at"),
            # the hand-off audit page and report, the team dashboard and reports API: a
            # team's hand-offs over a period, newest first
            models.Index(fields=["team", "-offered_at", "-id"], name="handoff_team_offered"),
            # a case's hand-off history
            models.Index(fields=["case", "-offered_at"], name="handoff_case"),
            # the offer sweep: waiting offers due for a reminder
            models.Index(
                fields=["remind_at"],
                condition=Q(status="offered", reminded_at__isnull=True),
                name="handoff_remind_due",
            ),
            # the offer sweep: waiting offers due for escalation
            models.Index(
                fields=["escalate_at"],
                condition=Q(status="offered", escalated_at__isnull=True),
                name="handoff_escalate_due",
            ),
            # the customer's acknowledgement: a case's latest accepted hand-off
            models.Index(
                fields=["case", "-decided_at"],
                condition=Q(status="accepted"),
                name="handoff_case_accepted",
            ),
        ]
        constraints = [
            # Invariant 4: at most one open hand-off per case.
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="offered"), name="handoff_one_open_per_case"
            ),
            models.CheckConstraint(
                condition=~Q(from_agent=models.F("to_agent")), name="handoff_not_to_self"
            ),
            models.CheckConstraint(
                condition=Q(quality_score__isnull=True)
                | Q(quality_score__gte=0, quality_score__lte=100),
                name="handoff_quality_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Hand-off {self.pk} of case {self.case_id}"


class HandoffReview(models.Model):
    """A manager's rubric scores for a hand-off (1–5 each)."""

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    context_complete = models.PositiveSmallIntegerField()
    next_step_clear = models.PositiveSmallIntegerField()
    commitments_carried = models.PositiveSmallIntegerField()
    customer_informed = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    reviewed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(context_complete__range=(1, 5))
                & Q(next_step_clear__range=(1, 5))
                & Q(commitments_carried__range=(1, 5))
                & Q(customer_informed__range=(1, 5)),
                name="handoffreview_scores_1_5",
            ),
            models.UniqueConstraint(fields=["handoff", "reviewer"], name="handoffreview_once"),
        ]

    def __str__(self) -> str:
        return f"Review of hand-off {self.handoff_id} by {self.reviewer_id}"
