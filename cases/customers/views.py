"""The staff's search results and customer record pages: find, read, correct, merge.

Thin like every page: one selector or service per request; rule errors shown as the API
returns them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from caseowner.db_router import replica_reads
from caseowner.errors import NotFoundError, RuleError
from cases.customers import selectors as customer_selectors
from cases.customers import services as customer_services
from cases.customers.search import SearchResults, search
from cases.forms import CustomerEditForm, MergeForm
from cases.models import Customer
from cases.pages import agent_time_zone, render_in, show_rule_error
from cases.permissions import can_edit_customer, manages_any_team


@login_required
@replica_reads
def search_page(request: HttpRequest) -> HttpResponse:
    try:
        results = search(user=request.user, query=request.GET.get("q", ""))
    except RuleError as exc:
        show_rule_error(request, exc)
        results, status = SearchResults(query="", customers=[], cases=[]), 400
    else:
        status = 200
    return render_in(
        request,
        "cases/search.html",
        {"results": results, "q": results.query},
        tz_name=agent_time_zone(request.user),
        status=status,
    )


def _customer_or_404(user: Any, pk: int) -> Customer:
    try:
        return customer_selectors.customer_get(user=user, pk=pk)
    except NotFoundError:
        raise Http404("No such customer.") from None


def customer_url(customer_id: int) -> str:
    return reverse("customer-detail", args=[customer_id])


def _render_customer(
    request: HttpRequest,
    customer: Customer,
    *,
    edit_form: CustomerEditForm | None = None,
    merge_form: MergeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    record = customer_selectors.customer_record(user=request.user, customer=customer)
    can_edit = can_edit_customer(request.user, customer)
    # Merging needs a correction's rights too (the service checks the other record as well).
    is_manager = can_edit and manages_any_team(request.user)
    context = {
        "customer": customer,
        "record": record,
        "can_edit": can_edit,
        "is_manager": is_manager,
        "edit_form": edit_form or (CustomerEditForm.for_customer(customer) if can_edit else None),
        "merge_form": merge_form or (MergeForm() if is_manager else None),
    }
    return render_in(
        request,
        "cases/customer_detail.html",
        context,
        tz_name=agent_time_zone(request.user),
        status=status,
    )


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(request.user, customer_id)
    if customer.merged_into_id is not None:
        # A tombstone: the record lives on in the one it was merged into.
        messages.info(
            request,
            gettext("Customer %(number)s was merged into this record.") % {"number": customer.pk},
        )
        return redirect(customer_url(customer.merged_into_id))
    return _render_customer(request, customer)


@login_required
@require_POST
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(request.user, customer_id)
    form = CustomerEditForm(request.POST)
    if form.is_valid():
        try:
            customer_services.customer_update(
                customer=customer,
                by=request.user,
                changes=customer_services.CustomerChanges(**form.cleaned_data),
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(request, gettext("Details saved; the change is on their open cases."))
            return redirect(customer_url(customer.pk))
    return _render_customer(request, customer, edit_form=form, status=400)


@login_required
@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    survivor = _customer_or_404(request.user, customer_id)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            other = customer_selectors.customer_get(
                user=request.user, pk=form.cleaned_data["other"]
            )
            merge = customer_services.customer_merge(
                survivor=survivor, merged=other, by=request.user
            )
        except RuleError as exc:
            show_rule_error(request, exc, form)
        else:
            messages.success(
                request,
                gettext(
                    "%(name)s (customer %(number)s) merged into this record: "
                    "%(count)s case(s) moved."
                )
                % {"name": other.full_name, "number": other.pk, "count": len(merge.case_ids)},
            )
            return redirect(customer_url(survivor.pk))
    return _render_customer(request, survivor, merge_form=form, status=400)


@login_required
@require_POST
def customer_unmerge(request: HttpRequest, customer_id: int) -> HttpResponse:
    merged = _customer_or_404(request.user, customer_id)
    try:
        merge = customer_services.customer_unmerge(merged=merged, by=request.user)
    except RuleError as exc:
        show_rule_error(request, exc)
        target = merged.merged_into_id or merged.pk
        return redirect(customer_url(target))
    messages.success(
        request,
        gettext("Merge undone: customer %(number)s has their cases back.") % {"number": merged.pk},
    )

    return redirect(customer_url(merge.survivor_id))
