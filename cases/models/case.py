"""Cases, their references and the append-only timeline."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caseowner import text
from cases.models.people import Channel, Customer, Team

REF_PREFIX = "CASE-"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.WAITING)


class ClosedAs(models.TextChoices):
    """Why a case was resolved or closed when it was not the customer's request settled: a
    case closed as spam or as a duplicate asks its customer nothing."""

    SETTLED = "", _("Settled")
    SPAM = "spam", _("Spam")
    DUPLICATE = "duplicate", _("Duplicate")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Case(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    subject = models.CharField(max_length=text.SUBJECT_MAX, validators=[text.single_line])
    description = models.TextField(
        blank=True,
        max_length=text.DESCRIPTION_MAX,
        validators=[MaxLengthValidator(text.DESCRIPTION_MAX), text.multi_line],
    )
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
    # When the customer wrote and nobody has answered them since ("customer replied" in the
    # queue); cleared by the next contact to the customer, or by resolving the case.
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    # Bumped to revoke every customer link issued so far.
    link_generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set with a resolved or closed status (spam, duplicate); cleared when it reopens.
    closed_as = models.CharField(max_length=16, choices=ClosedAs.choices, blank=True, default="")
    # The resolved case whose customer wrote again after the team's follow_up_after_days.
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )

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
            # the dashboard's "open cases without a promise" of a team
            models.Index(
                fields=["team"],
                condition=Q(status__in=["open", "waiting_on_customer"], next_due_at__isnull=True),
                name="case_team_no_promise",
            ),
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
    # ASCII digits only: ``str.isdigit`` also takes "²" or "١", which ``int`` refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


class EventKind(models.TextChoices):
    """The timeline kinds of ``cases``; later apps register theirs in ``cases.hooks``."""

    OPENED = "opened", _("Case opened")
    STATUS_CHANGED = "status_changed", _("Status changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    REOPENED = "reopened", _("Case reopened")
    NOTE = "note", _("Internal note")
    HANDOFF_OFFERED = "handoff_offered", _("Hand-off offered")
    HANDOFF_ACCEPTED = "handoff_accepted", _("Hand-off accepted")
    HANDOFF_DECLINED = "handoff_declined", _("Hand-off declined")
    HANDOFF_CANCELLED = "handoff_cancelled", _("Hand-off cancelled")
    HANDOFF_EXPIRED = "handoff_expired", _("Hand-off expired")
    HANDOFF_REMINDED = "handoff_reminded", _("Hand-off offer reminder")
    HANDOFF_ESCALATED = "handoff_escalated", _("Hand-off offer escalated")
    OWNER_ACKNOWLEDGED = "owner_acknowledged", _("Customer acknowledged the owner")
    CUSTOMER_LINK_REVOKED = "customer_link_revoked", _("Customer links revoked")
    CUSTOMER_UPDATED = "customer_updated", _("Customer details corrected")
    CUSTOMER_MERGED = "customer_merged", _("Customer records merged")
    CUSTOMER_UNMERGED = "customer_unmerged", _("Customer merge undone")
    CUSTOMER_ERASED = "customer_erased", _("Customer's personal data erased")
    CONTACT_TO_CUSTOMER = "contact_to_customer", _("Contact to the customer")
    CONTACT_FROM_CUSTOMER = "contact_from_customer", _("Customer got in touch")
    CONTACT_AUTOMATIC = "contact_automatic", _("Automatic message received")
    FOLLOW_UP_OPENED = "follow_up_opened", _("Customer wrote again: follow-up case opened")
    COVER_STARTED = "cover_started", _("Cover arranged while the owner is away")
    COVER_ENDED = "cover_ended", _("Owner back; cover ended")
    OWNER_TASK_CREATED = "owner_task_created", _("Task for the owner: a notice had no route")
    OWNER_TASK_DONE = "owner_task_done", _("Owner's task done")


class CaseEvent(models.Model):
    """The append-only timeline (invariant 7: triggers reject UPDATE and DELETE)."""

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


class CustomerNoticeSent(models.Model):
    """One customer notice an agent's action caused: the ledger the per-case and per-agent
    daily limits count (``cases.notices.customer_notice_enqueue``). Written in the same
    transaction as the notice, so a refused or rolled-back action leaves no row."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # the per-case limit: a case's notices in the last 24 hours
            models.Index(fields=["case", "at"], name="noticesent_case_at"),
            # the per-agent limit: an agent's notices in the last 24 hours
            models.Index(fields=["agent", "at"], name="noticesent_agent_at"),
        ]

    def __str__(self) -> str:
        return f"notice on case {self.case_id} by {self.agent_id} @ {self.at:%Y-%m-%d %H:%M}"
