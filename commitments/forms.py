"""Forms for recording and ending promises on the case page. Rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from commitments.models import CommitmentKind

# The first-response promise is made by the product at intake, never by hand.
MANUAL_KINDS = [(k, label) for k, label in CommitmentKind.choices if k != "first_response"]


class _DueFields(forms.Form):
    """A due time given as a local date and time, or as business time ("2 business days")."""

    due_at = forms.DateTimeField(
        label="Due at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the team's local time.",
    )
    within = forms.CharField(
        label="Or within",
        required=False,
        max_length=40,
        help_text="Business time on the team's calendar, e.g. “2 business days”.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("due_at")) == bool((data.get("within") or "").strip()):
            raise forms.ValidationError("Give a due time or a business-time span (one of them).")
        return data

    @property
    def due(self) -> Any:
        """What the services take: an aware instant or the business-time words."""
        return self.cleaned_data.get("due_at") or self.cleaned_data["within"].strip()


class CommitmentForm(_DueFields):
    description = forms.CharField(
        label="The promise, in the customer's words",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. “I'll call you back Friday before noon with the courier's answer.”",
    )
    kind = forms.ChoiceField(choices=MANUAL_KINDS, initial="callback")

    field_order = ["description", "kind", "due_at", "within"]


class RenegotiateForm(_DueFields):
    reason = forms.CharField(
        label="Why the date moves",
        max_length=1000,
        help_text="The customer is told at once, with this reason and the new date.",
    )

    field_order = ["due_at", "within", "reason"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why the promise is withdrawn",
        max_length=1000,
        help_text="The customer is told.",
    )
