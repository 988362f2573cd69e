"""The query parameters of the report pages, read with forms (never by hand)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.formats import get_format

from caseowner import parsing
from cases.models import Channel
from commitments.models import CommitmentStatus
from reports.selectors import DEFAULT_WEEKS, MAX_WEEKS

WEEK_CHOICES = [(n, f"{n} week{'' if n == 1 else 's'}") for n in range(1, MAX_WEEKS + 1)]

_FORMAT_WORDS = (("%d", "dd"), ("%m", "mm"), ("%Y", "yyyy"), ("%y", "yy"))


class LocaleDateInput(forms.DateInput):
    """A date typed in the page's locale ("dd/mm/yyyy" for a British team), shown in it and
    said so in the placeholder. The browser's own date picker wrote the date in the
    browser's locale (mm/dd/yyyy in an American one) whatever the page's; the field still
    reads ISO dates (links carry them) beside the locale's."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        """An ISO date from a link in the locale's format; what a person typed as typed."""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return value
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        shape = self.format or get_format("DATE_INPUT_FORMATS")[0]
        for code, word in _FORMAT_WORDS:
            shape = shape.replace(code, word)
        context["widget"]["attrs"].setdefault("placeholder", shape)
        context["widget"]["attrs"].setdefault("title", f"A date, as {shape}")
        return context


class PeriodForm(forms.Form):
    team = parsing.IdFormField(required=False)
    weeks = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=str(DEFAULT_WEEKS), choices=WEEK_CHOICES
    )
    to = parsing.DateFormField(label="Up to", required=False, widget=LocaleDateInput())

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
