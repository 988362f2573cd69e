"""A customer's email to a case already resolved or closed is never left unseen.

Within the team's ``follow_up_after_days`` of the case's resolution the case reopens (the
customer's answer says it is not done); later it is a new matter: a follow-up case opens,
linked to the old one (``Case.follow_up_of``), with the same owner while they are an active
agent of the team (else the team's rule), and the message is filed there; its owner is told
once, as the owner of any new case is. Either way the
message is a contact from the customer, so the owner's queue flags "customer replied".
Automatic mail (auto-replies, bounces) never reaches here: it changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from caseowner import text
from caseowner.types import User
from cases.locking import lock_case
from cases.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, Channel, EventKind
from cases.permissions import is_team_member
from cases.services import agent_pick_by_rule, case_event_record, case_open, owner_told_of_case

REOPEN_REASON = "The customer replied."


def resolved_at(case: Case) -> datetime:
    """When the case was last resolved or closed (its timeline's last move there; the case's
    own ``closed_at`` or ``updated_at`` for a case older than its timeline)."""
    last = (
        CaseEvent.objects.filter(
            case=case,
            kind=EventKind.STATUS_CHANGED,
            data__to__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED],
        )
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    return last or case.closed_at or case.updated_at


def _follow_up_owner(case: Case) -> User:
    owner = case.owner
    if owner.is_active and is_team_member(owner, case.team):
        return owner
    return agent_pick_by_rule(team=case.team)


def case_for_customer_reply(*, case: Case, at: datetime) -> Case:
    """The case a customer's email written at ``at`` belongs on: ``case`` itself while open
    (no query); reopened within the team's days of its resolution; else a new follow-up."""
    if case.status in OPEN_STATUSES:
        return case
    return _reopen_or_follow_up(case=case, at=at)


@transaction.atomic
def _reopen_or_follow_up(*, case: Case, at: datetime) -> Case:
    locked = lock_case(case.pk)
    if locked is None:  # pragma: no cover - cases are never deleted (PROTECT)
        return case
    case = locked
    if case.status in OPEN_STATUSES:
        return case
    old = case.status
    since = at - resolved_at(case)
    if since <= timedelta(days=case.team.follow_up_after_days):
        case.status = CaseStatus.OPEN
        case.closed_at = None
        case.updated_at = at
        case.save(update_fields=["status", "closed_at", "updated_at"])
        case_event_record(
            case=case,
            kind=EventKind.REOPENED,
            actor=None,
            at=at,
            data={"from": old, "to": CaseStatus.OPEN, "reason": REOPEN_REASON},
        )
        return case
    owner = _follow_up_owner(case)
    subject = f"Follow-up to {case.ref}: {case.subject}"[: text.SUBJECT_MAX]
    follow_up = case_open(
        customer=case.customer,
        team=case.team,
        channel=Channel.EMAIL,
        subject=subject,
        priority=case.priority,
        owner=owner,
        by=owner,
    )
    follow_up.follow_up_of = case
    follow_up.save(update_fields=["follow_up_of"])
    # Opened in the owner's name, so ``case_open`` told nobody; nobody here chose them.
    owner_told_of_case(case=follow_up, by=None, by_rule=owner.pk != case.owner_id)
    case_event_record(
        case=case,
        kind=EventKind.FOLLOW_UP_OPENED,
        actor=None,
        at=at,
        data={
            "follow_up_id": follow_up.pk,
            "reason": f"The customer wrote {since.days} days after it was {old}: their message is "
            f"on {follow_up.ref}.",
        },
    )
    return follow_up
