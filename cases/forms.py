"""Forms for the case pages. They only shape input; the rules live in the services."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from caseowner import parsing, text
from cases.handoffs.gate import HandoffSummary
from cases.intake import CaseIntake, NewCustomer
from cases.models import (
    CONTACT_SUMMARY_MAX,
    CaseStatus,
    Channel,
    ClosedAs,
    ContactDirection,
    Customer,
    HandoffReason,
    HandoffStatus,
    Priority,
    Team,
    Title,
)


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class CaseUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        help_text=_("Needed when reopening a closed case."),
    )
    closed_as = forms.ChoiceField(
        label=_("Closed as"),
        choices=ClosedAs.choices,
        required=False,
        help_text=_("Spam or a duplicate: its customer is not asked how it went."),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by your team and managers, never by the customer."),
    )


class HandoffOfferForm(forms.Form):
    """The hand-off brief: the four summary fields are what the next owner relies on."""

    to_agent = forms.TypedChoiceField(label=_("Hand the case to"), coerce=int)
    reason = forms.ChoiceField(label=_("Reason"), choices=HandoffReason.choices)
    customer_needs = forms.CharField(
        label=_("What the customer needs"),
        max_length=text.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    actions_taken = forms.CharField(
        label=_("What has been done so far"),
        max_length=text.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    customer_expectations = forms.CharField(
        label=_("What the customer was promised and expects"),
        help_text=_("Including how they feel about it, in their words."),
        max_length=text.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_step = forms.CharField(
        label=_("The next step"),
        max_length=text.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    to_team = forms.TypedChoiceField(
        label=_("Team that takes the case"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Only when you reassign the case to another team you manage."),
    )
    briefed_commitments = forms.TypedMultipleChoiceField(
        label=_("Open promises briefed in this summary"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick each open promise the summary covers."),
    )

    def __init__(
        self,
        *args: Any,
        agents: Sequence[tuple[int, str]] = (),
        commitments: Sequence[tuple[int, str]] = (),
        teams: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "to_agent").choices = [("", _("Choose a colleague…")), *agents]
        _choice(self, "briefed_commitments").choices = list(commitments)
        if teams:
            _choice(self, "to_team").choices = [("", _("The receiver's team")), *teams]
        else:
            del self.fields["to_team"]

    def summary(self) -> HandoffSummary:
        return HandoffSummary.of(self.cleaned_data)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why you decline"), max_length=1000)


class CaseOpenForm(forms.Form):
    """Open a case for an existing customer or a new one."""

    customer = parsing.ModelChoiceFormField(
        queryset=Customer.objects.all(),
        required=False,
        label=_("Existing customer"),
        help_text=_("Or leave empty and fill in the new customer below."),
    )
    new_name = forms.CharField(
        label=_("Full name"),
        required=False,
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        help_text=_("As they write it; or give the parts below."),
    )
    new_given_name = forms.CharField(
        label=_("Given name"),
        required=False,
        max_length=text.NAME_MAX,
        validators=[text.single_line],
    )
    new_family_name = forms.CharField(
        label=_("Family name"),
        required=False,
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        help_text=_('As they gave it ("van der Berg"); a title is used with it, never alone.'),
    )
    new_title = forms.ChoiceField(label=_("Title"), choices=Title.choices, required=False)
    new_addressed_as = forms.CharField(
        label=_("How they want to be addressed"),
        required=False,
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        help_text=_('In their words, e.g. "Sam" or "Dr Okafor".'),
    )
    new_email = forms.EmailField(label=_("Email"), required=False)
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    new_time_zone = forms.CharField(
        label=_("Time zone"), required=False, max_length=64, initial="Europe/London"
    )
    # The language of the customer's emails, calendar entries and page.
    new_language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        initial="en",
        choices=lambda: [(code, f"{name} ({code})") for code, name in settings.LANGUAGES],
    )
    new_different_person = forms.BooleanField(
        label=_("A different person from the customer on file with this email or phone"),
        required=False,
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    subject = forms.CharField(
        label=_("Subject"), max_length=text.SUBJECT_MAX, validators=[text.single_line]
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=text.DESCRIPTION_MAX,
        validators=[text.multi_line],
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    owner = forms.TypedChoiceField(
        label=_("Owner"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Leave empty to let the team's assignment rule choose."),
    )

    NEW_FIELDS = (
        "new_name",
        "new_given_name",
        "new_family_name",
        "new_title",
        "new_addressed_as",
        "new_email",
        "new_phone",
    )

    def __init__(
        self,
        *args: Any,
        teams: Any,
        customers: Sequence[tuple[int, str]],
        owners: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        # Validation looks the chosen id up; the list offered is a short search result.
        cast(forms.Select, self.fields["customer"].widget).choices = [
            ("", _("New customer (below)")),
            *customers,
        ]
        _choice(self, "owner").choices = [("", _("By the team's rule")), *owners]

    def clean_new_time_zone(self) -> str:
        value = self.cleaned_data.get("new_time_zone") or "UTC"
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("Unknown time zone.")) from None
        return value

    def intake(self) -> CaseIntake:
        """The valid form as the intake service takes it."""
        data = self.cleaned_data
        new = None
        if not data["customer"]:
            new = NewCustomer(
                full_name=data["new_name"],
                given_name=data["new_given_name"],
                family_name=data["new_family_name"],
                title=data["new_title"],
                addressed_as=data["new_addressed_as"],
                email=data["new_email"],
                phone=data["new_phone"],
                time_zone=data["new_time_zone"],
                language=data["new_language"] or "en",
                different_person=data["new_different_person"],
            )
        return CaseIntake(
            channel=data["channel"],
            subject=data["subject"],
            customer_id=data["customer"].pk if data["customer"] else None,
            new_customer=new,
            team_id=data["team"].pk,
            owner_id=data["owner"],
            description=data["description"],
            priority=data["priority"],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_new = any(data.get(f) for f in ("new_name", "new_given_name", "new_family_name"))
        if bool(data.get("customer")) == has_new:
            raise forms.ValidationError(
                _("Choose an existing customer or give a new customer's full name (one of them).")
            )
        return data


class ReviewForm(forms.Form):
    SCORES = [(i, str(i)) for i in range(1, 6)]

    context_complete = forms.TypedChoiceField(
        label=_("Context complete"), choices=SCORES, coerce=int
    )
    next_step_clear = forms.TypedChoiceField(label=_("Next step clear"), choices=SCORES, coerce=int)
    commitments_carried = forms.TypedChoiceField(
        label=_("Promises carried over"), choices=SCORES, coerce=int
    )
    customer_informed = forms.TypedChoiceField(
        label=_("Customer informed"), choices=SCORES, coerce=int
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=text.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AuditFilterForm(forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    agent = forms.TypedChoiceField(label=_("Agent"), coerce=int, required=False, empty_value=None)
    date_from = forms.DateField(label=_("From"), required=False, widget=parsing.LocaleDateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=parsing.LocaleDateInput())
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)
    score_below = parsing.IntegerFormField(
        label=_("Score below"), required=False, min_value=0, max_value=101
    )
    # the dashboard's links open one outcome (declined, waiting …)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *HandoffStatus.choices]
    )

    def __init__(
        self,
        *args: Any,
        teams: Sequence[tuple[int, str]],
        agents: Sequence[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "team").choices = [("", _("All my teams")), *teams]
        _choice(self, "agent").choices = [("", _("Everyone")), *agents]


class CustomerEditForm(forms.Form):
    """The details an agent corrects; the service checks them and records the change."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    given_name = forms.CharField(label=_("Given name"), max_length=200, required=False)
    family_name = forms.CharField(
        label=_("Family name"),
        max_length=200,
        required=False,
        help_text=_("A title is used with it, never alone."),
    )
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices, required=False)
    addressed_as = forms.CharField(
        label=_("How they want to be addressed"), max_length=200, required=False
    )
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, help_text=_("Any format.")
    )
    preferred_channel = forms.ChoiceField(label=_("Preferred channel"), choices=Channel.choices)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    language = forms.CharField(label=_("Language"), max_length=16)

    @classmethod
    def for_customer(cls, customer: Customer) -> CustomerEditForm:
        initial = {name: getattr(customer, name) for name in cls.base_fields}
        initial["phone"] = customer.phone_national
        return cls(initial=initial)


class MergeForm(forms.Form):
    other = parsing.IdFormField(
        label=_("Customer number of the duplicate"),
        help_text=_(
            "Its cases move to this record; it stays as a pointer here. Can be undone for 30 days."
        ),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Sent by email from you; the customer's answer comes back to this case."),
    )


class ContactForm(forms.Form):
    """ "Log a contact": a call, chat or visit told in a line, as ``POST …/contacts/`` takes it."""

    direction = forms.ChoiceField(
        label=_("Direction"), choices=ContactDirection.choices, initial=ContactDirection.TO_CUSTOMER
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=parsing.LocaleDateTimeInput(),
        help_text=_("Blank: now. In the team's time zone."),
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=CONTACT_SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was said and agreed, for whoever reads the case next."),
    )


class InboundAttachForm(forms.Form):
    case = forms.CharField(
        label=_("Case reference"), max_length=30, help_text=_("e.g. CASE-000123")
    )
