"""After a hand-off is decided: a manager's review of it, and the customer acknowledging
their new owner. One transaction each."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from caseowner.errors import NotFoundError
from caseowner.text import REASON_MAX, require_clean_text
from caseowner.types import User
from cases.errors import CaseRuleError
from cases.handoffs.gate import HandoffRubric, handoff_quality_score
from cases.handoffs.services import _locked_pair
from cases.locking import lock_case, lock_handoff
from cases.models import Case, EventKind, Handoff, HandoffReview, HandoffStatus
from cases.permissions import is_team_manager
from cases.services import case_event_record


@transaction.atomic
def handoff_review(
    *, handoff: Handoff, by: User, rubric: HandoffRubric, comment: str = ""
) -> HandoffReview:
    """A manager of the case's team scores a decided hand-off (once per manager)."""
    require_clean_text({"comment": (comment or "", REASON_MAX, True)})
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
    errors = rubric.errors()
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
    locked = lock_case(case.pk)
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
    handoff = lock_handoff(latest)
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
