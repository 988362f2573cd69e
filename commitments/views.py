"""Pages for promises: the forms of the case page's promises panel post here.

Each view checks the form, calls one service and goes back to the case page; a refused
request re-renders the case page with the form and the service's message.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from caseowner.errors import NotFoundError, RuleError
from cases.hooks import PagePanel
from cases.models import Case
from cases.pages import case_or_404, case_url, render_case_page, show_rule_error
from commitments import selectors, services
from commitments.forms import CommitmentForm, RenegotiateForm, WithdrawForm
from commitments.models import Commitment


@dataclass
class _PanelRow:
    c: Commitment
    overdue: bool
    at_risk: bool
    renegotiate_form: forms.Form
    withdraw_form: forms.Form
    open_action: str | None


def commitment_panel(
    *, request: HttpRequest, case: Case, can_change: bool, page_forms: dict[str, Any]
) -> PagePanel:
    """The promises panel of the case page (a ``cases.hooks.case_page_panels`` handler).

    A refused POST puts its bound form in ``page_forms``: ``commitment_form`` (a new promise)
    or ``commitment_action_form`` with ``commitment_action_id`` and ``commitment_action``
    ("renegotiate" / "withdraw")."""
    action_id = page_forms.get("commitment_action_id")
    action = page_forms.get("commitment_action")
    now = timezone.now()
    rows = []
    for commitment in selectors.commitment_list(case=case):
        bound = page_forms.get("commitment_action_form") if commitment.pk == action_id else None
        flags = selectors.commitment_flags(commitment, now=now)
        rows.append(
            _PanelRow(
                c=commitment,
                overdue=flags.overdue,
                at_risk=flags.at_risk,
                renegotiate_form=bound
                if bound and action == "renegotiate"
                else RenegotiateForm(auto_id=f"id_reneg{commitment.pk}_%s"),
                withdraw_form=bound
                if bound and action == "withdraw"
                else WithdrawForm(auto_id=f"id_withdraw{commitment.pk}_%s"),
                open_action=action if bound else None,
            )
        )
    html = render_to_string(
        "commitments/_panel.html",
        {
            "case": case,
            "can_change": can_change,
            "rows": rows,
            "new_form": page_forms.get("commitment_form")
            or CommitmentForm(auto_id="id_promise_%s"),
        },
        request=request,
    )
    return PagePanel(anchor="commitments", title=gettext("Promises to the customer"), html=html)


def _commitment_or_404(user: Any, pk: int) -> Commitment:
    try:
        return selectors.commitment_get_for_user(user=user, pk=pk)
    except NotFoundError:
        raise Http404("No such promise.") from None


def _valid_in_team_time(form: forms.Form, case: Case) -> bool:
    """Local dates and times on the form are read in the team's time zone."""
    with timezone.override(zoneinfo.ZoneInfo(case.team.time_zone)):
        return form.is_valid()


def _back(case: Case, anchor: str = "commitments") -> HttpResponse:
    return redirect(f"{case_url(case)}#{anchor}")


def _refused(
    request: HttpRequest, commitment: Commitment, action: str, form: forms.Form
) -> HttpResponse:
    case = case_or_404(request.user, commitment.case.ref)
    return render_case_page(
        request,
        case,
        page_forms={
            "commitment_action_form": form,
            "commitment_action_id": commitment.pk,
            "commitment_action": action,
        },
        status=400,
    )


@login_required
@require_POST
def commitment_new(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = CommitmentForm(request.POST, auto_id="id_promise_%s")
    if _valid_in_team_time(form, case):
        try:
            services.commitment_create(
                case=case,
                by=request.user,
                description=form.cleaned_data["description"],
                kind=form.cleaned_data["kind"],
                due=form.due,
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("Promise recorded; the customer has been told."))
            return _back(case)
    return render_case_page(request, case, page_forms={"commitment_form": form}, status=400)


def _one_step(
    request: HttpRequest, pk: int, service: Callable[..., Commitment], done: str
) -> HttpResponse:
    """A button with no form (keep, confirm on track): call the service, say how it went."""
    commitment = _commitment_or_404(request.user, pk)
    try:
        service(commitment=commitment, by=request.user)
    except RuleError as exc:
        show_rule_error(request, exc)
    else:
        messages.success(request, done)
    return _back(commitment.case)


@login_required
@require_POST
def commitment_keep(request: HttpRequest, pk: int) -> HttpResponse:
    return _one_step(request, pk, services.commitment_mark_kept, gettext("Promise kept."))


@login_required
@require_POST
def commitment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _one_step(
        request, pk, services.commitment_confirm_on_track, gettext("Promise confirmed on track.")
    )


@login_required
@require_POST
def commitment_renegotiate(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment_or_404(request.user, pk)
    form = RenegotiateForm(request.POST, auto_id=f"id_reneg{pk}_%s")
    if _valid_in_team_time(form, commitment.case):
        try:
            services.commitment_renegotiate(
                commitment=commitment,
                by=request.user,
                due=form.due,
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("New date set; the customer has been told why."))
            return _back(commitment.case)
    return _refused(request, commitment, "renegotiate", form)


@login_required
@require_POST
def commitment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment_or_404(request.user, pk)
    form = WithdrawForm(request.POST, auto_id=f"id_withdraw{pk}_%s")
    if form.is_valid():
        try:
            services.commitment_withdraw(
                commitment=commitment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("Promise withdrawn; the customer has been told."))

            return _back(commitment.case)
    return _refused(request, commitment, "withdraw", form)
