"""Writes on cases: each function is one transaction and records its timeline event."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from caseowner import text
from caseowner.errors import NotFoundError
from caseowner.text import NOTE_MAX, require_clean_text
from cases import hooks
from cases.contacts import agent_recipient, display_name
from cases.customer_checks import phone_or_error
from cases.errors import CaseRuleError
from cases.locking import lock_case
from cases.models import (
    OPEN_STATUSES,
    Absence,
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
from cases.notices import customer_context, customer_notice_enqueue, staff_case_url
from cases.permissions import (
    can_change_case,
    is_team_manager,
    is_team_member,
)
from notifications.services import notification_enqueue

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


def customer_full_name(*, full_name: str, given_name: str, family_name: str) -> str:
    """The whole name: as written, else the parts given (given name first)."""
    return full_name.strip() or " ".join(p for p in (given_name.strip(), family_name.strip()) if p)


def customer_field_errors(
    *,
    full_name: str,
    title: str,
    preferred_channel: str,
    time_zone: str,
    given_name: str = "",
    family_name: str = "",
) -> dict[str, list[str]]:
    """What is wrong with a customer's details (``customer_create`` and ``customer_update``).
    The parts, when given, are parts of the whole name (in any order: "Wang Wei" has the
    family name Wang); a single name is a given name alone or a family name alone."""
    errors: dict[str, list[str]] = {}
    if not full_name.strip():
        errors["name"] = ["Give the customer's name."]
    folded = f" {' '.join(full_name.casefold().split())} "
    for field, part in (("given_name", given_name), ("family_name", family_name)):
        if part.strip() and f" {' '.join(part.casefold().split())} " not in folded:
            errors[field] = [f'Part of the whole name ("{full_name.strip()}"), as written there.']
    if title not in Title.values:
        errors["title"] = [f"One of: {', '.join(v for v in Title.values if v)}."]
    if preferred_channel not in Channel.values:
        errors["preferred_channel"] = ["Unknown channel."]
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Unknown time zone."]
    return errors


@transaction.atomic
def customer_create(
    *,
    full_name: str = "",
    given_name: str = "",
    family_name: str = "",
    email: str = "",
    phone: str = "",
    title: str = "",
    addressed_as: str = "",
    preferred_channel: str = Channel.EMAIL,
    time_zone: str = "UTC",
    language: str = "en",
    phone_region: str | None = None,
) -> Customer:
    """A customer as they want to be addressed, reachable by email or phone (stored in E.164,
    read in ``phone_region`` when typed without a country code). The name: whole, or in the
    parts the customer gave (given and family name; either alone for a single name), or both;
    without a family name a title is never used on its own."""
    require_clean_text(
        {
            "name": (full_name, text.NAME_MAX, False),
            "given_name": (given_name, text.NAME_MAX, False),
            "family_name": (family_name, text.NAME_MAX, False),
            "addressed_as": (addressed_as, text.NAME_MAX, False),
            "email": (email, 254, False),
            "phone": (phone, 40, False),
        }
    )
    full_name = customer_full_name(
        full_name=full_name, given_name=given_name, family_name=family_name
    )
    errors = customer_field_errors(
        full_name=full_name,
        title=title,
        preferred_channel=preferred_channel,
        time_zone=time_zone,
        given_name=given_name,
        family_name=family_name,
    )
    if errors:
        raise CaseRuleError("invalid_customer", "The customer has invalid fields.", fields=errors)
    return Customer.objects.create(
        full_name=full_name,
        given_name=" ".join(given_name.split()),
        family_name=" ".join(family_name.split()),
        email=email.strip(),
        phone=phone_or_error(phone, region=phone_region),
        title=title,
        addressed_as=addressed_as.strip(),
        preferred_channel=preferred_channel,
        time_zone=time_zone,
        language=language or "en",
    )


def agent_pick_by_rule(*, team: Team) -> User:
    """The team's next owner among its agents present now (not away, not absent): fewest
    open cases, ties broken round robin after the last pick.

    The team row is locked for the rest of the transaction, so two intakes at once take
    turns: the second one counts the first one's case and picks differently when it should.
    """
    team = Team.objects.select_for_update().get(pk=team.pk)
    now = timezone.now()
    candidates = list(
        AgentProfile.objects.filter(
            teams=team, accepts_new_cases=True, user__is_active=True, away_since__isnull=True
        )
        .exclude(
            user__in=Absence.objects.filter(starts_at__lte=now, ends_at__gt=now).values("agent")
        )
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
    require_clean_text(
        {
            "subject": (subject, text.SUBJECT_MAX, False),
            "description": (description, text.DESCRIPTION_MAX, True),
        }
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
    by_rule = owner is None
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
    customer_notice_enqueue(
        case=case,
        by=by,
        template="cases/email/case_opened",
        context=customer_context(case),
        dedupe_key=f"case:{case.pk}:opened",
        # Opened on a call or face to face: the customer has just heard who owns it.
        task_if_no_route=channel not in (Channel.PHONE, Channel.IN_PERSON, Channel.CHAT),
    )
    if by_rule:
        _tell_assigned_owner(case)
    return case


def _tell_assigned_owner(case: Case) -> None:
    """The agent the rule chose hears of their new case at once (the queue shows it too)."""
    notification_enqueue(
        recipient=agent_recipient(case.owner),
        template="cases/email/case_assigned",
        context={
            "agent_name": display_name(case.owner),
            "case_ref": case.ref,
            "case_subject": case.subject,
            "case_url": staff_case_url(case),
            "customer_full_name": case.customer.full_name,
            "customer_email": case.customer.email,
            "channel": case.get_channel_display(),
            "description": case.description,
        },
        dedupe_key=f"case:{case.pk}:assigned:{case.owner_id}",
        tags=[f"case:{case.pk}"],
    )


def _lock(case: Case) -> Case:
    locked = lock_case(case.pk)
    if locked is None:  # pragma: no cover - cases are never deleted (PROTECT)
        raise NotFoundError(f"No case {case.ref}.")
    return locked


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
    require_clean_text({"reason": (reason, text.REASON_MAX, True)})
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
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        # A resolved case waits for no answer; a reply after this flags it afresh.
        case.awaiting_reply_since = None
    case.save(update_fields=["status", "updated_at", "closed_at", "awaiting_reply_since"])
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
    require_clean_text({"text": (text, NOTE_MAX, True)})
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
def customer_links_revoke(*, case: Case, by: User) -> Case:
    """Every customer link issued for the case so far stops working (a link sent to the wrong
    address, a forwarded email). Links made from now on carry the next generation."""
    case = _lock(case)
    _require_change(by, case)
    case.link_generation += 1
    case.updated_at = timezone.now()
    case.save(update_fields=["link_generation", "updated_at"])
    case_event_record(
        case=case,
        kind=EventKind.CUSTOMER_LINK_REVOKED,
        actor=by,
        at=case.updated_at,
        data={"generation": case.link_generation},
    )
    return case


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


__all__ = [
    "agent_pick_by_rule",
    "case_add_note",
    "case_change_priority",
    "case_change_status",
    "case_event_record",
    "case_open",
    "case_update",
    "customer_create",
    "customer_links_revoke",
    "customer_field_errors",
]
