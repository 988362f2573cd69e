"""The customer's answer page behind the question's link: no login, in their language.

A GET never records anything (mail scanners open links): the score in the link is only
preselected, and the customer's "Send" records it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.throttling import ScopedRateThrottle

from caseowner.errors import RuleError
from cases.models import SATISFACTION_COMMENT_MAX, SatisfactionAnswer
from cases.pages import render_in
from cases.recipients import display_name
from cases.satisfaction import services


class _CustomerLinkScope:
    """The customer link's throttle (same counters as the link page and API)."""

    throttle_scope = "customer_link"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def answer_page(request: HttpRequest, token: str) -> HttpResponse:
    if not ScopedRateThrottle().allow_request(request, _CustomerLinkScope()):  # type: ignore[arg-type]
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_throttled.html", status=429)
    try:
        answer = services.satisfaction_answer_for_token(token)
    except RuleError:
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_link_invalid.html", status=404)
    with translation.override(answer.case.customer.language or settings.LANGUAGE_CODE):
        return _answer_page(request, token, answer)


def _answer_page(request: HttpRequest, token: str, answer: SatisfactionAnswer) -> HttpResponse:
    status, error, thanks = 200, "", False
    chosen = _int(request.GET.get("score")) or answer.score
    comment = answer.comment
    if request.method == "POST":
        chosen = _int(request.POST.get("score"))
        comment = request.POST.get("comment", "")
        try:
            answer = services.satisfaction_answer(
                token=token,
                score=chosen or 0,
                comment=comment,
                revision=_int(request.POST.get("revision")),
            )
        except RuleError as exc:
            status, error = exc.status_code, exc.code
        else:
            thanks = True
    closed = services.answer_closed_reason(answer, timezone.now())
    if closed and status == 200:
        status = 410
    customer = answer.case.customer
    return render_in(
        request,
        "cases/satisfaction_answer.html",
        {
            "answer": answer,
            "case": answer.case,
            "owner_name": display_name(answer.final_owner),
            "scores": list(services.SCORES),
            "chosen": chosen if chosen in services.SCORES else None,
            "comment": comment,
            "comment_max": SATISFACTION_COMMENT_MAX,
            "error": error,
            "closed": closed,
            "thanks": thanks,
            "change_until": (
                answer.first_answered_at + services.ANSWER_CHANGE_WINDOW
                if answer.first_answered_at
                else None
            ),
        },
        tz_name=customer.time_zone,
        status=status,
    )
