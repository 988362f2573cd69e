"""The conversation pages: "Reply to the customer" and "Log a contact" on the case page, an
owner's task marked done when the call is made, and the mail that matched no case, for
managers to route."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from caseowner.errors import RuleError
from cases.conversations import selectors as conversation_selectors
from cases.conversations.inbound import inbound_message_attach
from cases.conversations.services import NewContact, contact_record, contact_reply_send
from cases.forms import ContactForm, InboundAttachForm, ReplyForm
from cases.pages import (
    agent_time_zone,
    case_or_404,
    case_url,
    render_case_page,
    render_in,
    show_rule_error,
)
from cases.permissions import manages_any_team
from cases.task_services import owner_task_done, owner_task_get


@login_required
@require_POST
def case_reply(request: HttpRequest, ref: str) -> HttpResponse:
    case = case_or_404(request.user, ref)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            contact_reply_send(case=case, by=request.user, body=form.cleaned_data["body"])
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(
                request, gettext("Reply sent; the customer's answer will come back here.")
            )
            return redirect(case_url(case) + "#timeline")
    case = case_or_404(request.user, ref)
    return render_case_page(request, case, page_forms={"reply_form": form}, status=400)


@login_required
@require_POST
def case_contact(request: HttpRequest, ref: str) -> HttpResponse:
    """ "Log a contact": the same service as ``POST …/contacts/``; the time is read in the
    team's time zone, the one the case page shows."""
    case = case_or_404(request.user, ref)
    form = ContactForm(request.POST)
    with timezone.override(zoneinfo.ZoneInfo(case.team.time_zone)):
        valid = form.is_valid()
    if valid:
        data = form.cleaned_data
        try:
            contact_record(
                case=case,
                contact=NewContact(
                    direction=data["direction"],
                    channel=data["channel"],
                    summary=data["summary"],
                    at=data.get("at"),
                ),
                by=request.user,
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("The contact is on the timeline."))
            return redirect(case_url(case) + "#timeline")
    case = case_or_404(request.user, ref)
    return render_case_page(request, case, page_forms={"contact_form": form}, status=400)


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    """ "Call made": the summary becomes a contact on the case and the task is closed."""
    try:
        task = owner_task_get(user=request.user, task_id=task_id)
    except RuleError as exc:
        raise Http404(exc.message) from None
    try:
        owner_task_done(task=task, by=request.user, summary=request.POST.get("summary", ""))
    except RuleError as exc:
        messages.error(request, gettext(exc.message))
    else:
        messages.success(
            request,
            gettext("Done: the call is on the timeline of %(ref)s.") % {"ref": task.case.ref},
        )
    return redirect("queue")


def _require_manager(request: HttpRequest) -> None:
    if not manages_any_team(request.user):
        raise Http404("Only managers route unmatched mail.")


@login_required
@require_GET
def inbound_mail(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    page_obj = Paginator(conversation_selectors.inbound_unmatched(), 25).get_page(
        request.GET.get("page")
    )
    return render_in(
        request,
        "cases/inbound_mail.html",
        {"page_obj": page_obj, "attach_form": InboundAttachForm()},
        tz_name=agent_time_zone(request.user),
    )


@login_required
@require_POST
def inbound_attach(request: HttpRequest, message_id: int) -> HttpResponse:
    _require_manager(request)
    message = conversation_selectors.inbound_unmatched().filter(pk=message_id).first()
    if message is None:
        raise Http404("No such message waiting.")
    form = InboundAttachForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give a case reference, e.g. CASE-000123."))
        return redirect("inbound-mail")
    try:
        case = case_or_404(request.user, form.cleaned_data["case"])
    except Http404:
        messages.error(
            request,
            gettext("No case %(ref)s among your teams'.") % {"ref": form.cleaned_data["case"]},
        )
        return redirect("inbound-mail")
    try:
        inbound_message_attach(message=message, case=case, by=request.user)
    except RuleError as exc:
        show_rule_error(request, exc)
        return redirect("inbound-mail")
    messages.success(request, gettext("The message is on %(ref)s now.") % {"ref": case.ref})

    return redirect(case_url(case) + "#timeline")
