"""Forms for recording and ending promises on the case page. Rules live in the services;
the due time is parsed by ``Due.parse``, as the API parses it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from caseowner import parsing
from commitments.errors import CommitmentRuleError
from commitments.models import PERSON_KINDS
from commitments.scheduling import Due

# The first-response promise is made by the product at intake, never by hand.
MANUAL_KINDS = PERSON_KINDS


class _DueFields(forms.Form):
    """A due time given as a local date and time, or as business time ("2 business days")."""

    due_at = forms.DateTimeField(
        label=_("Due at"),
        required=False,
        widget=parsing.LocaleDateTimeInput(),
        help_text=_("In the team's local time."),
    )
    within = forms.CharField(
        label=_("Or within"),
        required=False,
        max_length=40,
        help_text=_("Business time on the team's calendar, e.g. “2 business days”."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "due_at" in self.errors or "within" in self.errors:
            return data
        try:
            data["due"] = Due.parse(due_at=data.get("due_at"), within=data.get("within"))
        except CommitmentRuleError as exc:
            _add_rule_error(self, exc)
        return data

    @property
    def due(self) -> Due:
        """What the services take, parsed as the API parses it."""
        return self.cleaned_data["due"]


def _add_rule_error(form: forms.Form, exc: CommitmentRuleError) -> None:
    """The rule's message above the form, its field details on the fields (once each)."""
    form.add_error(None, gettext(exc.message))
    for name, messages in exc.fields.items():
        for message in messages:
            if message != exc.message:
                form.add_error(name, gettext(message))


class CommitmentForm(_DueFields):
    description = forms.CharField(
        label=_("The promise, in the customer's words"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. “I'll call you back Friday before noon with the courier's answer.”"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=MANUAL_KINDS, initial="callback")

    field_order = ["description", "kind", "due_at", "within"]


class RenegotiateForm(_DueFields):
    reason = forms.CharField(
        label=_("Why the date moves"),
        max_length=1000,
        help_text=_("The customer is told at once, with this reason and the new date."),
    )

    field_order = ["due_at", "within", "reason"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the promise is withdrawn"),
        max_length=1000,
        help_text=_("The customer is told."),
    )
