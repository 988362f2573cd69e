"""The kernel's door for untrusted input (``caseowner.parsing``) and the API's JSON at both
ends: a lone surrogate is refused by the parser and never breaks the renderer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from caseowner import parsing
from caseowner.api import JSONRenderer
from caseowner.errors import RuleError
from tests.cases.conftest import assert_error, client_for
from tests.factories import CustomerFactory


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(RuleError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == "invalid_input"
    return caught.value.fields


@pytest.mark.parametrize("value", ["²", "١٢", "１", "1.0", "", " ", "0x1", "1e3", True, None])
def test_an_integer_is_ascii_digits_only(value):
    assert refused(parsing.parse_int, value, field="customer") == {
        "customer": [parsing.INT_MESSAGE]
    }


def test_an_integer_within_its_bounds_is_read():
    assert parsing.parse_int(" 42 ", field="n") == 42
    assert parsing.parse_int("-3", field="n") == -3
    assert parsing.parse_id(str(parsing.MAX_ID), field="id") == parsing.MAX_ID
    assert list(refused(parsing.parse_id, "0", field="id")) == ["id"]
    assert list(refused(parsing.parse_id, str(parsing.MAX_ID + 1), field="id")) == ["id"]


def test_a_bad_lookup_id_finds_nothing():
    assert [parsing.id_or_none(v) for v in ("7", "²", "١٢", "-1", "", None)] == [
        7,
        None,
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_a_date_beyond_the_years_is_refused(value):
    assert refused(parsing.parse_date, value, field="to") == {"to": [parsing.RANGE_MESSAGE]}


@pytest.mark.parametrize("value", ["2026-13-01", "٢٠٢٦-٠١-٠١", "yesterday", ""])
def test_a_date_that_is_not_iso_ascii_is_refused(value):
    assert refused(parsing.parse_date, value, field="to") == {"to": [parsing.DATE_MESSAGE]}


def test_the_first_and_last_days_are_read():
    assert parsing.parse_date("1900-01-01", field="to") == date(1900, 1, 1)
    assert parsing.parse_date("2999-12-31", field="to") == date(2999, 12, 31)


def test_a_datetime_is_aware_and_within_the_years_in_utc_too():
    assert parsing.parse_datetime("2026-03-02T09:00:00Z", field="at") == datetime(
        2026, 3, 2, 9, tzinfo=UTC
    )
    assert parsing.parse_datetime("2026-03-02T09:00", field="at").tzinfo is not None
    assert list(refused(parsing.parse_datetime, "2999-12-31T23:30:00-05:00", field="at")) == ["at"]
    assert list(refused(parsing.parse_datetime, "0001-01-01T00:00:00+14:00", field="at")) == ["at"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Ada\x00", parsing.NUL_MESSAGE),
        ("Ada\ud800", parsing.SURROGATE_MESSAGE),
        ("x" * 201, "Ensure this field has no more than 200 characters."),
    ],
)
def test_text_without_nul_or_lone_surrogates_within_its_length(value, message):
    assert refused(parsing.parse_text, value, field="name", max_length=200) == {"name": [message]}
    assert parsing.parse_text("line\nbreak", field="note", max_length=20, multiline=True)


def test_a_search_is_one_line_of_at_most_two_hundred_characters():
    assert parsing.parse_search("  Ada \t Lovelace \n") == "Ada Lovelace"
    assert list(refused(parsing.parse_search, "a" * 40_000)) == ["q"]
    assert list(refused(parsing.parse_search, "Ada\x00")) == ["q"]


def test_a_choice_is_one_of_those_offered():
    assert parsing.parse_choice("email", field="channel", choices=[("email", "Email")]) == "email"
    assert list(refused(parsing.parse_choice, "\ud800", field="channel", choices=["email"])) == [
        "channel"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/manage/handoffs/?page=2", "/manage/handoffs/?page=2"),
        ("-1", "/back/"),
        ("handoff-audit", "/back/"),
        ("//evil.example/", "/back/"),
        ("/\\evil.example/", "/back/"),
        ("https://evil.example/", "/back/"),
        ("/manage/\x00", "/back/"),
        ("/\t/evil.example/", "/back/"),
        ("", "/back/"),
        (None, "/back/"),
    ],
)
def test_a_next_address_is_a_path_on_this_site(value, expected):
    assert parsing.local_url(value, default="/back/") == expected


# --- the JSON door -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_json_choice_field_is_invalid_input(world):
    body = {
        "customer_id": CustomerFactory().pk,
        "channel": "CHANNEL",
        "subject": "Hello",
        "team": world["team"].pk,
    }
    raw = json.dumps(body).replace("CHANNEL", "\\ud800")
    response = client_for(world["owner"]).post(
        "/api/v1/cases/", raw, content_type="application/json"
    )
    assert assert_error(response, 400, "invalid_input")["fields"] == {
        "channel": [parsing.SURROGATE_MESSAGE]
    }


@pytest.mark.django_db
def test_a_lone_surrogate_deep_in_a_body_names_its_path(world):
    raw = '{"cases": [{"case": "CASE-1", "next_step": "\\udfff"}]}'
    agent = world["owner"].pk
    response = client_for(world["manager"]).post(
        f"/api/v1/agents/{agent}/cover-for/", raw, content_type="application/json"
    )
    assert assert_error(response, 400, "invalid_input")["fields"] == {
        "cases.0.next_step": [parsing.SURROGATE_MESSAGE]
    }


@pytest.mark.django_db
def test_a_surrogate_pair_is_text_and_passes(world):
    raw = '{"text": "a smile \\ud83d\\ude00"}'
    case = world["case"]
    response = client_for(world["owner"]).post(
        f"/api/v1/cases/{case.ref}/notes/", raw, content_type="application/json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("accept", ["application/json", "application/json; indent=2"])
def test_the_renderer_writes_a_lone_surrogate_as_an_escape(accept):
    data = {"code": "invalid_input", "message": '"\ud800" is not a valid choice.'}
    out = JSONRenderer().render(data, accept, {})
    assert json.loads(out)["message"] == '"\ud800" is not a valid choice.'


def test_a_date_and_time_input_speaks_the_pages_locale():
    """A British team reads and types "dd/mm/yyyy hh:mm" (the browser's datetime-local
    picker showed mm/dd/yyyy in an American browser); ISO from a link still reads."""
    import datetime as dt

    from django import forms
    from django.utils import translation

    from caseowner.parsing import DateTimeFormField, LocaleDateTimeInput

    class F(forms.Form):
        at = DateTimeFormField(widget=LocaleDateTimeInput())

    with translation.override("en-gb"):
        html = str(F(initial={"at": dt.datetime(2026, 12, 8, 9, 30)})["at"])
        assert 'value="08/12/2026 09:30"' in html and 'placeholder="dd/mm/yyyy hh:mm"' in html
        assert 'type="text"' in html
        for typed in ("08/12/2026 09:30", "2026-12-08T09:30"):
            form = F({"at": typed})
            assert form.is_valid(), form.errors
            assert form.cleaned_data["at"].replace(tzinfo=None) == dt.datetime(2026, 12, 8, 9, 30)
    with translation.override("de"):
        assert 'value="08.12.2026 09:30"' in str(
            F(initial={"at": dt.datetime(2026, 12, 8, 9, 30)})["at"]
        )


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00"])
def test_a_datetime_at_the_calendars_ends_is_typed_back_without_overflowing(value):
    """A form sent back with a datetime at the calendar's ends shows what was typed: moving
    it into the team's zone would leave the calendar (OverflowError, a 500)."""
    import zoneinfo

    from django.utils import timezone

    from caseowner.parsing import LocaleDateTimeInput

    with timezone.override(
        zoneinfo.ZoneInfo("Pacific/Kiritimati" if "-12" in value else "America/New_York")
    ):
        shown = LocaleDateTimeInput().format_value(value)
    assert shown.startswith(value[:4])
