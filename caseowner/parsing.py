"""Untrusted input: the one door through which pages and the API read ids, dates, times, text,
search queries and choices from a request.

What a request may carry and the database, Python's ``date`` or a template may not: digits
that are digits to ``str.isdigit`` but not to ``int`` ("²") or that ``int`` reads though no
one typed a number ("١٢"); the calendar's ends (0001-01-01, 9999-12-31), where a week's
arithmetic overflows; a NUL byte, which PostgreSQL refuses in text; a lone surrogate
("\\ud800" in JSON), which no encoder writes back out; text longer than any index or ``LIKE``
pattern should see. Each is refused here with ``invalid_input`` and a message for the field,
so nothing behind the door meets it.

- Integers: ASCII digits only (a sign allowed), within bounds; ids from 1 to 2**63 - 1.
- Dates and datetimes: ASCII ISO text, years ``MIN_YEAR``–``MAX_YEAR``: a report period, an
  absence or a closed day beyond them is a typing slip, and weeks of arithmetic around any
  accepted day stay inside what ``date`` holds. A datetime is timezone-aware (naive text is
  read in the current time zone) and within the bounds in UTC too.
- Text: no NUL, no lone surrogate, the control-character rules of ``caseowner.text``, a
  maximum length. Search text is one line, whitespace collapsed, at most ``SEARCH_MAX``.
- Choices: one of the values offered, compared as text.

Each rule comes as a plain function raising ``RuleError("invalid_input", …, fields=…)`` and as
the form field, DRF field or validator that applies the same rule, so a page and the API
cannot differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date as _iso_date
from django.utils.dateparse import parse_datetime as _iso_datetime
from django.utils.deconstruct import deconstructible
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, pgettext_lazy
from rest_framework import serializers

from caseowner.errors import RuleError
from caseowner.text import text_problem

MIN_YEAR = 1900
MAX_YEAR = 2999
EARLIEST = dt.date(MIN_YEAR, 1, 1)
LATEST = dt.date(MAX_YEAR, 12, 31)
# Ids are 64-bit integers in the database.
MAX_ID = 2**63 - 1
# A search box's text, in characters after whitespace is collapsed.
SEARCH_MAX = 200

INVALID = "The request has invalid fields."
INT_MESSAGE = "Enter a whole number in digits 0-9."
DATE_MESSAGE = "Enter a date as YYYY-MM-DD."
DATETIME_MESSAGE = "Enter a date and time as YYYY-MM-DDTHH:MM[:SS][±HH:MM]."
RANGE_MESSAGE = f"Enter a date between {MIN_YEAR} and {MAX_YEAR}."
NUL_MESSAGE = "Null characters are not allowed."
SURROGATE_MESSAGE = "Lone surrogate characters are not allowed."
CHOICE_MESSAGE = "Not one of the choices offered."

_ASCII_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse(field: str, message: str) -> RuleError:
    return RuleError("invalid_input", INVALID, fields={field: [message]})


# --- the rules, each returning a problem (a message) or the parsed value ----------------------


def has_lone_surrogate(value: str) -> bool:
    """A code point a UTF-8 encoder refuses (a half of a pair, alone in a Python ``str``)."""
    return _SURROGATE.search(value) is not None


def int_problem(
    value: Any, *, min_value: int | None = None, max_value: int | None = None
) -> str | None:
    """Why ``value`` is not an integer of these bounds, or None."""
    if isinstance(value, bool):
        return INT_MESSAGE
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()) and len(value) < 40:
        number = int(value.strip())
    else:
        return INT_MESSAGE
    if min_value is not None and number < min_value:
        return f"Ensure this value is greater than or equal to {min_value}."
    if max_value is not None and number > max_value:
        return f"Ensure this value is less than or equal to {max_value}."
    return None


def date_problem(value: dt.date) -> str | None:
    """Why this date or datetime is out of range (an aware datetime in UTC too), or None."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        return RANGE_MESSAGE
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        # safe: within the years above, an offset of under a day cannot overflow
        if not EARLIEST <= value.astimezone(dt.UTC).date() <= LATEST:
            return RANGE_MESSAGE
    return None


def text_input_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """Why this text is refused (NUL, a lone surrogate, a control character, its length)."""
    if "\x00" in value:
        return NUL_MESSAGE
    if has_lone_surrogate(value):
        return SURROGATE_MESSAGE
    return text_problem(value, max_length=max_length, multiline=multiline)


# --- plain functions: the parsed value, or RuleError invalid_input ----------------------------


def parse_int(
    value: Any, *, field: str, min_value: int | None = None, max_value: int | None = None
) -> int:
    problem = int_problem(value, min_value=min_value, max_value=max_value)
    if problem:
        raise _refuse(field, problem)
    return int(value.strip() if isinstance(value, str) else value)


def parse_id(value: Any, *, field: str) -> int:
    """An object id: 1 to 2**63 - 1, ASCII digits."""
    return parse_int(value, field=field, min_value=1, max_value=MAX_ID)


def id_or_none(value: Any, *, max_value: int = MAX_ID) -> int | None:
    """An object id, or None for anything else (where a bad id only finds nothing)."""
    if int_problem(value, min_value=1, max_value=max_value):
        return None
    return int(value.strip() if isinstance(value, str) else value)


def check_date(value: dt.date, *, field: str) -> dt.date:
    """A date (or datetime) already parsed, within ``MIN_YEAR``–``MAX_YEAR``."""
    problem = date_problem(value)
    if problem:
        raise _refuse(field, problem)
    return value


def parse_date(value: Any, *, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _refuse(field, DATE_MESSAGE)
    if isinstance(value, dt.date):
        return check_date(value, field=field)
    text = value.strip() if isinstance(value, str) else ""
    try:
        parsed = _iso_date(text) if text.isascii() else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _refuse(field, DATE_MESSAGE)
    return check_date(parsed, field=field)


def parse_datetime(value: Any, *, field: str) -> dt.datetime:
    """An aware datetime (naive text is read in the current time zone)."""
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        try:
            parsed = _iso_datetime(text) if text.isascii() else None
        except ValueError:
            parsed = None
    if parsed is None:
        raise _refuse(field, DATETIME_MESSAGE)
    if not EARLIEST <= parsed.date() <= LATEST:
        raise _refuse(field, RANGE_MESSAGE)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return check_date(parsed, field=field)  # type: ignore[return-value]


def parse_text(value: Any, *, field: str, max_length: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise _refuse(field, "Enter text.")
    problem = text_input_problem(value, max_length=max_length, multiline=multiline)
    if problem:
        raise _refuse(field, problem)
    return value


def parse_search(value: Any, *, field: str = "q", max_length: int = SEARCH_MAX) -> str:
    """What a search box holds: one line, whitespace collapsed, at most ``max_length``."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    problem = text_input_problem(text, max_length=max_length)
    if problem:
        raise _refuse(field, problem)
    return text


def parse_choice(value: Any, *, field: str, choices: Iterable[Any]) -> str:
    """One of ``choices`` (values, or ``(value, label)`` pairs), compared as text."""
    values = {str(c[0] if isinstance(c, tuple | list) else c) for c in choices}
    if not isinstance(value, str) or value not in values:
        raise _refuse(field, CHOICE_MESSAGE)
    return value


def local_url(value: Any, *, default: str) -> str:
    """A ``next`` address: a path on this site ("/manage/…"), else ``default``. Never another
    host, scheme or a name ``redirect`` would try to reverse."""
    if not isinstance(value, str) or not value.startswith("/") or not value.isprintable():
        return default
    if value.startswith(("//", "/\\")) or has_lone_surrogate(value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not url_has_allowed_host_and_scheme(value, set()):
        return default
    return value


# --- validators for models, forms and serializers ---------------------------------------------


@deconstructible
class BoundedDate:
    """A validator: a date or datetime within ``MIN_YEAR``–``MAX_YEAR``."""

    def __call__(self, value: Any) -> None:
        if isinstance(value, dt.date) and date_problem(value):
            raise ValidationError(RANGE_MESSAGE, code="date_range")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundedDate)

    def __hash__(self) -> int:
        return hash("BoundedDate")


bounded_date = BoundedDate()


@deconstructible
class CleanText:
    """A validator: no NUL and no lone surrogate (other rules: ``caseowner.text``)."""

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationError(NUL_MESSAGE, code="null_characters")
            if has_lone_surrogate(value):
                raise ValidationError(SURROGATE_MESSAGE, code="surrogate_characters")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CleanText)

    def __hash__(self) -> int:
        return hash("CleanText")


clean_text = CleanText()


# --- Django form fields -----------------------------------------------------------------------


class IntegerFormField(forms.IntegerField):
    """An integer typed in ASCII digits ("²" and "١٢" are refused)."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if int_problem(value if isinstance(value, int) else str(value)):
            raise ValidationError(INT_MESSAGE, code="invalid")
        return super().to_python(value)


class IdFormField(IntegerFormField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class ModelChoiceFormField(forms.ModelChoiceField):
    """A model chosen by its id, typed in ASCII digits: "١٢" never picks row 12."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if not isinstance(value, models.Model) and int_problem(
            str(value), min_value=1, max_value=MAX_ID
        ):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class DateFormField(forms.DateField):
    """A date in ``MIN_YEAR``–``MAX_YEAR``."""

    default_validators = [bounded_date]

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, str) and not value.isascii():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


# How a date field's placeholder names each part, in the reader's language ("TT.MM.JJJJ").
_FORMAT_WORDS = (
    ("%d", pgettext_lazy("date input placeholder: day", "dd")),
    ("%m", pgettext_lazy("date input placeholder: month", "mm")),
    ("%Y", pgettext_lazy("date input placeholder: year", "yyyy")),
    ("%y", pgettext_lazy("date input placeholder: two-digit year", "yy")),
)


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
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                return value
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        shape = self.format or get_format("DATE_INPUT_FORMATS")[0]
        for code, word in _FORMAT_WORDS:
            shape = shape.replace(code, str(word))
        context["widget"]["attrs"].setdefault("placeholder", shape)
        context["widget"]["attrs"].setdefault(
            "title", gettext("A date, as %(shape)s") % {"shape": shape}
        )

        return context


class LocaleDateTimeInput(forms.DateTimeInput):
    """A date and time typed in the page's locale ("dd/mm/yyyy hh:mm" for a British team,
    "TT.MM.JJJJ hh:mm" in German), shown in it and said so in the placeholder: the browser's
    datetime-local picker showed "mm/dd/yyyy, hh:mm AM" to a British team in an American
    browser. The field reads ISO datetimes too (links and older forms carry them)."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                return value
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                try:
                    value = timezone.localtime(value)
                except OverflowError:  # the calendar's ends, typed back as they came
                    return value.isoformat()
            return value.strftime(f"{get_format('DATE_INPUT_FORMATS')[0]} %H:%M")
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        shape = get_format("DATE_INPUT_FORMATS")[0]
        for code, word in _FORMAT_WORDS:
            shape = shape.replace(code, str(word))
        shape = f"{shape} hh:mm"  # the same in English and German
        context["widget"]["attrs"].setdefault("placeholder", shape)
        context["widget"]["attrs"].setdefault(
            "title", gettext("A date, as %(shape)s") % {"shape": shape}
        )
        return context


class DateTimeFormField(forms.DateTimeField):
    """A datetime in ``MIN_YEAR``–``MAX_YEAR``, read in the current time zone; the range is
    checked before the zone is applied (at the calendar's ends that would overflow)."""

    default_validators = [bounded_date]

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str) and not value.isascii():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(value, str) and value.strip():
            naive = forms.DateTimeField(required=False)
            try:
                parsed = forms.DateTimeField.to_python(naive, value)
            except ValidationError:
                parsed = None
            if parsed is not None and not EARLIEST <= parsed.date() <= LATEST:
                raise ValidationError(RANGE_MESSAGE, code="date_range")
        return super().to_python(value)


# --- DRF fields -------------------------------------------------------------------------------


class DateApiField(serializers.DateField):
    """A date in ``MIN_YEAR``–``MAX_YEAR``, ASCII ISO text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(bounded_date)

    def to_internal_value(self, value: Any) -> dt.date:
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class DateTimeApiField(serializers.DateTimeField):
    """A datetime in ``MIN_YEAR``–``MAX_YEAR`` (in UTC too), ASCII ISO text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(bounded_date)

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            text = value.strip()
            try:
                parsed = _iso_datetime(text) if text.isascii() else None
            except ValueError:
                parsed = None
            if parsed is None:
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
            if not EARLIEST <= parsed.date() <= LATEST:
                raise serializers.ValidationError(RANGE_MESSAGE, code="date_range")
        return super().to_internal_value(value)
