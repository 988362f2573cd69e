"""The one question at close: asked once per case, answered from a signed link.

When a case is resolved or closed (``hooks.case_closed``) its customer is asked, through the
one door for customer notices and in their language, "Did {owner} take care of this for
you?": never for a case closed as spam or as a duplicate, never twice for one case (a
reopened case closing again asks nothing more: the row is unique per case), and never when
there is no address to ask at (a call would be a survey, not a service).

The answer is one of 1–5 with an optional comment, given on a page without logging in. The
link's token is signed and names the one answer row: it gives one answer, which the customer
may replace within ``ANSWER_CHANGE_WINDOW`` of their first; after that, or when the question
was never answered within ``QUESTION_OPEN_FOR``, the page answers 410. A low score or any
comment tells the team's managers, with the case's link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from caseowner import text
from caseowner.types import User
from cases import hooks
from cases.errors import CaseRuleError
from cases.models import (
    SATISFACTION_COMMENT_MAX,
    Case,
    HandoffStatus,
    SatisfactionAnswer,
    SatisfactionHolder,
)
from cases.notices import (
    customer_context,
    customer_notice_enqueue,
    customer_route,
    staff_case_url,
)
from cases.recipients import agent_recipient, display_name
from notifications.services import notification_enqueue

ANSWER_CHANGE_WINDOW = timedelta(days=7)
QUESTION_OPEN_FOR = timedelta(days=30)
LOW_SCORE = 2  # a score at or below it alerts the managers
SCORES = range(1, 6)

_SALT = "caseowner.satisfaction.v1"


def answer_token(answer_id: int) -> str:
    """The signed token of the answer link: the row's id, nothing personal."""
    return signing.Signer(salt=_SALT).sign_object({"a": answer_id})


def read_answer_token(token: str) -> int | None:
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    return int(data["a"])


def answer_url(answer_id: int) -> str:
    return f"{settings.SITE_URL}/satisfaction/{answer_token(answer_id)}/"


def _holders(case: Case) -> tuple[list[int], int]:
    """Every owner who held the case (the first owner, each hand-off's giver and taker, the
    final owner) in the order they held it, and the accepted hand-offs: one query."""
    moves = list(
        case.handoffs.filter(status=HandoffStatus.ACCEPTED)
        .order_by("decided_at", "pk")
        .values_list("from_agent_id", "to_agent_id")
    )
    ids = [agent for move in moves for agent in move] + [case.owner_id]
    return list(dict.fromkeys(ids)), len(moves)


def satisfaction_on_case_closed(*, case: Case, by: User, now: datetime) -> None:
    """The ``case_closed`` handler: ask the question once, in the closing transaction (the
    case's row is locked), as the product's own notice (``by`` None: closing is never refused
    for the agent's notice limit)."""
    if case.closed_as or case.customer.erased_at is not None:
        return
    if customer_route(case.customer).no_route:
        return
    if SatisfactionAnswer.objects.filter(case_id=case.pk).exists():
        return
    holders, handoffs = _holders(case)
    outcomes = hooks.case_promise_outcomes(case)
    answer = SatisfactionAnswer.objects.create(
        case=case,
        team_id=case.team_id,
        final_owner_id=case.owner_id,
        asked_at=now,
        handoffs=handoffs,
        promises_kept=outcomes.kept,
        promises_renegotiated=outcomes.renegotiated,
        promises_missed=outcomes.missed,
    )
    SatisfactionHolder.objects.bulk_create(
        [
            SatisfactionHolder(answer=answer, agent_id=agent, final=agent == case.owner_id)
            for agent in holders
        ]
    )
    url = answer_url(answer.pk)
    context = customer_context(case)
    context.update(
        {
            "owner_name": display_name(case.owner),
            "answer_url": url,
            "score_urls": [(score, f"{url}?score={score}") for score in SCORES],
        }
    )
    customer_notice_enqueue(
        case=case,
        by=None,
        template="cases/email/satisfaction_question",
        context=context,
        dedupe_key=f"case:{case.pk}:satisfaction",
        tags=[f"satisfaction:{answer.pk}"],
        task_if_no_route=False,
    )


def satisfaction_answer_for_token(token: str) -> SatisfactionAnswer:
    """The answer row a token names (404 ``not_found`` for a token that names none)."""
    answer_id = read_answer_token(token)
    answer = (
        SatisfactionAnswer.objects.select_related("case__customer", "final_owner__agent_profile")
        .filter(pk=answer_id)
        .first()
        if answer_id is not None
        else None
    )
    if answer is None:
        raise CaseRuleError("not_found", "This link is not valid.", status=404)
    return answer


def answer_closed_reason(answer: SatisfactionAnswer, now: datetime) -> str:
    """Why the answer can no longer be given or changed ("" while it can)."""
    if answer.first_answered_at is not None:
        if now > answer.first_answered_at + ANSWER_CHANGE_WINDOW:
            return "answer_final"
        return ""
    if now > answer.asked_at + QUESTION_OPEN_FOR:
        return "question_closed"
    return ""


CLOSED_MESSAGES = {
    "answer_final": "The answer was given more than 7 days ago and can no longer be changed.",
    "question_closed": "The question is closed: it could be answered for 30 days.",
}


@transaction.atomic
def satisfaction_answer(
    *, token: str, score: int, comment: str = "", revision: int | None = None
) -> SatisfactionAnswer:
    """Record the customer's answer (or replace theirs within the window). ``revision``: the
    one the form was shown at; a form left open while the answer was changed elsewhere is
    refused (409 ``answer_changed``) instead of silently overwriting the newer answer."""
    now = timezone.now()
    answer_id = satisfaction_answer_for_token(token).pk
    answer = (
        SatisfactionAnswer.objects.select_for_update(of=("self",))
        .select_related("case__team")
        .get(pk=answer_id)
    )
    if score not in SCORES:
        raise CaseRuleError(
            "invalid_score",
            "Choose a score from 1 to 5.",
            fields={"score": ["Choose a score from 1 to 5."]},
        )
    comment = comment.strip()
    text.require_clean_text({"comment": (comment, SATISFACTION_COMMENT_MAX, True)})
    closed = answer_closed_reason(answer, now)
    if closed:
        raise CaseRuleError(closed, CLOSED_MESSAGES[closed], status=410)
    if revision is not None and revision != answer.revision:
        raise CaseRuleError(
            "answer_changed",
            "The answer was changed since this page was opened; open the link again.",
            status=409,
        )
    answer.score = score
    answer.comment = comment
    answer.answered_at = now
    answer.first_answered_at = answer.first_answered_at or now
    answer.revision += 1
    answer.save(update_fields=["score", "comment", "answered_at", "first_answered_at", "revision"])
    if score <= LOW_SCORE or comment:
        _alert_managers(answer)
    return answer


def _alert_managers(answer: SatisfactionAnswer) -> None:
    """Each active manager of the team hears of a low score or a comment, with the case's
    link: one alert per answer given (a changed answer is news again)."""
    case = answer.case
    owner = display_name(answer.final_owner)
    for manager in case.team.managers.filter(is_active=True).order_by("pk"):
        notification_enqueue(
            recipient=agent_recipient(manager, kind="manager"),
            template="cases/email/satisfaction_alert",
            context={
                "case_ref": case.ref,
                "case_subject": case.subject,
                "team_name": case.team.name,
                "owner_name": owner,
                "manager_name": display_name(manager),
                "score": answer.score,
                "low": (answer.score or 0) <= LOW_SCORE,
                "comment": answer.comment,
                "handoffs": answer.handoffs,
                "promises_missed": answer.promises_missed,
                "promises_renegotiated": answer.promises_renegotiated,
                "case_url": staff_case_url(case),
            },
            dedupe_key=f"satisfaction:{answer.pk}:r{answer.revision}:manager:{manager.pk}",
            tags=[f"case:{case.pk}", f"satisfaction:{answer.pk}"],
        )


def satisfaction_on_customer_erased(*, case_ids: list[int], placeholder: str) -> list[str]:
    """Erasure: the comment goes (the customer's words); the score, its date and whom it
    counts for stay, anonymous with the case. The tags name the question and the alerts."""
    answers = SatisfactionAnswer.objects.filter(case_id__in=case_ids)
    ids = list(answers.order_by("pk").values_list("pk", flat=True))
    answers.exclude(comment="").update(comment=placeholder)
    return [f"satisfaction:{pk}" for pk in ids]
