"""The toolkit of the server-rendered pages (the commitments pages use it too): rendering in
the reader's time zone, a service's rule error shown on its form, the case lookup and the case
page itself, which later apps extend with panels (``hooks.case_page_panels``).

Views only read forms, call one service or selector, and render. A ``RuleError`` from a
service is shown with the same message the API returns, on the form that caused it.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.http import quote_etag
from django.utils.translation import gettext

from caseowner.errors import NotFoundError, RuleError
from cases import hooks, live, selectors
from cases.conversations.services import can_record_contacts
from cases.customers.links import customer_url
from cases.forms import CaseUpdateForm, ContactForm, HandoffOfferForm, NoteForm, ReplyForm
from cases.handoffs import selectors as handoff_selectors
from cases.models import Case
from cases.permissions import can_change_case, first_team_time_zone


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
    messages.error(request, gettext(exc.message))
    if form is None:
        for name, msgs in exc.fields.items():
            for msg in msgs:
                label = gettext(name.replace("_", " ")).capitalize()
                messages.error(request, f"{label}: {gettext(msg)}")
        return
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    for name, msgs in exc.fields.items():
        alias = FIELD_ALIASES.get(name, name)
        target = alias if alias in form.fields else None
        for msg in msgs:
            form.add_error(target, gettext(msg))


def _reply_greeting(customer: Any) -> str:
    """The reply starts as the customer's emails do, in the customer's language."""
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        return gettext("Dear %(salutation)s,") % {"salutation": customer.salutation_name}


def case_or_404(user: Any, ref: str) -> Case:

    try:
        return selectors.case_get(user=user, ref=ref)
    except NotFoundError:
        raise Http404(f"No case {ref}.") from None


def case_url(case: Case) -> str:
    return reverse("case-detail", args=[case.ref])


def offer_form(case: Case, user: Any, data: Any = None) -> HandoffOfferForm:
    """The brief form: whom the user may offer the case to (``handoff_receiver_choices``) and
    the open promises to brief."""
    choices = handoff_selectors.handoff_receiver_choices(case=case, by=user)
    agents = [
        (p.user_id, p.display_name + (f" — {p.job_title}" if p.job_title else ""))
        for p in choices.agents
    ]
    teams = [(t.pk, t.name) for t in choices.teams]
    promises = [
        (
            c.id,
            gettext("%(promise)s (due %(due)s)")
            % {
                "promise": c.description,
                "due": dateformat.format(timezone.localtime(c.due_at), "D d M H:i"),
            },
        )
        for c in hooks.collect_open_commitments(case)
    ]
    return HandoffOfferForm(data, agents=agents, commitments=promises, teams=teams)


def act_first_context(
    request: HttpRequest, case: Case, *, now: Any = None, handoffs: list | None = None
) -> dict[str, Any]:
    """The case page's act-first block (``selectors.case_act_first``) and how it stays live:
    its stamp (``cases.live``), the fragment's address and the poll's interval."""
    now = now or timezone.now()
    if handoffs is None:
        handoffs = list(
            selectors.case_handoffs(case=case).select_related("from_agent__agent_profile")
        )
    stamp = live.case_stamp(
        user=request.user, case_id=case.pk, now=now, extra=translation.get_language() or ""
    )
    return {
        "case": case,
        "act_first": selectors.case_act_first(
            user=request.user, case=case, handoffs=handoffs, now=now
        ),
        "live_etag": quote_etag(stamp or ""),
        "live_url": reverse("case-live", args=[case.ref]),
        "live_poll_ms": settings.LIVE_POLL_MS,
    }


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
        detail = selectors.case_detail(
            user=request.user, case=case, before=request.GET.get("before")
        )
        can_change = can_change_case(request.user, case)
        panels = hooks.collect_page_panels(
            request=request, case=case, can_change=can_change, page_forms=page_forms
        )
        context = {
            **act_first_context(request, case, handoffs=detail.handoffs),
            "case": case,
            "customer": case.customer,
            "owner": detail.owner,
            "history": detail.history,
            "events": detail.timeline.events,
            "older_cursor": detail.timeline.older_cursor,
            "handoffs": detail.handoffs,
            "open_offer": detail.open_offer,
            "panels": panels,
            "can_change": can_change,
            "visible_team_ids": detail.history_team_ids,
            "customer_link": customer_url(case_id=case.pk, generation=case.link_generation),
            "update_form": page_forms.get("update_form")
            or CaseUpdateForm(initial={"status": case.status, "priority": case.priority}),
            "note_form": page_forms.get("note_form") or NoteForm(),
            "reply_form": (
                page_forms.get("reply_form")
                or ReplyForm(initial={"body": _reply_greeting(case.customer) + "\n\n"})
            )
            if can_change and case.customer.email
            else None,
            "contact_form": (page_forms.get("contact_form") or ContactForm())
            if can_record_contacts(request.user, case)
            else None,
            "offer_form": (page_forms.get("offer_form") or offer_form(case, request.user))
            if can_change and case.is_open
            else None,
        }
        return render_in(request, "cases/case_detail.html", context, tz_name=tz_name, status=status)
