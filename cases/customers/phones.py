"""Phone numbers: parsed with ``phonenumbers``, stored in E.164, shown in national format.

A number typed without a country code is read in a default region: the team's
(``Team.phone_region``), else ``settings.PHONE_DEFAULT_REGION``. "07700 900021",
"+44 7700 900021" and "(0)7700-900021" are then the same stored string, ``+447700900021``,
which is what duplicate checks and search compare.
"""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings

_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
PHONE_ERROR = "Not a phone number we can read; include the country code, e.g. +44 7700 900021."


class InvalidPhone(ValueError):
    """The text is not a possible phone number in the region given."""


def default_region() -> str:
    return getattr(settings, "PHONE_DEFAULT_REGION", "GB")


def to_e164(raw: str, region: str | None = None) -> str:
    """``raw`` in E.164 (``""`` for blank); InvalidPhone when it cannot be a phone number.

    "Possible" (the right length for its country), not "valid" (an allocated range): a
    customer's real number must never be refused because our metadata is a release behind.
    """
    text = raw.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (region or default_region()).upper())
    except phonenumbers.NumberParseException:
        raise InvalidPhone(PHONE_ERROR) from None
    # Reachable from anywhere: not a local-only fragment ("0770", "7946 0000").
    if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        raise InvalidPhone(PHONE_ERROR)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def search_e164(text: str, region: str | None = None) -> str | None:
    """The E.164 form of a search box entry that looks like a phone number, else None.

    Stricter than ``to_e164``: at least seven digits and nothing but phone punctuation, so a
    case number ("123", "CASE-000123") or a name is never read as a phone.
    """
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or any(ch.isalpha() for ch in text):
        return None
    try:
        return to_e164(text, region)
    except InvalidPhone:
        return None


def national(e164: str) -> str:
    """The stored number as its own country writes it ("07700 900021"); text that does not
    parse (a number kept as typed before numbers were checked) is shown as it is."""
    if not e164:
        return ""
    if e164.startswith("+"):
        return _national_of_e164(e164)
    return _formatted(e164, default_region())


@functools.lru_cache(maxsize=8192)
def _national_of_e164(e164: str) -> str:
    # a page of the queue formats every customer's number: parsing is the costly part
    return _formatted(e164, None)


def _formatted(text: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def is_region(code: str) -> bool:
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
