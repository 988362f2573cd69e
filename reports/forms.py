"""The query parameters of the report pages, read with forms (never by hand)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from caseowner import parsing
from cases.models import Channel
from commitments.models import CommitmentStatus
from reports.selectors import DEFAULT_WEEKS, MAX_WEEKS


def week_choices() -> list[tuple[int, str]]:
    """1 to ``MAX_WEEKS`` weeks, in the reader's language."""
    return [
        (n, ngettext("%(count)d week", "%(count)d weeks", n) % {"count": n})
        for n in range(1, MAX_WEEKS + 1)
    ]


class PeriodForm(forms.Form):
    team = parsing.IdFormField(label=_("Team"), required=False)
    weeks = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        empty_value=str(DEFAULT_WEEKS),
        choices=week_choices,
    )
    to = parsing.DateFormField(label=_("Up to"), required=False, widget=parsing.LocaleDateInput())

    def offer_teams(self, teams: list[tuple[int, str]]) -> None:
        """Show the teams the reader may choose as a list (checked by the selector)."""
        self.fields["team"].widget = forms.Select(choices=teams)


class PromiseRowsForm(forms.Form):
    date_from = parsing.DateFormField(required=False)
    date_to = parsing.DateFormField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", _("Any")), *CommitmentStatus.choices])
    on_time = forms.BooleanField(required=False)
    first_response = forms.BooleanField(required=False)
    channel = forms.ChoiceField(required=False, choices=[("", _("Any")), *Channel.choices])
    owner = parsing.IdFormField(required=False)
    open = forms.BooleanField(required=False)
    due_after = parsing.DateTimeFormField(required=False)
    due_before = parsing.DateTimeFormField(required=False)
    overdue_at = parsing.DateTimeFormField(required=False)
    not_overdue_at = parsing.DateTimeFormField(required=False)


class CaseRowsForm(forms.Form):
    owner = parsing.IdFormField(required=False)
    without_promise = forms.BooleanField(required=False)
