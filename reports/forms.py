"""The query parameters of the report pages, read with forms (never by hand)."""

from __future__ import annotations

from django import forms

from cases.models import Channel
from commitments.models import CommitmentStatus
from reports.selectors import DEFAULT_WEEKS, MAX_WEEKS

WEEK_CHOICES = [(n, f"{n} week{'' if n == 1 else 's'}") for n in range(1, MAX_WEEKS + 1)]


class PeriodForm(forms.Form):
    team = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    weeks = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=str(DEFAULT_WEEKS), choices=WEEK_CHOICES
    )
    to = forms.DateField(
        label="Up to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def offer_teams(self, teams: list[tuple[int, str]]) -> None:
        """Show the teams the reader may choose as a list (checked by the selector)."""
        self.fields["team"].widget = forms.Select(choices=teams)


class PromiseRowsForm(forms.Form):
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *CommitmentStatus.choices])
    on_time = forms.BooleanField(required=False)
    first_response = forms.BooleanField(required=False)
    channel = forms.ChoiceField(required=False, choices=[("", "Any"), *Channel.choices])
    owner = forms.IntegerField(required=False, min_value=1)
    open = forms.BooleanField(required=False)
    due_after = forms.DateTimeField(required=False)
    due_before = forms.DateTimeField(required=False)


class CaseRowsForm(forms.Form):
    owner = forms.IntegerField(required=False, min_value=1)
    without_promise = forms.BooleanField(required=False)
