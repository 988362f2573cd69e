"""The back office for staff. The timeline is read-only here as everywhere.

Cases, hand-offs and reviews are read-only: every change to them goes through the services
(status, priority, hand-offs and reviews from the case pages or the API), so it is checked and
recorded on the timeline. A customer's details are added and corrected here through the same
services as everywhere (``customer_create``, ``customer_update``: phone in E.164, the correction
on the timeline); a team's settings through ``reports.settings_services`` (``reports.admin``).
Agents' profiles are plain records edited here.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from caseowner.errors import RuleError
from cases.availability.services import agent_deactivate, agent_open_case_refs
from cases.customers.erasure import customer_erase, customer_erasure_preview
from cases.customers.services import CustomerChanges, customer_create, customer_update
from cases.errors import CaseRuleError
from cases.models import (
    Absence,
    AgentProfile,
    Case,
    CaseEvent,
    Contact,
    Customer,
    Handoff,
    HandoffReview,
    InboundMessage,
)
from cases.permissions import phone_region_for


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: a service writes these rows."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def refusal_on_form(form: forms.BaseForm, exc: RuleError, aliases: dict[str, str]) -> None:
    """A service's refusal as the admin form's errors: each field's messages on that field
    (through ``aliases`` where the service names it differently), the rest above the form."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, msgs in exc.fields.items():
        target = aliases.get(name, name)
        for msg in msgs:
            form.add_error(target if target in form.fields else None, msg)


# The customer's details the services write: every editable field of the admin's form.
CUSTOMER_DETAILS = tuple(f.name for f in dataclass_fields(CustomerChanges))


# What staff type on the confirmation page before customers' personal data is erased.
ERASE_PHRASE = "ERASE"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        *Customer.PERSONAL_FIELDS,
        "preferred_channel",
        "erased_at",
    ]
    search_fields = ["full_name", "given_name", "family_name", "email", "phone"]
    list_filter = ["preferred_channel", "language"]
    readonly_fields = ["created_at", "erased_at", "merged_into"]
    actions = ["erase_personal_data"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        """The form whose validation is the service's own write: a new customer is
        ``customer_create``, a correction ``customer_update`` with the fields that changed, in
        the admin's transaction; a refusal (a phone not made E.164, a name part not in the
        name, no rights to the record) is the form's errors, and nothing is written."""
        base = super().get_form(request, obj, change=change, **kwargs)

        class ThroughServiceForm(base):  # type: ignore[valid-type,misc]
            saved: Customer | None = None

            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if self.errors:
                    return data
                wanted = {name: data[name] for name in CUSTOMER_DETAILS if name in data}
                try:
                    if obj is None:
                        self.saved = customer_create(
                            **wanted, phone_region=phone_region_for(request.user)
                        )
                    else:
                        changed = {k: v for k, v in wanted.items() if k in self.changed_data}
                        self.saved = customer_update(
                            customer=obj, by=request.user, changes=CustomerChanges(**changed)
                        )
                except RuleError as exc:
                    refusal_on_form(self, exc, {"name": "full_name"})
                return data

        return ThroughServiceForm

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        """The service wrote the record while the form was checked: shown as it now is."""
        obj.pk = form.saved.pk
        obj.refresh_from_db()

    @admin.action(
        description="Erase the selected customers' personal data (cannot be undone)",
        permissions=["change"],
    )
    def erase_personal_data(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> TemplateResponse | None:
        """First a page listing what will be erased, where the staff member types
        ``ERASE_PHRASE``; only that confirmed second post erases (each customer in its own
        transaction). Leaving the page erases nothing."""
        customers = list(queryset.order_by("pk"))
        error = ""
        if request.POST.get("confirm") == "yes":
            if request.POST.get("confirmation", "").strip() == ERASE_PHRASE:
                self._erase(request, customers)
                return None
            error = f"Nothing was erased: type {ERASE_PHRASE} to confirm."
        previews = [customer_erasure_preview(customer=c) for c in customers]
        fields = ("cases", "notes", "contacts", "inbound_mail", "handoffs", "notifications")
        totals = {f: sum(getattr(p, f) for p in previews if not p.refusal) for f in fields}
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data?",
            "subtitle": None,
            "opts": self.model._meta,
            "previews": previews,
            "totals": totals,
            "erasable": sum(1 for p in previews if not p.refusal),
            "phrase": ERASE_PHRASE,
            "error": error,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/customer/erase_confirmation.html", context)

    def _erase(self, request: HttpRequest, customers: list[Customer]) -> None:
        erased = 0
        for customer in customers:
            try:
                customer_erase(customer=customer, by=request.user)
            except CaseRuleError as err:
                self.message_user(request, f"Customer {customer.pk}: {err}", messages.WARNING)
            else:
                erased += 1
        self.message_user(request, f"{erased} customer(s) erased.", messages.SUCCESS)


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "job_title",
        "direct_email",
        "direct_phone",
        "accepts_new_cases",
    ]
    list_filter = ["teams", "accepts_new_cases"]
    search_fields = ["display_name", "user__username", "direct_email"]
    filter_horizontal = ["teams"]
    raw_id_fields = ["user", "backup_agent"]
    readonly_fields = ["away_since", "away_note"]


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    """Recorded and ended through the service (API or the agent's page), which re-addresses
    reminders and records the cover on the timeline."""

    list_display = ["agent", "starts_at", "ends_at", "note", "ended_at"]
    list_select_related = ["agent"]
    show_full_result_count = False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = ["at", "kind", "actor", "data"]
    ordering = ["-at", "-id"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).select_related("actor")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Opened by the intake service (owner by rule, acknowledgement sent); team, priority and
    status change through the services, which record the change on the timeline (a team only
    moves with an accepted hand-off)."""

    list_display = [
        "ref",
        "subject",
        "status",
        "priority",
        "channel",
        "team",
        "owner",
        "next_due_at",
    ]
    list_filter = ["status", "priority", "channel", "team"]
    search_fields = ["subject", "customer__full_name", "customer__email"]
    list_select_related = ["team", "owner"]
    readonly_fields = ["ref"]
    inlines = [CaseEventInline]
    show_full_result_count = False

    @admin.display(description="Reference", ordering="id")
    def ref(self, obj: Case) -> str:
        return obj.ref


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "case", "kind", "actor"]
    list_filter = ["kind"]
    raw_id_fields = ["case"]
    list_select_related = ["case", "actor"]
    show_full_result_count = False


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "from_agent", "to_agent", "status", "reason", "offered_at"]
    list_filter = ["status", "reason"]
    list_select_related = ["case", "from_agent", "to_agent"]
    raw_id_fields = ["case"]
    show_full_result_count = False


@admin.register(HandoffReview)
class HandoffReviewAdmin(ReadOnlyAdmin):
    """Written by ``handoff_review``: a manager of the team, once, scores 1–5."""

    list_display = ["handoff", "reviewer", "reviewed_at"]
    list_select_related = ["handoff", "reviewer"]
    raw_id_fields = ["handoff"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["case", "direction", "channel", "at", "agent", "summary", "auto_submitted"]
    list_filter = ["direction", "channel", "auto_submitted"]
    search_fields = ["external_id", "message_id"]
    list_select_related = ["case", "agent"]
    raw_id_fields = ["case", "agent", "inbound"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """Every message as received. Unmatched ones are routed on the "Unmatched mail" page,
    where the attach goes through the service (a contact on the case's timeline)."""

    list_display = ["received_at", "from_address", "subject", "status", "case", "auto_reason"]
    list_filter = ["status", "via", "matched_by"]
    search_fields = ["from_address", "subject", "message_id"]
    list_select_related = ["case"]
    exclude = ["raw", "html"]


User = get_user_model()


class AgentUserAdmin(UserAdmin):
    """Django's user admin, except that an agent who owns open cases cannot be deactivated
    here either (``away_services.agent_deactivate``, as in the API): the form says which
    cases to hand off first, and nothing is saved."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        base = super().get_form(request, obj, change=change, **kwargs)

        class DeactivationForm(base):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if obj is not None and obj.is_active and data.get("is_active") is False:
                    refs = agent_open_case_refs(obj)
                    if refs:
                        raise ValidationError(
                            {
                                "is_active": (
                                    f"{obj.get_username()} owns {len(refs)} open case(s); hand "
                                    f"them off first: {', '.join(refs)}."
                                )
                            },
                            code="agent_owns_open_cases",
                        )
                return data

        return DeactivationForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.is_active = True  # the service deactivates, under lock, checking again
            super().save_model(request, obj, form, change)
            agent_deactivate(agent=obj, by=request.user)
            obj.is_active = False
            return
        super().save_model(request, obj, form, change)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AgentUserAdmin)
