"""Figures and inputs of the report pages read as the team reads them: a duration in the
same units as its target, a date in the page's locale."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.charts import duration
from reports.forms import PeriodForm
from reports.templatetags.reports_format import duration_words
from tests.reports import history

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (83, "1 min 23 s"),  # beside a 1-minute target: visibly over it
        (60, "1 min"),
        (60.2, "1 min 1 s"),  # a fraction over the target is over it
        (45, "45 s"),
        (6 * 3600, "6 h"),
        (6 * 3600 + 30, "6 h 1 min"),  # rounded up at the smaller unit, never down
        (2.5 * 3600, "2 h 30 min"),
        (2 * 86400 + 5 * 3600, "2 d 5 h"),
        (0, "0 s"),
        (None, "–"),
    ],
)
def test_a_duration_shows_in_the_units_of_its_target(seconds, text):
    assert duration(seconds) == text
    assert duration_words(seconds) == text


def test_a_figure_over_its_target_never_reads_as_the_target():
    target = duration(60)
    for median in (61, 83, 89, 90, 119):
        assert duration(median) != target


def manager_page(url: str) -> str:
    client = Client()
    client.force_login(history.build()["manager"])
    return client.get(url).content.decode()


def test_the_dashboards_date_is_typed_and_shown_in_the_pages_locale():
    html = manager_page("/manage/?weeks=2&to=2026-03-11")
    assert 'type="date"' not in html  # the browser's picker wrote the browser's locale
    assert 'placeholder="dd/mm/yyyy"' in html
    assert 'value="11/03/2026"' in html


def test_a_british_date_and_an_iso_date_are_the_same_day():
    british = PeriodForm({"weeks": 2, "to": "11/03/2026"})
    iso = PeriodForm({"weeks": 2, "to": "2026-03-11"})
    assert british.is_valid() and iso.is_valid()
    assert british.cleaned_data["to"] == iso.cleaned_data["to"]
    assert british.cleaned_data["to"].month == 3


def test_the_hand_off_audits_dates_are_in_the_pages_locale_too():
    html = manager_page("/manage/handoffs/?date_from=2026-03-01")
    assert 'type="date"' not in html
    assert html.count('placeholder="dd/mm/yyyy"') == 2
    assert 'value="01/03/2026"' in html
