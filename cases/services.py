"""Writes on cases: each function is one transaction and records its timeline event."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import hooks
from cases.errors import CaseRuleError
from cases.links import customer_url
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Customer,
    EventKind,
    Priority,
    Team,
    Title,
)
from cases.permissions import can_change_case, is_team_manager, is_team_member
from notifications.services import Recipient, notification_enqueue

User = Any  # the configured user model; kept loose for django-stubs across auth models


def case_event_record(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    data: dict | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one row to the timeline (never updated, never deleted)."""
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, data=data or {}, at=at or timezone.now()
    )


def display_name(user: User) -> str:
    """How the product names a person: their profile's display name, else their name."""
    profile: AgentProfile | None = getattr(user, "agent_profile", None)
    if profile is not None:
        return profile.display_name
    return user.get_full_name() or user.get_username()


def agent_recipient(user: User, kind: str = "agent") -> Recipient:
    """An agent or manager as the recipient of an internal notice."""
    contact = owner_contact(user)
    return Recipient(address=user.email or contact["email"], name=contact["name"], kind=kind)


def owner_contact(user: User) -> dict:
    """The owner's details as the customer sees them (JSON-serialisable)."""
    profile: AgentProfile | None = getattr(user, "agent_profile", None)
    return {
        "name": display_name(user),
        "job_title": profile.job_title if profile else "",
        "email": (profile.direct_email if profile else "") or user.email,
        "phone": profile.direct_phone if profile else "",
        "working_hours": profile.working_hours if profile else "",
    }


def customer_context(case: Case) -> dict:
    """What every customer email needs: reference, greeting, owner and link."""
    return {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "customer_name": case.customer.salutation_name,
        "customer_time_zone": case.customer.time_zone,
        "owner": owner_contact(case.owner),
        "customer_url": customer_url(case_id=case.pk, generation=case.link_generation),
    }


def customer_recipient(case: Case) -> Recipient:
    return Recipient(address=case.customer.email, name=case.customer.full_name, kind="customer")


@transaction.atomic
def customer_create(
    *,
    full_name: str,
    email: str = "",
    phone: str = "",
    title: str = "",
    addressed_as: str = "",
    preferred_channel: str = Channel.EMAIL,
    time_zone: str = "UTC",
    language: str = "en",
) -> Customer:
    """A customer as they want to be addressed, reachable by email or phone."""
    errors: dict[str, list[str]] = {}
    if not full_name.strip():
        errors["name"] = ["Give the customer's name."]
    if title not in Title.values:
        errors["title"] = [f"One of: {', '.join(v for v in Title.values if v)}."]
    if preferred_channel not in Channel.values:
        errors["preferred_channel"] = ["Unknown channel."]
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Unknown time zone."]
    if errors:
        raise CaseRuleError("invalid_customer", "The customer has invalid fields.", fields=errors)
    return Customer.objects.create(
        full_name=full_name.strip(),
        email=email.strip(),
        phone=phone.strip(),
        title=title,
        addressed_as=addressed_as.strip(),
        preferred_channel=preferred_channel,
        time_zone=time_zone,
        language=language or "en",
    )


def agent_pick_by_rule(*, team: Team) -> User:
    """The team's next owner: fewest open cases, ties broken round robin after the last pick.

    The team row is locked for the rest of the transaction, so two intakes at once take
    turns: the second one counts the first one's case and picks differently when it should.
    """
    team = Team.objects.select_for_update().get(pk=team.pk)
    candidates = list(
        AgentProfile.objects.filter(teams=team, accepts_new_cases=True, user__is_active=True)
        .annotate(
            open_cases=Count(
                "user__owned_cases",
                filter=Q(user__owned_cases__status__in=OPEN_STATUSES),
            )
        )
        .select_related("user")
        .order_by("user_id")
    )
    if not candidates:
        raise CaseRuleError(
            "no_agent_available",
            f"Team {team.name} has no active agent accepting new cases; name an owner.",
        )
    last = team.last_assigned_id or 0
    if team.assignment_rule == "round_robin":
        pool = candidates
    else:
        fewest = min(c.open_cases for c in candidates)
        pool = [c for c in candidates if c.open_cases == fewest]
    after = [c for c in pool if c.user_id > last]
    chosen = (after or pool)[0].user
    team.last_assigned = chosen
    team.save(update_fields=["last_assigned"])
    return chosen


@transaction.atomic
def case_open(
    *,
    customer: Customer,
    team: Team,
    channel: str,
    subject: str,
    by: User,
    description: str = "",
    priority: str = Priority.NORMAL,
    owner: User | None = None,
) -> Case:
    """Open a case with exactly one owner (given, or the team's rule) and tell the customer."""
    if not (is_team_member(by, team) or is_team_manager(by, team) or by.is_superuser):
        raise CaseRuleError(
            "not_in_team", "You can open cases only for your own teams.", status=403
        )
    if channel not in Channel.values:
        raise CaseRuleError(
            "invalid_channel",
            f"Unknown channel {channel!r}.",
            fields={"channel": ["Unknown channel."]},
        )
    if not subject.strip():
        raise CaseRuleError(
            "subject_required",
            "A case needs a subject.",
            fields={"subject": ["This field may not be blank."]},
        )
    if owner is None:
        owner = agent_pick_by_rule(team=team)
    elif not owner.is_active or not is_team_member(owner, team):
        raise CaseRuleError(
            "owner_not_in_team",
            "The owner must be an active agent of the case's team.",
            fields={"owner": ["Not an active agent of this team."]},
        )
    now = timezone.now()
    case = Case.objects.create(
        customer=customer,
        team=team,
        channel=channel,
        subject=subject.strip(),
        description=description,
        priority=priority,
        owner=owner,
        owner_since=now,
        created_at=now,
        updated_at=now,
    )
    case_event_record(
        case=case,
        kind=EventKind.OPENED,
        actor=by,
        at=now,
        data={"owner_id": owner.pk, "channel": channel, "assigned_by_rule": by != owner},
    )
    hooks.run(hooks.case_opened, case=case, by=by, now=now)
    notification_enqueue(
        recipient=customer_recipient(case),
        template="cases/email/case_opened",
        context=customer_context(case),
        dedupe_key=f"case:{case.pk}:opened",
        tags=[f"case:{case.pk}"],
    )
    return case


def _lock(case: Case) -> Case:
    """Lock the bare case row, then read it with its people. (Locking a joined query lets
    PostgreSQL's recheck after a concurrent update drop the row or return stale joins.)"""
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).get()
    return Case.objects.select_related("customer", "team", "owner").get(pk=case.pk)


def _require_change(by: User, case: Case) -> None:
    if not can_change_case(by, case):
        raise CaseRuleError(
            "not_case_owner",
            "Only the case's owner or a manager of its team can change it.",
            status=403,
        )


@transaction.atomic
def case_change_status(*, case: Case, status: str, by: User, reason: str = "") -> Case:
    """Move a case between open, waiting, resolved and closed; reopening needs a reason."""
    case = _lock(case)
    _require_change(by, case)
    if status not in CaseStatus.values:
        raise CaseRuleError(
            "invalid_status", f"Unknown status {status!r}.", fields={"status": ["Unknown status."]}
        )
    if status == case.status:
        return case
    old = case.status
    reopening = old in (CaseStatus.CLOSED, CaseStatus.RESOLVED) and status in OPEN_STATUSES
    if old == CaseStatus.CLOSED and reopening and not reason.strip():
        raise CaseRuleError(
            "reopen_reason_required",
            "A closed case can be reopened only with a reason.",
            fields={"reason": ["Say why the case is reopened."]},
        )
    now = timezone.now()
    case.status = status
    case.updated_at = now
    case.closed_at = now if status == CaseStatus.CLOSED else None
    case.save(update_fields=["status", "updated_at", "closed_at"])
    case_event_record(
        case=case,
        kind=EventKind.REOPENED if reopening else EventKind.STATUS_CHANGED,
        actor=by,
        at=now,
        data={"from": old, "to": status, **({"reason": reason.strip()} if reason.strip() else {})},
    )
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        hooks.run(hooks.case_closed, case=case, by=by, now=now)
    return case


@transaction.atomic
def case_change_priority(*, case: Case, priority: str, by: User) -> Case:
    case = _lock(case)
    _require_change(by, case)
    if priority not in Priority.values:
        raise CaseRuleError(
            "invalid_priority",
            f"Unknown priority {priority!r}.",
            fields={"priority": ["Unknown priority."]},
        )
    if priority == case.priority:
        return case
    now = timezone.now()
    old, case.priority, case.updated_at = case.priority, priority, now
    case.save(update_fields=["priority", "updated_at"])
    case_event_record(
        case=case,
        kind=EventKind.PRIORITY_CHANGED,
        actor=by,
        at=now,
        data={"from": old, "to": priority},
    )
    return case


@transaction.atomic
def case_add_note(*, case: Case, by: User, text: str) -> CaseEvent:
    """An internal note: on the timeline for agents and managers, never shown to customers."""
    case = _lock(case)
    _require_change(by, case)
    if not text.strip():
        raise CaseRuleError(
            "note_empty",
            "A note needs some text.",
            fields={"text": ["This field may not be blank."]},
        )
    case.updated_at = timezone.now()
    case.save(update_fields=["updated_at"])
    return case_event_record(case=case, kind=EventKind.NOTE, actor=by, data={"text": text.strip()})


@transaction.atomic
def case_update(
    *,
    case: Case,
    by: User,
    status: str | None = None,
    priority: str | None = None,
    reason: str = "",
) -> Case:
    """PATCH of status and/or priority as one transaction: both apply or neither."""
    if status is not None:
        case = case_change_status(case=case, status=status, by=by, reason=reason)
    if priority is not None:
        case = case_change_priority(case=case, priority=priority, by=by)
    if status is None and priority is None:
        _require_change(by, case)
    return case
