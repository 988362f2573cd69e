"""Writes on cases: each function is one transaction and records its timeline event."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from caseowner import text
from caseowner.errors import NotFoundError
from caseowner.preconditions import require_if_match
from caseowner.text import NOTE_MAX, require_clean_text
from caseowner.types import User
from cases import hooks
from cases.errors import CaseRuleError
from cases.events import case_event_webhooks
from cases.locking import lock_case
from cases.models import (
    OPEN_STATUSES,
    Absence,
    AgentProfile,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    ClosedAs,
    Customer,
    EventKind,
    Priority,
    Team,
)
from cases.notices import customer_context, customer_notice_enqueue, staff_case_url
from cases.permissions import (
    can_change_case,
    covering_for,
    is_team_manager,
    is_team_member,
)
from cases.recipients import agent_recipient, display_name
from notifications.services import notification_enqueue


def case_event_record(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    data: dict | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one row to the timeline (never updated, never deleted). A cover acting for the
    away owner is recorded as the actor, with the owner in ``on_behalf_of``."""
    data = dict(data or {})
    if actor is not None and "on_behalf_of" not in data:
        owner = covering_for(actor, case)
        if owner is not None:
            data["on_behalf_of"] = owner.pk
            data["on_behalf_of_name"] = display_name(owner)
    event = CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, data=data, at=at or timezone.now()
    )
    # Integrators hear of it through their webhooks, in the same transaction.
    case_event_webhooks(event)
    return event


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
        data={"owner_id": owner.pk, "channel": channel, "assigned_by_rule": by_rule},
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
    owner_told_of_case(case=case, by=by, by_rule=by_rule)
    return case


def owner_told_of_case(*, case: Case, by: User | None, by_rule: bool) -> None:
    """A new owner hears of their case at once (the queue shows it too), whatever made them
    owner: the team's rule, another agent naming them, or (``by`` None) the product itself,
    which opens a follow-up when a customer writes long after their case was resolved. Once
    per owner and case (the dedupe key). Nobody is told what they did themselves: an agent
    who opened a case and owns it is looking at it."""
    if by is not None and case.owner_id == by.pk:
        return
    notification_enqueue(
        later=True,
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
            # "" when the team's rule chose them (or nobody did: a follow-up)
            "assigned_by_name": "" if by_rule or by is None else display_name(by),
            # the resolved case a customer's late reply opened this one to follow up
            "follow_up_of": case.follow_up_of.ref if case.follow_up_of else "",
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
            "Only the case's owner, their cover while they are away, or a manager of its team"
            " can change it.",
            status=403,
        )


@transaction.atomic
def case_change_status(
    *, case: Case, status: str, by: User, reason: str = "", closed_as: str = ""
) -> Case:
    """Move a case between open, waiting, resolved and closed; reopening needs a reason.
    ``closed_as`` (spam, duplicate) goes with a resolved or closed status only."""
    require_clean_text({"reason": (reason, text.REASON_MAX, True)})
    case = _lock(case)
    _require_change(by, case)
    if status not in CaseStatus.values:
        raise CaseRuleError(
            "invalid_status", f"Unknown status {status!r}.", fields={"status": ["Unknown status."]}
        )
    if closed_as not in ClosedAs.values or (closed_as and status in OPEN_STATUSES):
        raise CaseRuleError(
            "invalid_closed_as",
            "Spam or duplicate goes with a resolved or closed status only.",
            fields={"closed_as": ["Choose spam or duplicate only when resolving or closing."]},
        )
    if status == case.status:
        if closed_as and closed_as != case.closed_as:
            case.closed_as = closed_as
            case.save(update_fields=["closed_as"])
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
    case.closed_as = closed_as
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        # A resolved case waits for no answer; a reply after this flags it afresh.
        case.awaiting_reply_since = None
    case.save(
        update_fields=["status", "updated_at", "closed_at", "closed_as", "awaiting_reply_since"]
    )
    case_event_record(
        case=case,
        kind=EventKind.REOPENED if reopening else EventKind.STATUS_CHANGED,
        actor=by,
        at=now,
        data={
            "from": old,
            "to": status,
            **({"reason": reason.strip()} if reason.strip() else {}),
            **({"closed_as": closed_as} if closed_as else {}),
        },
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
    closed_as: str = "",
    if_match: str | None = None,
) -> Case:
    """PATCH of status and/or priority as one transaction: both apply or neither. With
    ``if_match`` (the ETag the client read) a case changed since is refused, 412."""
    if if_match is not None:
        require_if_match(if_match, _lock(case))
    if status is not None:
        case = case_change_status(
            case=case, status=status, by=by, reason=reason, closed_as=closed_as
        )
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
    "customer_links_revoke",
]
