"""The agent's pages: My queue, the case page and its forms, and opening a case.

The hand-off pages are in ``cases.handoffs.views``, the customer's link page in
``cases.customers.link_views``, the toolkit every page uses in ``cases.pages``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from caseowner import parsing
from caseowner.errors import RuleError
from cases import intake, live_views, selectors, services
from cases.customers import selectors as customer_selectors
from cases.forms import CaseOpenForm, CaseUpdateForm, NoteForm
from cases.pages import (
    agent_time_zone,
    case_or_404,
    case_url,
    render_case_page,
    render_in,
    show_rule_error,
)
from cases.recipients import display_name

# --- My queue --------------------------------------------------------------------------------


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    """My queue; its live part (``live_views.queue_live``) refreshes it while it is open."""
    context = live_views.queue_context(request, now=timezone.now(), fragment=False)
    return render_in(request, "cases/queue.html", context, tz_name=agent_time_zone(request.user))


# --- the case page ---------------------------------------------------------------------------


@login_required
@require_safe
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
                closed_as=form.cleaned_data["closed_as"],
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("Status and priority saved."))
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
            messages.success(request, gettext("Note added to the timeline."))
            return redirect(case_url(case) + "#timeline")
    return render_case_page(request, case, page_forms={"note_form": form}, status=400)


@login_required
@require_POST
def customer_link_revoke(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    try:
        services.customer_links_revoke(case=case, by=request.user)
    except RuleError as exc:
        messages.error(request, gettext(exc.message))
    else:
        messages.success(
            request,
            gettext("Every customer link sent so far stops working; the link below is new."),
        )
    return redirect(case_url(case) + "#customer-link")


# --- open a case -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    try:
        query = parsing.parse_search(request.GET.get("q", ""), field="q")
    except RuleError as exc:
        # the picker's search box: the page still opens, with the reason and every customer
        show_rule_error(request, exc)
        query, refused = "", True
    else:
        refused = False
    existing, existing_fields = None, []
    teams = selectors.intake_teams(user=request.user)
    owners = selectors.intake_owner_choices(user=request.user)
    customers = customer_selectors.customer_choices(
        user=request.user,
        query=query,
        chosen=parsing.id_or_none(request.POST.get("customer"))
        if request.method == "POST"
        else None,
    )
    if request.method == "POST":
        form = CaseOpenForm(request.POST, teams=teams, customers=customers, owners=owners)
        if form.is_valid():
            try:
                case = intake.case_intake(intake=form.intake(), by=request.user)
            except RuleError as exc:
                show_rule_error(request, exc, form)
                existing = exc.extra.get("match")
                # The record on file, offered with the case as typed (the page's answer
                # to the API's 409 ``customer_exists``).
                existing_fields = [
                    (k, v)
                    for k, v in request.POST.items()
                    if k not in ("customer", "csrfmiddlewaretoken") and not k.startswith("new_")
                ]
            else:
                messages.success(
                    request,
                    gettext("%(ref)s opened; %(name)s owns it.")
                    % {"ref": case.ref, "name": display_name(case.owner)},
                )

                return redirect(case_url(case))
        status = 400
    else:
        team_id = selectors.intake_default_team_id(user=request.user)
        initial = {"team": team_id} if team_id else {}
        form = CaseOpenForm(initial=initial, teams=teams, customers=customers, owners=owners)
        status = 400 if refused else 200
    return render_in(
        request,
        "cases/case_new.html",
        {"form": form, "q": query, "existing": existing, "existing_fields": existing_fields},
        tz_name=agent_time_zone(request.user),
        status=status,
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The site root: the queue for agents, the login page for everyone else."""
    return redirect("queue" if request.user.is_authenticated else settings.LOGIN_URL)


__all__ = [
    "case_detail",
    "case_new",
    "case_note",
    "case_update",
    "customer_link_revoke",
    "home",
    "queue",
]
