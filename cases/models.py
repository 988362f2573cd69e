"""Customers, agents' contact profiles, teams, cases, hand-offs and the case timeline."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

REF_PREFIX = "CASE-"


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SOCIAL = "social", "Social message"
    WEB = "web", "Web form"
    IN_PERSON = "in_person", "In person"


# First-response targets by channel, in seconds (the industry benchmarks the product uses).
DEFAULT_FIRST_RESPONSE_SECONDS: dict[str, int] = {
    Channel.EMAIL: 6 * 3600,
    Channel.SOCIAL: 2 * 3600,
    Channel.CHAT: 60,
    Channel.PHONE: 60,
    Channel.WEB: 6 * 3600,
    Channel.IN_PERSON: 60,
}


class Title(models.TextChoices):
    NONE = "", "(none)"
    MR = "Mr", "Mr"
    MRS = "Mrs", "Mrs"
    MS = "Ms", "Ms"
    MISS = "Miss", "Miss"
    MX = "Mx", "Mx"
    DR = "Dr", "Dr"
    PROF = "Prof", "Prof"


class Customer(models.Model):
    full_name = models.CharField(max_length=200)
    title = models.CharField(max_length=10, choices=Title.choices, blank=True)
    # How the customer asked to be addressed, in their words ("Sam", "Dr Okafor").
    addressed_as = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_channel = models.CharField(
        max_length=20, choices=Channel.choices, default=Channel.EMAIL
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            # customer search by email in the back office and intake de-duplication
            models.Index(fields=["email"], name="customer_email"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def salutation_name(self) -> str:
        """The name a letter opens with: their own words first, then title and surname."""
        if self.addressed_as:
            return self.addressed_as
        if self.title:
            return f"{self.title} {self.full_name.split()[-1]}"
        return self.full_name


class AssignmentRule(models.TextChoices):
    LEAST_OPEN = "least_open", "Fewest open cases, ties by round robin"
    ROUND_ROBIN = "round_robin", "Round robin"


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True
    )
    assignment_rule = models.CharField(
        max_length=20, choices=AssignmentRule.choices, default=AssignmentRule.LEAST_OPEN
    )
    # The agent who got the last case by rule; the next tie goes to the one after.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Per-channel overrides of DEFAULT_FIRST_RESPONSE_SECONDS: {"email": 3600, ...}.
    first_response_seconds = models.JSONField(default=dict, blank=True)
    # How long (business minutes) a hand-off offer may wait before the receiver is reminded;
    # twice that escalates to the managers.
    handoff_accept_minutes = models.PositiveIntegerField(default=120)

    def __str__(self) -> str:
        return self.name

    def first_response_target(self, channel: str) -> timedelta:
        seconds = self.first_response_seconds.get(channel)
        if seconds is None:
            seconds = DEFAULT_FIRST_RESPONSE_SECONDS.get(channel, 6 * 3600)
        return timedelta(seconds=int(seconds))


class AgentProfile(models.Model):
    """What a customer sees of the person who owns their case."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent_profile"
    )
    display_name = models.CharField(max_length=120)
    job_title = models.CharField(max_length=120, blank=True)
    direct_email = models.EmailField(blank=True)
    direct_phone = models.CharField(max_length=40, blank=True)
    # Shown to customers as written, e.g. "Mon–Fri 08:00–16:00 (London)".
    working_hours = models.CharField(max_length=200, blank=True)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    backup_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backing_up",
    )
    # An agent on leave keeps their cases but gets none by rule.
    accepts_new_cases = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.display_name


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting_on_customer", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.WAITING)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Case(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=24, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    # Invariant 1: never NULL, never deleted with a user.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cases"
    )
    owner_since = models.DateTimeField()
    # How many owners the case has had (1 at intake); ping-pong shows here.
    owner_count = models.PositiveIntegerField(default=1)
    # The earliest open commitment's due time, kept in the same transaction as every change.
    next_due_at = models.DateTimeField(null=True, blank=True)
    # Bumped to revoke every customer link issued so far.
    link_generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # My queue: an owner's open cases by next promise due
            models.Index(
                fields=["owner", "next_due_at", "id"],
                condition=Q(status__in=["open", "waiting_on_customer"]),
                name="case_queue_open",
            ),
            # case list filtered by team and status, newest first
            models.Index(fields=["team", "status", "-created_at"], name="case_team_status"),
            # case list filtered by team (any status), newest first
            models.Index(fields=["team", "-created_at", "-id"], name="case_team_created"),
            # case list of a team filtered by due_before (cases with an open promise)
            models.Index(
                fields=["team", "next_due_at"],
                condition=Q(next_due_at__isnull=False),
                name="case_team_due",
            ),
            # the customer's history of earlier cases
            models.Index(fields=["customer", "-created_at"], name="case_customer_history"),
            # case list filtered by owner, newest first
            models.Index(fields=["owner", "-created_at"], name="case_owner_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CaseStatus]), name="case_status_valid"
            ),
            models.CheckConstraint(condition=Q(owner_count__gte=1), name="case_owner_count_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.subject}"

    @property
    def ref(self) -> str:
        return format_ref(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def format_ref(pk: int) -> str:
    return f"{REF_PREFIX}{pk:06d}"


def parse_ref(ref: str) -> int | None:
    """``CASE-000123`` (or ``123``) → 123; None for anything else."""
    text = ref.strip().upper()
    if text.startswith(REF_PREFIX):
        text = text[len(REF_PREFIX) :]
    if not text.isdigit() or len(text) > 12:
        return None
    return int(text)


class EventKind(models.TextChoices):
    """The timeline kinds of ``cases``; later apps register theirs in ``cases.hooks``."""

    OPENED = "opened", "Case opened"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    REOPENED = "reopened", "Case reopened"
    NOTE = "note", "Internal note"
    HANDOFF_OFFERED = "handoff_offered", "Hand-off offered"
    HANDOFF_ACCEPTED = "handoff_accepted", "Hand-off accepted"
    HANDOFF_DECLINED = "handoff_declined", "Hand-off declined"
    HANDOFF_CANCELLED = "handoff_cancelled", "Hand-off cancelled"
    HANDOFF_EXPIRED = "handoff_expired", "Hand-off expired"
    HANDOFF_REMINDED = "handoff_reminded", "Hand-off offer reminder"
    HANDOFF_ESCALATED = "handoff_escalated", "Hand-off offer escalated"
    OWNER_ACKNOWLEDGED = "owner_acknowledged", "Customer acknowledged the owner"


class CaseEvent(models.Model):
    """The append-only timeline (invariant 7: a PostgreSQL trigger rejects UPDATE/DELETE)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    # One of the kinds registered in ``cases.hooks.event_kind_labels`` (no choices here: the
    # apps above ``cases`` bring their own kinds).
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField()
    # Internal notes and all structured details; never shown to customers as-is.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # a case's timeline, newest first, paged
            models.Index(fields=["case", "-at", "-id"], name="caseevent_case_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        from cases.hooks import event_kind_label

        return event_kind_label(self.kind)


class HandoffReason(models.TextChoices):
    SHIFT_END = "shift_end", "Shift end"
    EXPERTISE = "expertise", "Expertise needed"
    ESCALATION = "escalation", "Escalation"
    WORKLOAD = "workload", "Workload"
    ABSENCE = "absence", "Absence"
    MANAGER_REASSIGNMENT = "manager_reassignment", "Manager reassignment"


class HandoffStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class Handoff(models.Model):
    """A change of owner with the context the next owner (and a manager) can rely on."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="handoffs")
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
            # the manager audit: a team's hand-offs over a period (joined through case)
            models.Index(fields=["offered_at"], name="handoff_offered_at"),
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
