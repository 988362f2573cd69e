"""The customer's page behind the signed link: no login, throttled like the customer API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.throttling import ScopedRateThrottle

from caseowner.errors import RuleError
from cases import hooks
from cases.customers import selectors as customer_selectors
from cases.handoffs import outcomes as handoff_outcomes
from cases.models import Case
from cases.notices import notice_salutation
from cases.pages import render_in
from cases.recipients import display_name
from cases.satisfaction.selectors import customer_question


class _CustomerLinkScope:
    """Lets the page share the API's ``customer_link`` throttle (same counters, same cache)."""

    throttle_scope = "customer_link"


def customer_link_throttled(request: HttpRequest) -> bool:
    return not ScopedRateThrottle().allow_request(request, _CustomerLinkScope())  # type: ignore[arg-type]


@never_cache
@require_http_methods(["GET", "POST"])
def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    if customer_link_throttled(request):
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_throttled.html", status=429)
    case = customer_selectors.customer_case_for_token(token)
    if case is None:
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "cases/customer_link_invalid.html", status=404)
    # The page speaks the customer's language, as their emails do.
    with translation.override(case.customer.language or settings.LANGUAGE_CODE):
        return _customer_page(request, token, case)


def _customer_page(request: HttpRequest, token: str, case: Case) -> HttpResponse:
    if request.method == "POST":
        try:
            handoff = handoff_outcomes.handoff_customer_acknowledge(case=case)
        except RuleError as exc:
            messages.error(request, exc.message)
        else:
            if handoff is not None:
                name = display_name(handoff.to_agent)
                messages.success(
                    request,
                    gettext("Thank you. %(name)s knows you have their details.") % {"name": name},
                )
        return redirect(reverse("customer-page", args=[token]))
    view = customer_selectors.customer_view(case=case)
    return render_in(
        request,
        "cases/customer_page.html",
        {
            "view": view,
            "case": case,
            "customer": case.customer,
            "salutation": notice_salutation(case.customer),
            # a closed case: the one question, answered here or on its own page
            "question": customer_question(case=case, now=timezone.now()),
            "links": [
                link
                for handler in hooks.customer_page_links
                if (link := handler(case=case, token=token)) is not None
            ],
        },
        tz_name=case.customer.time_zone,
    )
