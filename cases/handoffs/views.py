"""The hand-off pages: offering from the case page, accepting, declining or cancelling an
offer, and the manager's audit with its CSV export and reviews."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from caseowner import parsing
from caseowner.csv_export import csv_response
from caseowner.db_router import replica_reads
from caseowner.errors import NotFoundError, RuleError
from cases import hooks
from cases.forms import AuditFilterForm, DeclineForm, ReviewForm
from cases.handoffs import outcomes as handoff_outcomes
from cases.handoffs import selectors as handoff_selectors
from cases.handoffs import services as handoff_services
from cases.handoffs.gate import HandoffRubric
from cases.models import Handoff, HandoffReason, HandoffStatus
from cases.pages import (
    agent_time_zone,
    case_or_404,
    case_url,
    offer_form,
    render_case_page,
    render_in,
    show_rule_error,
)
from cases.permissions import manages_any_team


def _handoff_or_404(request: HttpRequest, handoff_id: int) -> Handoff:
    try:
        return handoff_selectors.handoff_get(user=request.user, handoff_id=handoff_id)
    except NotFoundError:
        raise Http404("No such hand-off.") from None


# --- offering and answering --------------------------------------------------------------------


@login_required
@require_POST
def case_offer(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = offer_form(case, request.user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            handoff_services.handoff_offer(
                case=case,
                by=request.user,
                to=handoff_selectors.handoff_receiver_by_id(data["to_agent"]),
                reason=data["reason"],
                summary=form.summary(),
                briefed_commitments=data["briefed_commitments"],
                to_team=handoff_selectors.handoff_team_by_id(data.get("to_team")),
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(
                request,
                gettext("Hand-off offered. You stay the owner until your colleague accepts."),
            )
            return redirect(case_url(case))
    return render_case_page(request, case, page_forms={"offer_form": form}, status=400)


@login_required
@require_POST
def offer_accept(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = _handoff_or_404(request, handoff_id)
    try:
        handoff = handoff_services.handoff_accept(handoff=handoff, by=request.user)
    except RuleError as exc:
        show_rule_error(request, exc)
        return redirect("queue")
    messages.success(
        request,
        gettext("You now own %(ref)s. Read the brief below.") % {"ref": handoff.case.ref},
    )
    return redirect(case_url(handoff.case))


@login_required
@require_POST
def offer_decline(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = _handoff_or_404(request, handoff_id)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Say why you decline the hand-off."))
        return redirect("queue")
    try:
        handoff_services.handoff_decline(
            handoff=handoff, by=request.user, reason=form.cleaned_data["reason"]
        )
    except RuleError as exc:
        show_rule_error(request, exc)
        return redirect("queue")
    messages.success(
        request,
        gettext("You declined %(ref)s; it stays with its owner.") % {"ref": handoff.case.ref},
    )
    return redirect("queue")


@login_required
@require_POST
def offer_cancel(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = _handoff_or_404(request, handoff_id)
    try:
        handoff_services.handoff_cancel(handoff=handoff, by=request.user)
    except RuleError as exc:
        show_rule_error(request, exc)
    else:
        messages.success(request, gettext("The hand-off offer is cancelled."))
    return redirect(case_url(handoff.case))


# --- the manager's audit -----------------------------------------------------------------------


def _require_manager(request: HttpRequest) -> None:
    if not manages_any_team(request.user):
        raise Http404("Only managers see the hand-off audit.")


_NOTHING = datetime(2000, 1, 1, tzinfo=UTC)  # an empty period: [_NOTHING, _NOTHING)


def _audit_filters(
    request: HttpRequest,
) -> tuple[AuditFilterForm, handoff_selectors.HandoffAuditFilters]:
    choices = handoff_selectors.audit_choices(user=request.user)
    form = AuditFilterForm(request.GET or None, teams=choices.teams, agents=choices.agents)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    try:
        offered_between = hooks.report_day_bounds(
            data.get("date_from"), data.get("date_to"), timezone.now().date()
        )
    except RuleError as exc:
        # the reports' period refuses these days: say so, and list nothing
        form.add_error("date_from", exc.message)
        offered_between = (_NOTHING, _NOTHING)
    filters = handoff_selectors.HandoffAuditFilters(
        team_id=data.get("team"),
        agent_id=data.get("agent"),
        offered_between=offered_between,
        flagged=True if data.get("flagged") else None,
        score_below=data.get("score_below"),
        status=data.get("status") or None,
    )
    return form, filters


def _review_scores(form: ReviewForm) -> list[dict[str, Any]]:
    """The review form's score fields, their options written once for the page: drawn in
    every hand-off's card, the options were most of the page's rendering time."""
    return [
        {
            "name": field.name,
            "label": field.label,
            "options": format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (value, mark_safe(" selected") if value == 3 else "", label)
                    for value, label in ReviewForm.SCORES
                ),
            ),
        }
        for field in form
        if field.name != "comment"
    ]


# An id no hand-off will have (18 digits, the longest a URL takes): the review form is drawn
# once for it.
_ANY_ID = 987654321987654321


def _review_forms(request: HttpRequest, handoffs: Any, *, tz_name: str) -> None:
    """Each hand-off's review form (``h.review_form``): drawn once for the page, then given
    each card's id, instead of every card running the form's tags and loops again."""
    drawn = render_to_string(
        "cases/_audit_review.html",
        {"pk": _ANY_ID, "review_scores": _review_scores(ReviewForm())},
        request=request,
    )
    # the labels every card shows, translated once for the page (a model's
    # ``get_FOO_display`` translates every choice of the field on each call)
    statuses = {value: str(label) for value, label in HandoffStatus.choices}
    reasons = {value: str(label) for value, label in HandoffReason.choices}
    offered, decided = gettext("offered %(at)s"), gettext("decided %(at)s")
    try:
        tz: Any = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = UTC  # as render_in reads it
    for h in handoffs:
        at = timezone.localtime(h.offered_at, tz)
        h.offered_label = offered % {"at": dateformat.format(at, "D d M Y H:i")}
        if h.decided_at:
            at = timezone.localtime(h.decided_at, tz)
            h.decided_label = decided % {"at": dateformat.format(at, "D d M H:i")}
        h.review_form = mark_safe(drawn.replace(str(_ANY_ID), str(h.pk)))  # noqa: S308 - drawn escaped above
        h.status_label = statuses.get(h.status, h.status)
        h.reason_label = reasons.get(h.reason, h.reason)
        h.case_url = reverse("case-detail", args=[h.case.ref])


_FILTER_FIELDS: dict[str, str] = {}


def _filter_fields(form: AuditFilterForm) -> str:
    """The filter form's fields as HTML, drawn once per language, choices, values and
    errors: a select drawn by Django's widget templates runs two includes per option."""
    key = repr(
        [translation.get_language()]
        + [
            (
                field.name,
                field.value(),
                list(field.errors),
                [(value, str(label)) for value, label in getattr(field.field, "choices", [])],
            )
            for field in form
        ]
    )
    drawn = _FILTER_FIELDS.get(key)
    if drawn is None:
        if len(_FILTER_FIELDS) > 500:
            _FILTER_FIELDS.clear()
        drawn = _FILTER_FIELDS[key] = render_to_string(
            "cases/_audit_filter_fields.html", {"form": form}
        )
    return mark_safe(drawn)  # noqa: S308 - drawn by the template, escaped there


@login_required
@require_safe
@replica_reads
def handoff_audit(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form, filters = _audit_filters(request)
    rows = handoff_selectors.handoff_audit_rows(user=request.user, filters=filters)
    summary = handoff_selectors.handoff_audit_summary(user=request.user, filters=filters)
    paginator = Paginator(rows, 25)
    # The summary counted the same rows: the paginator does not count them again.
    paginator.__dict__["count"] = summary["total"]
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    bars = [
        (gettext("Accepted"), summary["accepted"]),
        (gettext("Declined"), summary["declined"]),
        (gettext("Waiting"), summary["waiting"]),
        (gettext("Flagged"), summary["flagged"]),
        (gettext("Acknowledged"), summary["acknowledged"]),
    ]
    tz_name = agent_time_zone(request.user)
    _review_forms(request, page_obj, tz_name=tz_name)
    context = {
        "form": form,
        "filter_fields": _filter_fields(form),
        "page_obj": page_obj,
        "summary": summary,
        "bars": bars,
        "bars_max": max(value for _, value in bars),
        "extra_query": ("&" + query.urlencode()) if query else "",
        "csv_query": query.urlencode(),
    }
    return render_in(request, "cases/handoff_audit.html", context, tz_name=tz_name)


@login_required
@require_safe
@replica_reads
def handoff_audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_manager(request)
    _form, filters = _audit_filters(request)
    rows = handoff_selectors.handoff_audit_rows(user=request.user, filters=filters)
    return csv_response(
        handoff_selectors.handoff_audit_csv_rows(rows.iterator(chunk_size=500)),
        filename="handoffs.csv",
    )


@login_required
@require_POST
def handoff_review(request: HttpRequest, handoff_id: int) -> HttpResponse:
    _require_manager(request)
    form = ReviewForm(request.POST)
    # a path on this site only: never another host, nor a word ``redirect`` tries to reverse
    back = parsing.local_url(request.POST.get("next"), default=reverse("handoff-audit"))
    handoff = _handoff_or_404(request, handoff_id)
    if not form.is_valid():
        messages.error(request, gettext("Give each score from 1 to 5."))
        return redirect(back)
    data = form.cleaned_data
    try:
        handoff_outcomes.handoff_review(
            handoff=handoff,
            by=request.user,
            rubric=HandoffRubric.of(data),
            comment=data["comment"],
        )
    except RuleError as exc:
        show_rule_error(request, exc)
    else:
        messages.success(
            request,
            gettext("Review of the hand-off of %(ref)s saved.") % {"ref": handoff.case.ref},
        )

    return redirect(back)
