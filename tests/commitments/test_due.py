"""A due time is parsed once (``Due.parse``): the API and the case page's forms agree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commitments.calendars import BusinessDuration
from commitments.errors import CommitmentRuleError
from commitments.forms import CommitmentForm, RenegotiateForm
from commitments.scheduling import Due
from tests.commitments.conftest import london

BOTH = "Give either due_at or within, not both."
NEITHER = "Give a due time: due_at, or within (e.g. “2 business days”)."


def refusal(**given) -> CommitmentRuleError:
    with pytest.raises(CommitmentRuleError) as err:
        Due.parse(**given)
    return err.value


def test_an_instant_or_business_time_words():
    moment = london(2026, 11, 27, 12)
    assert Due.parse(due_at=moment) == Due(at=moment)
    assert Due.parse(within=" 2 business days ") == Due(within=BusinessDuration(2, "day"))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, NEITHER),
        ({"within": "   "}, NEITHER),
        ({"due_at": london(2026, 11, 27, 12), "within": "1 business day"}, BOTH),
    ],
)
def test_exactly_one_of_due_at_and_within(given, message):
    err = refusal(**given)
    assert (err.code, err.message, err.status_code) == ("due_required", message, 400)
    assert err.fields == {"due_at": [message], "within": [message]}


def test_words_that_are_not_business_time_are_refused():
    err = refusal(within="soonish")
    assert err.code == "invalid_within"
    assert err.fields == {"within": ["Write e.g. “2 business days” or “4 business hours”."]}


def test_services_take_an_instant_a_span_or_words():
    moment = london(2026, 11, 27, 12)
    assert Due.of(moment) == Due(at=moment)
    assert Due.of(timedelta(hours=6)) == Due(within=timedelta(hours=6))
    assert Due.of("4 business hours") == Due(within=BusinessDuration(4, "hour"))
    assert Due.of(Due(at=moment)) == Due(at=moment)


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({}, NEITHER),
        ({"due_at": "2026-11-27T12:00", "within": "1 business day"}, BOTH),
    ],
)
def test_the_pages_forms_say_what_the_api_says(settings, post, message):
    settings.TIME_ZONE = "Europe/London"
    for form in (
        CommitmentForm({"description": "Call back", "kind": "callback", **post}),
        RenegotiateForm({"reason": "The part is late.", **post}),
    ):
        assert not form.is_valid()
        assert form.non_field_errors() == [message]


def test_a_form_shows_unreadable_words_on_the_within_field():
    form = CommitmentForm({"description": "Call back", "kind": "callback", "within": "soonish"})
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "Cannot read 'soonish'; write e.g. “2 business days” or “4 business hours”."
    ]
    assert form.errors["within"] == ["Write e.g. “2 business days” or “4 business hours”."]


def test_a_valid_form_gives_the_services_a_due(settings):
    settings.TIME_ZONE = "Europe/London"
    form = CommitmentForm({"description": "Call back", "kind": "callback", "within": "2 days"})
    assert form.is_valid(), form.errors
    assert form.due == Due(within=BusinessDuration(2, "day"))
