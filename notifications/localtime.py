"""The one way a message writes a moment: in the reader's time zone and language,
``Friday 4 December 2026, 12:00 GMT`` (``Freitag, 4. Dezember 2026, 12:00 CET``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import dateformat
from django.utils.dateparse import parse_datetime
from django.utils.translation import pgettext


def reader_zone(tz_name: str) -> ZoneInfo:
    """The named zone; an unknown one reads as UTC."""
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time_text(moment: datetime | str | None, tz_name: str) -> str:
    """A moment (aware datetime or ISO 8601 text) as the reader reads it, in the active
    language; "" for none. Text that is not a moment is returned as it is."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        parsed = parse_datetime(moment)
        if parsed is None or parsed.tzinfo is None:
            return moment
        moment = parsed
    local = moment.astimezone(reader_zone(tz_name))
    # Translators: a date and time in Django's date format (l weekday, j day, F month, T zone)
    return dateformat.format(local, pgettext("notice date", "l j F Y, H:i T"))
