"""The query parameters of the report pages, read with forms (never by hand)."""

from __future__ import annotations

from django import forms

from caseowner import parsing
from cases.models import Channel
from commitments.models import CommitmentStatus
from reports.selectors import DEFAULT_WEEKS, MAX_WEEKS

WEEK_CHOICES = [(n, f"{n} week{'' if n == 1 else 's'}") for n in range(1, MAX_WEEKS + 1)]


class PeriodForm(forms.Form):
    team = parsing.IdFormField(required=False)
    weeks = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=str(DEFAULT_WEEKS), choices=WEEK_CHOICES
    )
    to = parsing.DateFormField(label="Up to", required=False, widget=parsing.LocaleDateInput())

    def offer_teams(self, teams: list[tuple[int, str]]) -> None:
        """Show the teams the reader may choose as a list (checked by the selector)."""
        self.fields["team"].widget = forms.Select(choices=teams)


class PromiseRowsForm(forms.Form):
    date_from = parsing.DateFormField(required=False)
    date_to = parsing.DateFormField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *CommitmentStatus.choices])
    on_time = forms.BooleanField(required=False)
    first_response = forms.BooleanField(required=False)
    channel = forms.ChoiceField(required=False, choices=[("", "Any"), *Channel.choices])
    owner = parsing.IdFormField(required=False)
    open = forms.BooleanField(required=False)
    due_after = parsing.DateTimeFormField(required=False)
    due_before = parsing.DateTimeFormField(required=False)
    overdue_at = parsing.DateTimeFormField(required=False)
    not_overdue_at = parsing.DateTimeFormField(required=False)


class CaseRowsForm(forms.Form):
    owner = parsing.IdFormField(required=False)
    without_promise = forms.BooleanField(required=False)
