"""Writes on hand-offs: offer, accept, decline, cancel, review, the customer's acknowledgement
and the waiting-offer sweep. Each function is one transaction and records its timeline event.

Lock order, everywhere: the case row first, then the hand-off row. Accepting, declining,
cancelling and the sweep all follow it, so two of them racing on one offer take turns and the
second sees the first one's outcome instead of deadlocking.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from caseowner.errors import NotFoundError
from cases import hooks
from cases.errors import CaseRuleError
from cases.hooks import PromiseBrief
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    EventKind,
    Handoff,
    HandoffReason,
    HandoffReview,
    HandoffStatus,
    Team,
)
from cases.permissions import is_team_manager, is_team_member, managed_team_ids
from cases.services import (
    agent_recipient,
    case_event_record,
    customer_context,
    customer_recipient,
    owner_contact,
)
from notifications import services as notification_services
from notifications.services import notification_enqueue

User = Any  # the configured user model

# The gate: each summary field needs at least this many characters of its own words ...
SUMMARY_MIN_CHARS = 40
# ... and at least this many different words (no "test test test ...", no "........").
SUMMARY_MIN_DISTINCT_WORDS = 5
# Two fields this similar (0–1, difflib ratio) are one field copied into another.
SUMMARY_COPY_RATIO = 0.9
# A hand-off back to someone who owned the case within this period is ping-pong.
PING_PONG_WINDOW = timedelta(days=7)
# The owner count from which a hand-off is flagged: the case's fourth owner (or later).
PING_PONG_OWNER_COUNT = 4

SUMMARY_FIELDS: tuple[str, ...] = (
    "customer_needs",
    "actions_taken",
    "customer_expectations",
    "next_step",
)
SUMMARY_LABELS: dict[str, str] = {
    "customer_needs": "what the customer needs",
    "actions_taken": "what has been done so far",
    "customer_expectations": "what the customer was promised and expects",
    "next_step": "the next step",
}
# Pointers instead of content: "see notes", "as above", "n/a" …
_POINTER_PHRASES: tuple[str, ...] = (
    "see notes",
    "see note",
    "see above",
    "see below",
    "see ticket",
    "see case",
    "see history",
    "see timeline",
    "see email",
    "check notes",
    "refer to notes",
    "same as above",
    "as above",
    "as discussed",
    "as per notes",
    "nothing to add",
    "ditto",
    "n a",
    "tbd",
    "tba",
    "todo",
)
# Once the pointers are taken out, this many different words must remain.
_POINTER_REMAINING_WORDS = 6

FLAG_BACK_TO_PREVIOUS_OWNER = "back_to_previous_owner"
FLAG_FOURTH_OWNER = "fourth_owner"
FLAG_CARRIED_COMMITMENT_MISSED = "carried_commitment_missed"


@dataclass(frozen=True)
class HandoffSummary:
    """The context the next owner needs so the customer never repeats themselves."""

    customer_needs: str
    actions_taken: str
    customer_expectations: str
    next_step: str

    def cleaned(self) -> HandoffSummary:
        return HandoffSummary(
            **{name: (getattr(self, name) or "").strip() for name in SUMMARY_FIELDS}
        )


@dataclass
class GateResult:
    """What the quality gate found: field errors (empty when it passes) and the snapshot of
    the open commitments, each marked with how it was briefed ("mentioned" or "ticked")."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    commitments: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _words(text: str) -> set[str]:
    return {w for w in _normalise(text).split() if len(w) > 1 or w.isdigit()}


def _is_pointer(text: str) -> bool:
    normalised = f" {_normalise(text)} "
    found = False
    for phrase in _POINTER_PHRASES:
        if f" {phrase} " in normalised:
            found = True
            normalised = normalised.replace(f" {phrase} ", " ")
    return found and len(_words(normalised)) < _POINTER_REMAINING_WORDS


def _mentions(text: str, item: PromiseBrief) -> bool:
    """Is the promise referred to in ``text``: ``#12``, ``commitment 12``, ``promise 12``, or
    its description word for word?"""
    if re.search(rf"(?:#|\bcommitment\s*#?\s*|\bpromise\s*#?\s*){item.id}\b", text, re.IGNORECASE):
        return True
    description = _normalise(item.description)
    return bool(description) and description in _normalise(text)


def handoff_summary_check(
    *, summary: HandoffSummary, open_commitments: list[PromiseBrief], briefed_ids: list[int]
) -> GateResult:
    """The quality gate, without side effects (pages use it to show errors as you type)."""
    summary = summary.cleaned()
    result = GateResult()

    def error(name: str, message: str) -> None:
        result.errors.setdefault(name, []).append(message)

    for index, name in enumerate(SUMMARY_FIELDS):
        text = getattr(summary, name)
        if not text:
            error(name, f"Write {SUMMARY_LABELS[name]}: this field is required.")
            continue
        if _is_pointer(text):
            error(name, "Write the content itself, not a pointer to notes elsewhere.")
            continue
        if len(text) < SUMMARY_MIN_CHARS:
            error(
                name,
                f"Too short: write at least {SUMMARY_MIN_CHARS} characters on "
                f"{SUMMARY_LABELS[name]}.",
            )
            continue
        if len(_words(text)) < SUMMARY_MIN_DISTINCT_WORDS:
            error(name, "Say it in words: this repeats the same few words or characters.")
            continue
        for earlier in SUMMARY_FIELDS[:index]:
            other = getattr(summary, earlier)
            if other and (
                difflib.SequenceMatcher(None, _normalise(text), _normalise(other)).ratio()
                >= SUMMARY_COPY_RATIO
            ):
                error(
                    name,
                    f"This copies {SUMMARY_LABELS[earlier]}; write what is specific to "
                    f"{SUMMARY_LABELS[name]}.",
                )
                break

    known = {item.id for item in open_commitments}
    ticked = set()
    for value in briefed_ids:
        if int(value) not in known:
            error(
                "briefed_commitments", f"Commitment {value} is not an open commitment of the case."
            )
        else:
            ticked.add(int(value))
    all_text = "\n".join(getattr(summary, name) for name in SUMMARY_FIELDS)
    for item in open_commitments:
        ident = item.id
        if _mentions(all_text, item):
            briefed = "mentioned"
        elif ident in ticked:
            briefed = "ticked"
        else:
            error(
                "briefed_commitments",
                f"Brief commitment {ident} (“{item.description}”): mention it in the "
                f"summary (#{ident}) or tick it as briefed.",
            )
            continue
        result.commitments.append(
            {
                "id": ident,
                "description": item.description,
                "due_at": item.due_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "briefed": briefed,
            }
        )
    return result


def handoff_quality_score(handoff: Handoff) -> int | None:
    """0–100 for an accepted hand-off, recomputed as more becomes known; None before that.

    summary depth 30 (each field at twice the gate's minimum earns its full share, at the
    minimum half), commitments named in the text rather than only ticked 10, accepted before
    the reminder 20 (before the escalation 10), the customer acknowledged the new owner 20,
    no carried commitment missed later 20.
    """
    if handoff.status != HandoffStatus.ACCEPTED:
        return None
    depth = 0.0
    for name in SUMMARY_FIELDS:
        length = len(getattr(handoff, name).strip())
        depth += 1.0 if length >= 2 * SUMMARY_MIN_CHARS else 0.5 if length else 0.0
    score = 30 * depth / len(SUMMARY_FIELDS)
    carried = handoff.briefed_commitments or []
    if carried:
        score += 10 * sum(c.get("briefed") == "mentioned" for c in carried) / len(carried)
    else:
        score += 10
    if handoff.decided_at is not None:
        if handoff.remind_at is None or handoff.decided_at <= handoff.remind_at:
            score += 20
        elif handoff.escalate_at is None or handoff.decided_at <= handoff.escalate_at:
            score += 10
    if handoff.customer_acknowledged_at is not None:
        score += 20
    if FLAG_CARRIED_COMMITMENT_MISSED not in (handoff.flags or []):
        score += 20
    return round(score)


# --- helpers ---------------------------------------------------------------------------------


def _lock_case(case_id: int, *, skip_locked: bool = False) -> Case | None:
    """Lock the case row, then read it with its people.

    The lock takes no joins: when a racing transaction changed the row, PostgreSQL rechecks
    only the locked row, so joined rows (the owner) could be stale or drop the row entirely.
    Reading after the lock sees the winner's committed state.
    """
    locked = Case.objects.select_for_update(skip_locked=skip_locked).filter(pk=case_id)
    if not locked.values_list("pk", flat=True).first():
        return None
    return (
        Case.objects.select_related("customer", "team", "owner", "owner__agent_profile")
        .filter(pk=case_id)
        .first()
    )


def _lock_handoff(handoff_id: int, *, skip_locked: bool = False) -> Handoff | None:
    """Lock the hand-off row, then read it with its people (see ``_lock_case``)."""
    locked = Handoff.objects.select_for_update(skip_locked=skip_locked).filter(pk=handoff_id)
    if not locked.values_list("pk", flat=True).first():
        return None
    return (
        Handoff.objects.select_related(
            "from_agent__agent_profile", "to_agent__agent_profile", "offered_by", "to_team"
        )
        .filter(pk=handoff_id)
        .first()
    )


def _locked_pair(handoff: Handoff) -> tuple[Case, Handoff]:
    case = _lock_case(handoff.case_id)
    locked = _lock_handoff(handoff.pk)
    if case is None or locked is None:  # pragma: no cover - rows are never deleted (PROTECT)
        raise NotFoundError("No such hand-off.")
    locked.case = case
    return case, locked


def _require_open_offer(handoff: Handoff) -> None:
    if handoff.status != HandoffStatus.OFFERED:
        raise CaseRuleError(
            "handoff_not_open",
            f"This hand-off is already {handoff.get_status_display().lower()}.",
            status=409,
        )


def _receiver_team(*, case: Case, by: User, to: User, to_team: Team | None) -> Team | None:
    """The team the case moves to on acceptance (None: it stays in its team)."""
    if to_team is None and is_team_member(to, case.team):
        return None
    if to_team is not None and to_team.pk == case.team_id:
        if not is_team_member(to, case.team):
            raise CaseRuleError(
                "handoff_receiver_not_in_team",
                "The receiver is not an agent of the case's team.",
                fields={"to_agent": ["Not an agent of this case's team."]},
            )
        return None
    managed = managed_team_ids(by)
    if not (getattr(by, "is_superuser", False) or case.team_id in managed):
        raise CaseRuleError(
            "handoff_receiver_not_in_team",
            "The receiver is not an agent of the case's team; only a manager can reassign "
            "a case to another team.",
            fields={"to_agent": ["Not an agent of this case's team."]},
        )
    candidates = Team.objects.filter(agents__user=to).order_by("id")
    if not getattr(by, "is_superuser", False):
        candidates = candidates.filter(pk__in=managed)
    if to_team is not None:
        candidates = candidates.filter(pk=to_team.pk)
    teams = list(candidates.distinct())
    if not teams:
        raise CaseRuleError(
            "handoff_receiver_not_in_team",
            "The receiver is not an agent of the case's team or of another team you manage.",
            fields={"to_agent": ["Not an agent of a team you manage."]},
        )
    if len(teams) > 1:
        raise CaseRuleError(
            "handoff_team_required",
            "The receiver works in several of your teams; say which one takes the case.",
            fields={"to_team": ["Choose the team that takes the case."]},
        )
    return teams[0]


def _ping_pong_flags(*, case: Case, to: User, now: datetime) -> list[str]:
    flags = []
    recently_owned = Handoff.objects.filter(
        case=case,
        status=HandoffStatus.ACCEPTED,
        from_agent=to,
        decided_at__gte=now - PING_PONG_WINDOW,
    ).exists()
    if recently_owned:
        flags.append(FLAG_BACK_TO_PREVIOUS_OWNER)
    if case.owner_count + 1 >= PING_PONG_OWNER_COUNT:
        flags.append(FLAG_FOURTH_OWNER)
    return flags


def _local(moment: datetime | None, tz_name: str) -> str:
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = moment.astimezone(tz)
    return f"{local:%A %d %B %Y, %H:%M} ({tz_name})"


def _parse_due(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _case_url(case: Case) -> str:
    return f"{settings.SITE_URL}/cases/{case.ref}/"


def _emit_owner_changed(*, case: Case, handoff: Handoff, now: datetime) -> None:
    """Tell integrators, when the outbox has webhooks (it is looked up at call time)."""
    emit = getattr(notification_services, "webhook_emit", None)
    if emit is None:
        return
    emit(
        scope=f"team:{case.team_id}",
        event="case.owner_changed",
        payload={
            "case": case.ref,
            "handoff": handoff.pk,
            "from_agent": handoff.from_agent_id,
            "owner": {"id": case.owner_id, "name": owner_contact(case.owner)["name"]},
            "owner_since": now.isoformat(),
            "team": case.team_id,
        },
        dedupe_key=f"handoff:{handoff.pk}:owner_changed",
    )


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def handoff_offer(
    *,
    case: Case,
    by: User,
    to: User,
    summary: HandoffSummary,
    reason: str,
    briefed_commitments: list[int] | None = None,
    to_team: Team | None = None,
) -> Handoff:
    """Offer the case to ``to`` with the context summary; the owner stays accountable until
    the receiver accepts."""
    locked = _lock_case(case.pk)
    if locked is None:
        raise NotFoundError(f"No case {case.ref}.")
    case = locked
    if not (case.owner_id == by.pk or is_team_manager(by, case.team_id)):
        raise CaseRuleError(
            "handoff_not_allowed",
            "Only the case's owner or a manager of its team can offer a hand-off.",
            status=403,
        )
    if case.status not in OPEN_STATUSES:
        raise CaseRuleError("case_not_open", "Only an open case can be handed off.", status=409)
    if reason not in HandoffReason.values:
        raise CaseRuleError(
            "invalid_handoff_reason",
            f"Unknown reason {reason!r}.",
            fields={"reason": [f"Choose one of: {', '.join(HandoffReason.values)}."]},
        )
    if to.pk == case.owner_id:
        raise CaseRuleError(
            "handoff_to_self",
            "The case already belongs to this agent.",
            fields={"to_agent": ["Choose someone other than the current owner."]},
        )
    if not to.is_active:
        raise CaseRuleError(
            "handoff_receiver_inactive",
            "The receiver's account is inactive.",
            fields={"to_agent": ["This agent is inactive."]},
        )
    if not AgentProfile.objects.filter(user=to).exists():
        raise CaseRuleError(
            "handoff_receiver_not_agent",
            "The receiver is not an agent.",
            fields={"to_agent": ["Not an agent."]},
        )
    target_team = _receiver_team(case=case, by=by, to=to, to_team=to_team)
    if Handoff.objects.filter(case=case, status=HandoffStatus.OFFERED).exists():
        raise CaseRuleError(
            "handoff_already_open",
            "This case already has an open hand-off offer; cancel it first.",
            status=409,
        )
    gate = handoff_summary_check(
        summary=summary,
        open_commitments=hooks.collect_open_commitments(case),
        briefed_ids=list(briefed_commitments or []),
    )
    if not gate.passed:
        raise CaseRuleError(
            "handoff_summary_incomplete",
            "The hand-off summary is incomplete: the next owner would have to ask the "
            "customer again.",
            fields=gate.errors,
        )
    summary = summary.cleaned()
    now = timezone.now()
    wait = timedelta(minutes=case.team.handoff_accept_minutes)
    remind_at = hooks.add_business_time(case.team, now, wait)
    try:
        with transaction.atomic():
            handoff = Handoff.objects.create(
                case=case,
                from_agent=case.owner,
                to_agent=to,
                offered_by=by,
                to_team=target_team,
                reason=reason,
                customer_needs=summary.customer_needs,
                actions_taken=summary.actions_taken,
                customer_expectations=summary.customer_expectations,
                next_step=summary.next_step,
                briefed_commitments=gate.commitments,
                offered_at=now,
                flags=_ping_pong_flags(case=case, to=to, now=now),
                remind_at=remind_at,
                escalate_at=hooks.add_business_time(case.team, remind_at, wait),
            )
    except IntegrityError:
        raise CaseRuleError(
            "handoff_already_open",
            "This case already has an open hand-off offer; cancel it first.",
            status=409,
        ) from None
    case.updated_at = now
    case.save(update_fields=["updated_at"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_OFFERED,
        actor=by,
        at=now,
        data={
            "handoff_id": handoff.pk,
            "from_agent_id": case.owner_id,
            "to_agent_id": to.pk,
            "reason": reason,
            "flags": handoff.flags,
            **({"to_team_id": target_team.pk} if target_team else {}),
        },
    )
    return handoff


@transaction.atomic
def handoff_accept(*, handoff: Handoff, by: User) -> Handoff:
    """The receiver takes the case: owner, commitments, timeline and notices move together."""
    case, handoff = _locked_pair(handoff)
    if by.pk != handoff.to_agent_id:
        raise CaseRuleError(
            "handoff_not_receiver", "Only the receiver can accept this hand-off.", status=403
        )
    _require_open_offer(handoff)
    if case.status not in OPEN_STATUSES:
        raise CaseRuleError(
            "case_not_open", "The case was resolved or closed; cancel this offer.", status=409
        )
    if case.owner_id != handoff.from_agent_id:  # pragma: no cover - one open offer per case
        raise CaseRuleError("handoff_stale", "The case has changed owner since.", status=409)
    if not by.is_active:
        raise CaseRuleError("handoff_receiver_inactive", "Your account is inactive.", status=403)
    now = timezone.now()
    previous_owner = case.owner
    case.owner = handoff.to_agent
    case.owner_since = now
    case.owner_count += 1
    case.updated_at = now
    update = ["owner", "owner_since", "owner_count", "updated_at"]
    if handoff.to_team is not None:
        case.team = handoff.to_team
        update.append("team")
    case.save(update_fields=update)
    handoff.status = HandoffStatus.ACCEPTED
    handoff.decided_at = now
    handoff.quality_score = handoff_quality_score(handoff)
    handoff.save(update_fields=["status", "decided_at", "quality_score"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_ACCEPTED,
        actor=by,
        at=now,
        data={
            "handoff_id": handoff.pk,
            "from_agent_id": previous_owner.pk,
            "to_agent_id": by.pk,
            "owner_count": case.owner_count,
            **({"to_team_id": handoff.to_team_id} if handoff.to_team_id else {}),
        },
    )
    hooks.run(hooks.handoff_accepted, case=case, handoff=handoff, now=now)
    tz_name = case.customer.time_zone
    promises = [
        {
            "description": item.get("description", ""),
            "due": _local(_parse_due(item.get("due_at")), tz_name),
        }
        for item in handoff.briefed_commitments or []
    ]
    notification_enqueue(
        recipient=customer_recipient(case),
        template="cases/email/handoff_introduction",
        context={
            **customer_context(case),
            "previous_owner_name": owner_contact(previous_owner)["name"],
            "promises": promises,
        },
        dedupe_key=f"handoff:{handoff.pk}:introduction",
        tags=[f"case:{case.pk}", f"handoff:{handoff.pk}"],
    )
    _emit_owner_changed(case=case, handoff=handoff, now=now)
    return handoff


@transaction.atomic
def handoff_decline(*, handoff: Handoff, by: User, reason: str) -> Handoff:
    """The receiver says no, with a reason; the owner keeps the case."""
    case, handoff = _locked_pair(handoff)
    if by.pk != handoff.to_agent_id:
        raise CaseRuleError(
            "handoff_not_receiver", "Only the receiver can decline this hand-off.", status=403
        )
    _require_open_offer(handoff)
    reason = (reason or "").strip()
    if not reason:
        raise CaseRuleError(
            "decline_reason_required",
            "Say why you decline, so the owner can find someone else.",
            fields={"reason": ["This field may not be blank."]},
        )
    now = timezone.now()
    handoff.status = HandoffStatus.DECLINED
    handoff.decline_reason = reason
    handoff.decided_at = now
    handoff.save(update_fields=["status", "decline_reason", "decided_at"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_DECLINED,
        actor=by,
        at=now,
        data={"handoff_id": handoff.pk, "to_agent_id": by.pk, "reason": reason},
    )
    # The owner may think the case has moved on: tell them it is still theirs.
    notification_enqueue(
        recipient=agent_recipient(case.owner),
        template="cases/email/handoff_declined",
        context={
            "case_ref": case.ref,
            "case_subject": case.subject,
            "case_url": _case_url(case),
            "owner_name": owner_contact(case.owner)["name"],
            "receiver_name": owner_contact(handoff.to_agent)["name"],
            "decline_reason": reason,
        },
        dedupe_key=f"handoff:{handoff.pk}:declined",
        tags=[f"handoff:{handoff.pk}"],
    )
    return handoff


@transaction.atomic
def handoff_cancel(*, handoff: Handoff, by: User) -> Handoff:
    """The offerer (the owner, or a manager of the team) withdraws the offer."""
    case, handoff = _locked_pair(handoff)
    if by.pk not in (handoff.offered_by_id, handoff.from_agent_id) and not is_team_manager(
        by, case.team_id
    ):
        raise CaseRuleError(
            "handoff_not_offerer",
            "Only whoever offered the hand-off, the owner or a manager can cancel it.",
            status=403,
        )
    _require_open_offer(handoff)
    now = timezone.now()
    handoff.status = HandoffStatus.CANCELLED
    handoff.decided_at = now
    handoff.save(update_fields=["status", "decided_at"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_CANCELLED,
        actor=by,
        at=now,
        data={"handoff_id": handoff.pk, "to_agent_id": handoff.to_agent_id},
    )
    return handoff


@dataclass(frozen=True)
class HandoffRubric:
    """A manager's scores, 1–5 each."""

    context_complete: int
    next_step_clear: int
    commitments_carried: int
    customer_informed: int


@transaction.atomic
def handoff_review(
    *, handoff: Handoff, by: User, rubric: HandoffRubric, comment: str = ""
) -> HandoffReview:
    """A manager of the case's team scores a decided hand-off (once per manager)."""
    case, handoff = _locked_pair(handoff)
    if not is_team_manager(by, case.team_id):
        raise CaseRuleError(
            "handoff_review_not_manager",
            "Only a manager of the team reviews hand-offs.",
            status=403,
        )
    if handoff.status == HandoffStatus.OFFERED:
        raise CaseRuleError(
            "handoff_not_decided", "Review a hand-off once it is decided.", status=409
        )
    errors = {
        name: ["Score from 1 to 5."]
        for name in (
            "context_complete",
            "next_step_clear",
            "commitments_carried",
            "customer_informed",
        )
        if not isinstance(getattr(rubric, name), int) or not 1 <= getattr(rubric, name) <= 5
    }
    if errors:
        raise CaseRuleError("invalid_review_scores", "Each score is from 1 to 5.", fields=errors)
    if HandoffReview.objects.filter(handoff=handoff, reviewer=by).exists():
        raise CaseRuleError(
            "handoff_already_reviewed", "You have reviewed this hand-off already.", status=409
        )
    return HandoffReview.objects.create(
        handoff=handoff,
        reviewer=by,
        context_complete=rubric.context_complete,
        next_step_clear=rubric.next_step_clear,
        commitments_carried=rubric.commitments_carried,
        customer_informed=rubric.customer_informed,
        comment=(comment or "").strip(),
        reviewed_at=timezone.now(),
    )


@transaction.atomic
def handoff_customer_acknowledge(*, case: Case) -> Handoff | None:
    """The customer, from their signed link page, acknowledges their new owner.

    Acknowledges the accepted hand-off that made the current owner; idempotent (a second
    click changes nothing). None when there is nothing to acknowledge (the owner has had the
    case since intake).
    """
    locked = _lock_case(case.pk)
    if locked is None:
        raise NotFoundError("No such case.")
    case = locked
    latest = (
        Handoff.objects.filter(case=case, status=HandoffStatus.ACCEPTED)
        .order_by("-decided_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return None
    handoff = _lock_handoff(latest)
    assert handoff is not None
    if handoff.to_agent_id != case.owner_id:  # pragma: no cover - ownership moves by hand-off
        return None
    if handoff.customer_acknowledged_at is not None:
        return handoff
    now = timezone.now()
    handoff.customer_acknowledged_at = now
    handoff.quality_score = handoff_quality_score(handoff)
    handoff.save(update_fields=["customer_acknowledged_at", "quality_score"])
    case_event_record(
        case=case,
        kind=EventKind.OWNER_ACKNOWLEDGED,
        actor=None,
        at=now,
        data={"handoff_id": handoff.pk, "owner_id": case.owner_id},
    )
    return handoff


def handoff_on_case_closed(*, case: Case, by: User | None, now: datetime) -> Handoff | None:
    """A ``hooks.case_closed`` handler: an offer still waiting when its case is resolved or
    closed expires (nobody can accept a case that is over), in the closing transaction."""
    waiting = Handoff.objects.filter(case_id=case.pk, status=HandoffStatus.OFFERED)
    ids = list(waiting.values_list("pk", flat=True))
    if not ids:
        return None
    handoff = _lock_handoff(ids[0])
    if handoff is None or handoff.status != HandoffStatus.OFFERED:
        return None
    handoff.status = HandoffStatus.EXPIRED
    handoff.decided_at = now
    handoff.save(update_fields=["status", "decided_at"])
    case_event_record(
        case=case,
        kind=EventKind.HANDOFF_EXPIRED,
        actor=by,
        at=now,
        data={"handoff_id": handoff.pk, "to_agent_id": handoff.to_agent_id, "why": case.status},
    )
    return handoff


@transaction.atomic
def handoff_record_commitment_missed(*, case_id: int, commitment_id: int) -> Handoff | None:
    """A commitment carried by a hand-off was missed later: flag the hand-off for the audit
    and lower its score. The commitments module calls this when it marks a promise missed."""
    candidates = Handoff.objects.filter(case_id=case_id, status=HandoffStatus.ACCEPTED).order_by(
        "-decided_at", "-id"
    )
    for handoff in candidates.select_for_update(of=("self",)):
        if any(int(c.get("id", -1)) == int(commitment_id) for c in handoff.briefed_commitments):
            if FLAG_CARRIED_COMMITMENT_MISSED not in handoff.flags:
                handoff.flags = [*handoff.flags, FLAG_CARRIED_COMMITMENT_MISSED]
                handoff.quality_score = handoff_quality_score(handoff)
                handoff.save(update_fields=["flags", "quality_score"])
            return handoff
    return None


@transaction.atomic
def handoff_remind_or_escalate(*, handoff_id: int) -> list[str]:
    """The sweep's step for one waiting offer: remind the receiver once it is due, escalate to
    the team's managers once that is due; an offer whose case has closed expires instead.
    Returns what it did (``["reminded", "escalated"]`` or ``["expired"]``).

    Rows another sweep (or an accept) holds are skipped, not waited for; every notice has a
    dedupe key and every step is recorded on the row, so running it twice does nothing more.
    """
    case_id = Handoff.objects.filter(pk=handoff_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return []
    case = _lock_case(case_id, skip_locked=True)
    if case is None:
        return []
    handoff = _lock_handoff(handoff_id, skip_locked=True)
    if handoff is None or handoff.status != HandoffStatus.OFFERED:
        return []
    now = timezone.now()
    if case.status not in OPEN_STATUSES:
        # Closed while the offer waited: nobody is reminded about a case that is over.
        handoff_on_case_closed(case=case, by=None, now=now)
        return ["expired"]
    done: list[str] = []
    receiver = owner_contact(handoff.to_agent)
    sender = owner_contact(handoff.from_agent)
    context = {
        "case_ref": case.ref,
        "case_subject": case.subject,
        "case_url": _case_url(case),
        "receiver_name": receiver["name"],
        "sender_name": sender["name"],
        "reason": handoff.get_reason_display(),
        "offered_at": _local(handoff.offered_at, case.team.time_zone),
        "next_step": handoff.next_step,
    }
    if handoff.reminded_at is None and handoff.remind_at is not None and handoff.remind_at <= now:
        notification_enqueue(
            recipient=agent_recipient(handoff.to_agent),
            template="cases/email/handoff_reminder",
            context=context,
            dedupe_key=f"handoff:{handoff.pk}:reminder",
            tags=[f"handoff:{handoff.pk}"],
        )
        handoff.reminded_at = now
        case_event_record(
            case=case,
            kind=EventKind.HANDOFF_REMINDED,
            actor=None,
            at=now,
            data={"handoff_id": handoff.pk, "to_agent_id": handoff.to_agent_id},
        )
        done.append("reminded")
    if (
        handoff.escalated_at is None
        and handoff.escalate_at is not None
        and handoff.escalate_at <= now
    ):
        managers = list(case.team.managers.filter(is_active=True).order_by("id"))
        for manager in managers:
            notification_enqueue(
                recipient=agent_recipient(manager, kind="manager"),
                template="cases/email/handoff_escalation",
                context={**context, "manager_name": owner_contact(manager)["name"]},
                dedupe_key=f"handoff:{handoff.pk}:escalation:{manager.pk}",
                tags=[f"handoff:{handoff.pk}"],
            )
        handoff.escalated_at = now
        case_event_record(
            case=case,
            kind=EventKind.HANDOFF_ESCALATED,
            actor=None,
            at=now,
            data={"handoff_id": handoff.pk, "manager_ids": [m.pk for m in managers]},
        )
        done.append("escalated")
    if done:
        handoff.save(update_fields=["reminded_at", "escalated_at"])
    return done


__all__ = [
    "GateResult",
    "HandoffRubric",
    "HandoffSummary",
    "handoff_accept",
    "handoff_cancel",
    "handoff_customer_acknowledge",
    "handoff_decline",
    "handoff_offer",
    "handoff_on_case_closed",
    "handoff_quality_score",
    "handoff_record_commitment_missed",
    "handoff_remind_or_escalate",
    "handoff_review",
    "handoff_summary_check",
]
