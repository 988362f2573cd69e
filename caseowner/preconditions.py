"""No lost updates: a record's version as an ``ETag``, and ``If-Match`` on its ``PATCH``.

A client reads a record (``GET`` answers its ``ETag``), changes it, and sends the ``PATCH``
with ``If-Match: <that ETag>``. When someone else changed the record in between, the
``PATCH`` is refused, 412 ``precondition_failed``, and changes nothing; the refusal carries the
record's current ``ETag``, so the client reads the record again and decides. Without
``If-Match`` a ``PATCH`` applies as before.

The version is a digest of every column of the record's row, so any change to the row
(whichever service or page made it) is a new version. The service compares it with the row
locked (``SELECT … FOR UPDATE``), in the transaction that then writes, so two clients holding
the same version cannot both pass.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter

from caseowner.errors import RuleError

IF_MATCH = "If-Match"


def etag_of(instance: models.Model) -> str:
    """The row's version as a strong entity tag (``"…"``): a digest of every column."""
    values = [instance._meta.label, *(
        field.value_to_string(instance) for field in instance._meta.concrete_fields
    )]  # fmt: skip
    digest = hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def if_match_holds(if_match: str, current: str) -> bool:
    """RFC 9110 ``If-Match``: ``*`` or a list of entity tags, compared strongly (a weak
    ``W/"…"`` tag never matches). An unquoted tag is read as if it were quoted."""
    tags = parse_etags(if_match)
    if not tags and if_match.strip():
        tags = [f'"{tag.strip()}"' for tag in if_match.split(",") if tag.strip()]
    return "*" in tags or current in tags


def require_if_match(if_match: str | None, instance: models.Model) -> None:
    """Refuse, 412 ``precondition_failed``, a change made against another version of
    ``instance`` than the one it has now. Call it with the row locked, before writing.
    ``None`` (no ``If-Match`` header) always passes. The refusal's ``ETag`` header is the
    version it has now (RFC 9110 lets a 412 say it), so the client knows what to read."""
    if if_match is None:
        return
    current = etag_of(instance)
    if not if_match_holds(if_match, current):
        raise RuleError(
            "precondition_failed",
            "The record changed since you read it: read it again (its new ETag), then "
            "decide whether your change still applies.",
            status=412,
            fields={IF_MATCH: ["Not the record's current ETag."]},
            headers={"ETag": current},
        )


def with_etag(response: Any, instance: models.Model) -> Any:
    """``response`` with the ``ETag`` header of ``instance``'s current version."""
    response["ETag"] = etag_of(instance)
    return response


IF_MATCH_PARAMETER = OpenApiParameter(
    IF_MATCH,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional: the ETag the record had when you read it. When the record has "
    "changed since, nothing changes and the answer is 412 `precondition_failed`: read it "
    "again, then decide. `*` matches any version.",
)

ETAG_PARAMETER = OpenApiParameter(
    "ETag",
    str,
    location=OpenApiParameter.HEADER,
    response=[200, 412],
    description="The record's current version: send it back as If-Match on a PATCH so that "
    "you never overwrite a change you have not seen. A 412 carries it too: the version the "
    "record has now.",
)
