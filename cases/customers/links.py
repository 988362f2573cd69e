"""Signed customer links: an id and a generation, never personal data; always expiring."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

_SALT = "caseowner.customer-link.v1"


def make_customer_token(*, case_id: int, generation: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"c": case_id, "g": generation})


def read_customer_token(token: str) -> tuple[int, int] | None:
    """(case id, generation) for a valid, unexpired token; None otherwise."""
    try:
        data = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=settings.CUSTOMER_LINK_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    return data["c"], int(data.get("g", 0))


def customer_url(*, case_id: int, generation: int) -> str:
    token = make_customer_token(case_id=case_id, generation=generation)
    return f"{settings.SITE_URL}/c/{token}/"
