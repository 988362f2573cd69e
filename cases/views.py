"""The server-rendered pages: My queue, the case page, intake, the customer link page and the
manager's hand-off audit.

Views only read forms, call services and selectors, and render. A ``RuleError`` from a
service is shown with the same message the API returns, on the form that caused it.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.throttling import ScopedRateThrottle

from caseowner.errors import NotFoundError, RuleError
from cases import handoff_selectors, handoff_services, hooks, page_selectors, selectors, services
from cases.forms import (
    AuditFilterForm,
    CaseOpenForm,
    CaseUpdateForm,
    DeclineForm,
    HandoffOfferForm,
    NoteForm,
    ReviewForm,
)
from cases.links import customer_url
from cases.models import AgentProfile, Case, Customer, HandoffStatus, Team
from cases.permissions import (
    can_change_case,
    first_team_time_zone,
    is_team_manager,
    managed_team_ids,
    team_ids_visible,
)

# --- shared helpers (the commitments pages use them too) -------------------------------------


def agent_time_zone(user: Any) -> str:
    """The reader's local time for agents: the time zone of their (first) team."""
    return first_team_time_zone(user) or settings.TIME_ZONE


def render_in(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    tz_name: str,
    status: int = 200,
) -> HttpResponse:
    """Render with every datetime shown in ``tz_name`` (the reader's local time)."""
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz, tz_name = zoneinfo.ZoneInfo("UTC"), "UTC"
    with timezone.override(tz):
        return render(request, template, {**context, "tz_name": tz_name}, status=status)


FIELD_ALIASES = {"to": "to_agent", "text": "text", "due": "due_at"}


def show_rule_error(request: HttpRequest, exc: RuleError, form: forms.Form | None = None) -> None:
    """The service's message as a page message, its field details on the form's fields."""
    messages.error(request, exc.message)
    if form is None:
        for name, msgs in exc.fields.items():
            for msg in msgs:
                messages.error(request, f"{name.replace('_', ' ').capitalize()}: {msg}")
        return
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    for name, msgs in exc.fields.items():
        alias = FIELD_ALIASES.get(name, name)
        target = alias if alias in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)


def case_or_404(user: Any, ref: str) -> Case:
    try:
        return selectors.case_get(user=user, ref=ref)
    except NotFoundError:
        raise Http404(f"No case {ref}.") from None


def case_url(case: Case) -> str:
    return reverse("case-detail", args=[case.ref])


# --- My queue --------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    page_obj, rows = page_selectors.queue_page(user=request.user, page=request.GET.get("page"))
    offers = list(handoff_selectors.handoff_offers_waiting_for(user=request.user))
    context = {
        "page_obj": page_obj,
        "rows": rows,
        "offers": offers,
        "decline_form": DeclineForm(),
    }
    return render_in(request, "cases/queue.html", context, tz_name=agent_time_zone(request.user))


@login_required
@require_POST
def offer_accept(request: HttpRequest, handoff_id: int) -> HttpResponse:
    try:
        handoff = handoff_selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        handoff = handoff_services.handoff_accept(handoff=handoff, by=request.user)
    except NotFoundError:
        raise Http404("No such hand-off.") from None
    except RuleError as exc:
        show_rule_error(request, exc)
        return redirect("queue")
    messages.success(request, f"You now own {handoff.case.ref}. Read the brief below.")
    return redirect(case_url(handoff.case))


@login_required
@require_POST
def offer_decline(request: HttpRequest, handoff_id: int) -> HttpResponse:
    form = DeclineForm(request.POST)
    try:
        handoff = handoff_selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        if not form.is_valid():
            messages.error(request, "Say why you decline the hand-off.")
            return redirect("queue")
        handoff_services.handoff_decline(
            handoff=handoff, by=request.user, reason=form.cleaned_data["reason"]
        )
    except NotFoundError:
        raise Http404("No such hand-off.") from None
    except RuleError as exc:
        show_rule_error(request, exc)
        return redirect("queue")
    messages.success(request, f"You declined {handoff.case.ref}; it stays with its owner.")
    return redirect("queue")


@login_required
@require_POST
def offer_cancel(request: HttpRequest, handoff_id: int) -> HttpResponse:
    try:
        handoff = handoff_selectors.handoff_get(user=request.user, handoff_id=handoff_id)
        handoff_services.handoff_cancel(handoff=handoff, by=request.user)
    except NotFoundError:
        raise Http404("No such hand-off.") from None
    except RuleError as exc:
        show_rule_error(request, exc)
    else:
        messages.success(request, "The hand-off offer is cancelled.")
    return redirect(case_url(handoff.case))


# --- the case page ---------------------------------------------------------------------------


def _offer_form(case: Case, user: Any, data: Any = None) -> HandoffOfferForm:
    """The brief form: the case's team's agents; a manager of the team may also hand the case
    to an agent of another team they manage."""
    managed = managed_team_ids(user) if is_team_manager(user, case.team_id) else set()
    other_teams = managed - {case.team_id}
    profiles = (
        AgentProfile.objects.filter(teams__in={case.team_id, *other_teams}, user__is_active=True)
        .distinct()
        .order_by("display_name")
        if other_teams
        else selectors.team_agents(team_id=case.team_id)
    )
    agents = [
        (p.user_id, p.display_name + (f" — {p.job_title}" if p.job_title else ""))
        for p in profiles
        if p.user_id != case.owner_id
    ]
    teams = (
        list(Team.objects.filter(pk__in=managed).order_by("name").values_list("pk", "name"))
        if other_teams
        else []
    )
    choices = [
        (c.id, f"{c.description} (due {timezone.localtime(c.due_at):%a %d %b %H:%M})")
        for c in hooks.collect_open_commitments(case)
    ]
    return HandoffOfferForm(data, agents=agents, commitments=choices, teams=teams)


def render_case_page(
    request: HttpRequest,
    case: Case,
    *,
    page_forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page; a POST that failed re-renders it with its bound form and errors."""
    page_forms = page_forms or {}
    tz_name = case.team.time_zone
    with timezone.override(zoneinfo.ZoneInfo(tz_name)):
        events, older = page_selectors.timeline_page(case=case, before=request.GET.get("before"))
        handoffs = selectors.case_handoffs(case=case)
        can_change = can_change_case(request.user, case)
        panels = hooks.collect_page_panels(
            request=request, case=case, can_change=can_change, page_forms=page_forms
        )
        history = selectors.customer_history(case=case)
        context = {
            "case": case,
            "customer": case.customer,
            "owner": services.owner_contact(case.owner),
            "history": history,
            "events": events,
            "older_cursor": older,
            "handoffs": handoffs,
            "open_offer": next((h for h in handoffs if h.status == HandoffStatus.OFFERED), None),
            "panels": panels,
            "can_change": can_change,
            "visible_team_ids": team_ids_visible(request.user)
            if not request.user.is_superuser
            else {h.team_id for h in history},
            "customer_link": customer_url(case_id=case.pk, generation=case.link_generation),
            "update_form": page_forms.get("update_form")
            or CaseUpdateForm(initial={"status": case.status, "priority": case.priority}),
            "note_form": page_forms.get("note_form") or NoteForm(),
            "offer_form": (page_forms.get("offer_form") or _offer_form(case, request.user))
            if can_change and case.is_open
            else None,
        }
        return render_in(request, "cases/case_detail.html", context, tz_name=tz_name, status=status)


@login_required
def case_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return render_case_page(request, case_or_404(request.user, ref))


@login_required
@require_POST
def case_update(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = CaseUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.case_update(
                case=case,
                by=request.user,
                status=form.cleaned_data["status"],
                priority=form.cleaned_data["priority"],
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, "Status and priority saved.")
            return redirect(case_url(case))
    case = case_or_404(request.user, ref)
    return render_case_page(request, case, page_forms={"update_form": form}, status=400)


@login_required
@require_POST
def case_note(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.case_add_note(case=case, by=request.user, text=form.cleaned_data["text"])
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, "Note added to the timeline.")
            return redirect(case_url(case) + "#timeline")
    return render_case_page(request, case, page_forms={"note_form": form}, status=400)


@login_required
@require_POST
def case_offer(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = _offer_form(case, request.user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        receiver = AgentProfile.objects.select_related("user").get(user_id=data["to_agent"]).user
        try:
            handoff_services.handoff_offer(
                case=case,
                by=request.user,
                to=receiver,
                reason=data["reason"],
                summary=handoff_services.HandoffSummary(
                    customer_needs=data["customer_needs"],
                    actions_taken=data["actions_taken"],
                    customer_expectations=data["customer_expectations"],
                    next_step=data["next_step"],
                ),
                briefed_commitments=data["briefed_commitments"],
                to_team=Team.objects.get(pk=data["to_team"]) if data.get("to_team") else None,
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(
                request, "Hand-off offered. You stay the owner until your colleague accepts."
            )
            return redirect(case_url(case))
    return render_case_page(request, case, page_forms={"offer_form": form}, status=400)


# --- open a case -----------------------------------------------------------------------------


def _customer_options(query: str) -> list[tuple[int, str]]:
    """A short list for the picker: matches for the search, else the newest customers."""
    qs = Customer.objects.order_by("-created_at", "-id")
    if query:
        qs = qs.filter(Q(full_name__icontains=query) | Q(email__icontains=query))
    return [
        (c.pk, f"{c.full_name}" + (f" <{c.email}>" if c.email else ""))
        for c in qs.only("pk", "full_name", "email")[:50]
    ]


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_visible(request.user)
    teams = (
        Team.objects.all() if request.user.is_superuser else Team.objects.filter(pk__in=team_ids)
    )
    owners = [
        (p.user_id, p.display_name)
        for p in AgentProfile.objects.filter(teams__in=team_ids, user__is_active=True)
        .distinct()
        .order_by("display_name")
    ]
    query = request.GET.get("q", "").strip()
    options = _customer_options(query)
    chosen = request.POST.get("customer") if request.method == "POST" else None
    if chosen and chosen.isdigit() and all(str(pk) != chosen for pk, _ in options):
        picked = Customer.objects.filter(pk=int(chosen)).first()
        if picked is not None:
            options.insert(0, (picked.pk, picked.full_name))
    teams = teams.order_by("name")
    if request.method == "POST":
        form = CaseOpenForm(request.POST, teams=teams, customers=options, owners=owners)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    customer = data["customer"] or services.customer_create(
                        full_name=data["new_name"],
                        title=data["new_title"],
                        addressed_as=data["new_addressed_as"],
                        email=data["new_email"],
                        phone=data["new_phone"],
                        time_zone=data["new_time_zone"],
                        preferred_channel=data["channel"],
                    )
                    owner = None
                    if data["owner"]:
                        owner = (
                            AgentProfile.objects.select_related("user")
                            .get(user_id=data["owner"])
                            .user
                        )
                    case = services.case_open(
                        customer=customer,
                        team=data["team"],
                        channel=data["channel"],
                        subject=data["subject"],
                        description=data["description"],
                        priority=data["priority"],
                        owner=owner,
                        by=request.user,
                    )
            except RuleError as exc:
                show_rule_error(request, exc, form)
            else:
                owner_name = services.owner_contact(case.owner)["name"]
                messages.success(request, f"{case.ref} opened; {owner_name} owns it.")
                return redirect(case_url(case))
        status = 400
    else:
        initial = {"team": teams.first()} if len(team_ids) == 1 else {}
        form = CaseOpenForm(initial=initial, teams=teams, customers=options, owners=owners)
        status = 200
    return render_in(
        request,
        "cases/case_new.html",
        {"form": form, "q": query},
        tz_name=agent_time_zone(request.user),
        status=status,
    )


# --- the customer's page (signed link, no login) ---------------------------------------------


class _CustomerLinkScope:
    """Lets the page share the API's ``customer_link`` throttle (same counters, same cache)."""

    throttle_scope = "customer_link"


def customer_link_throttled(request: HttpRequest) -> bool:
    return not ScopedRateThrottle().allow_request(request, _CustomerLinkScope())  # type: ignore[arg-type]


@never_cache
@require_http_methods(["GET", "POST"])
def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    if customer_link_throttled(request):
        return render(request, "cases/customer_throttled.html", status=429)
    case = page_selectors.customer_case_for_token(token)
    if case is None:
        return render(request, "cases/customer_link_invalid.html", status=404)
    if request.method == "POST":
        try:
            handoff = handoff_services.handoff_customer_acknowledge(case=case)
        except RuleError as exc:
            messages.error(request, exc.message)
        else:
            if handoff is not None:
                name = services.owner_contact(handoff.to_agent)["name"]
                messages.success(request, f"Thank you. {name} knows you have their details.")
        return redirect(reverse("customer-page", args=[token]))
    view = page_selectors.customer_view(case=case)
    return render_in(
        request,
        "cases/customer_page.html",
        {"view": view, "case": case, "customer": case.customer},
        tz_name=case.customer.time_zone,
    )


# --- the manager's hand-off audit ------------------------------------------------------------


def _audit_filters(request: HttpRequest) -> tuple[AuditFilterForm, Any]:
    user = request.user
    teams = (
        Team.objects.all()
        if user.is_superuser
        else Team.objects.filter(pk__in=managed_team_ids(user))
    )
    team_list = list(teams.order_by("name").values_list("pk", "name"))
    agents = list(
        AgentProfile.objects.filter(teams__in=[pk for pk, _ in team_list])
        .distinct()
        .order_by("display_name")
        .values_list("user_id", "display_name")
    )
    form = AuditFilterForm(request.GET or None, teams=team_list, agents=agents)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = handoff_selectors.HandoffAuditFilters(
        team_id=data.get("team"),
        agent_id=data.get("agent"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        flagged=True if data.get("flagged") else None,
        score_below=data.get("score_below"),
        status=data.get("status") or None,
    )
    return form, filters


def _require_manager(request: HttpRequest) -> None:
    if not (request.user.is_superuser or managed_team_ids(request.user)):
        raise Http404("Only managers see the hand-off audit.")


@login_required
def handoff_audit(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form, filters = _audit_filters(request)
    rows = handoff_selectors.handoff_audit_rows(user=request.user, filters=filters)
    page_obj = Paginator(rows, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    summary = handoff_selectors.handoff_audit_summary(user=request.user, filters=filters)
    bars = [
        ("Accepted", summary["accepted"]),
        ("Declined", summary["declined"]),
        ("Waiting", summary["waiting"]),
        ("Flagged", summary["flagged"]),
        ("Acknowledged", summary["acknowledged"]),
    ]
    context = {
        "form": form,
        "page_obj": page_obj,
        "summary": summary,
        "bars": bars,
        "bars_max": max(value for _, value in bars),
        "review_form": ReviewForm(),
        "extra_query": ("&" + query.urlencode()) if query else "",
        "csv_query": query.urlencode(),
    }
    return render_in(
        request, "cases/handoff_audit.html", context, tz_name=agent_time_zone(request.user)
    )


@login_required
def handoff_audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_manager(request)
    _form, filters = _audit_filters(request)
    rows = handoff_selectors.handoff_audit_rows(user=request.user, filters=filters)

    class _Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in handoff_selectors.handoff_audit_csv_rows(rows.iterator(chunk_size=500)):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="handoffs.csv"'
    return response


@login_required
@require_POST
def handoff_review(request: HttpRequest, handoff_id: int) -> HttpResponse:
    _require_manager(request)
    form = ReviewForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("handoff-audit")
    try:
        handoff = handoff_selectors.handoff_get(user=request.user, handoff_id=handoff_id)
    except NotFoundError:
        raise Http404("No such hand-off.") from None
    if not form.is_valid():
        messages.error(request, "Give each score from 1 to 5.")
        return redirect(back)
    data = form.cleaned_data
    try:
        handoff_services.handoff_review(
            handoff=handoff,
            by=request.user,
            rubric=handoff_services.HandoffRubric(
                context_complete=data["context_complete"],
                next_step_clear=data["next_step_clear"],
                commitments_carried=data["commitments_carried"],
                customer_informed=data["customer_informed"],
            ),
            comment=data["comment"],
        )
    except RuleError as exc:
        show_rule_error(request, exc)
    else:
        messages.success(request, f"Review of the hand-off of {handoff.case.ref} saved.")
    return redirect(back)


def home(request: HttpRequest) -> HttpResponse:
    """The site root: the queue for agents, the login page for everyone else."""
    return redirect("queue" if request.user.is_authenticated else settings.LOGIN_URL)
