"""Pages for callbacks: the customer's booking page behind their signed link, the staff's
page for booking on a customer's behalf, and the case page's panel that links to it.

Each POST names an action (book, move, cancel), calls one service and comes back to the page
(post/redirect/get) with the service's message; the page works without JavaScript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from caseowner.errors import RuleError
from caseowner.types import User
from cases.customers.link_views import customer_link_throttled
from cases.customers.selectors import customer_case_for_token
from cases.hooks import CustomerLink, PagePanel
from cases.models import Case
from cases.pages import case_or_404, render_in
from cases.permissions import can_change_case
from commitments import callbacks
from commitments.callback_slots import callback_slots, slots_by_day

ACTIONS = ("book", "move", "cancel")


def callback_panel(
    *, request: HttpRequest, case: Case, can_change: bool, page_forms: dict[str, Any]
) -> PagePanel:
    """The case page's callbacks panel: a link to book for the customer (no query here; the
    booked callback is listed with the promises)."""
    html = render_to_string(
        "commitments/_callback_panel.html",
        {"case": case, "can_change": can_change},
        request=request,
    )
    return PagePanel(anchor="callback", title=gettext("Callback the customer booked"), html=html)


def customer_callback_link(*, case: Case, token: str) -> CustomerLink | None:
    """The customer page's way to the booking page (``hooks.customer_page_links``)."""
    if not case.is_open:
        return None
    url = reverse("customer-callback", args=[token])
    return CustomerLink(url=url, text=gettext("Choose a time to be called back"))


def _starts_at(request: HttpRequest) -> datetime | None:
    value = parse_datetime(request.POST.get("starts_at", "") or "")
    return value if value is not None and timezone.is_aware(value) else None


def _act(request: HttpRequest, case: Case, by: User | None) -> None:
    """Run the posted action; tell the reader how it went."""
    action = request.POST.get("action", "")
    starts_at = _starts_at(request)
    if action not in ACTIONS:
        messages.error(request, gettext("Choose what to do."))
        return
    if action != "cancel" and starts_at is None:
        messages.error(request, gettext("Choose a time first."))
        return
    try:
        if action == "book":
            assert starts_at is not None
            callbacks.callback_book(case=case, starts_at=starts_at, by=by)
            done = gettext("Callback booked.") if by else gettext("Your call back is booked.")
        elif action == "move":
            assert starts_at is not None
            callbacks.callback_move(case=case, starts_at=starts_at, by=by)
            done = gettext("Callback moved.") if by else gettext("Your call back has moved.")
        else:
            callbacks.callback_cancel(
                case=case, by=by, reason=request.POST.get("reason", "") if by else ""
            )
            done = gettext("Callback cancelled.") if by else gettext("Your call back is cancelled.")
    except RuleError as exc:
        messages.error(request, gettext(exc.message))
    else:
        messages.success(request, done)


def _context(case: Case) -> dict[str, Any]:
    tz_name = case.customer.time_zone
    return {
        "case": case,
        "booking": callbacks.callback_of(case),
        "days": slots_by_day(callback_slots(case=case, now=timezone.now()), tz_name),
    }


@never_cache
@require_http_methods(["GET", "POST"])
def customer_callback_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer books, moves or cancels their callback (no login: the signed link)."""
    if customer_link_throttled(request):
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_throttled.html", status=429)
    case = customer_case_for_token(token)
    if case is None:
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_link_invalid.html", status=404)
    with translation.override(case.customer.language or settings.LANGUAGE_CODE):
        if request.method == "POST":
            _act(request, case, None)
            return redirect(reverse("customer-callback", args=[token]))
        return render_in(
            request,
            "commitments/customer_callback.html",
            {**_context(case), "token": token, "staff": False},
            tz_name=case.customer.time_zone,
        )


@login_required
@require_http_methods(["GET", "POST"])
def case_callback_page(request: HttpRequest, ref: str) -> HttpResponse:
    """The owner books, moves or cancels a callback for a customer without email."""
    case = case_or_404(request.user, ref)
    if request.method == "POST":
        _act(request, case, request.user)
        return redirect(reverse("case-callback", args=[case.ref]))
    return render_in(
        request,
        "commitments/case_callback.html",
        {**_context(case), "staff": True, "can_change": can_change_case(request.user, case)},
        tz_name=case.customer.time_zone,
    )
