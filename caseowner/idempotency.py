"""Safe retries: ``Idempotency-Key`` on every API operation that creates something.

A client that sends ``Idempotency-Key: <key>`` with a creating ``POST`` may send the very
same request again (a time-out, a dropped connection) and is sure it is done once:

- the same key (per user) and the same request within 24 hours answers the first answer
  again (status, body and the headers the operation set), with ``Idempotent-Replayed: true``,
  and does nothing;
- the same key with another body (or another operation) is refused, 422
  ``idempotency_key_reused``: a key names one request;
- a duplicate sent while the first is still in flight waits for it (up to
  ``IDEMPOTENCY_WAIT_SECONDS``) and then answers as above, or 409
  ``idempotency_key_in_progress`` when the first takes longer; never a second write.

How: the key's row is inserted in the same transaction as the operation's own writes and
filled with the answer before that transaction commits. A concurrent duplicate's insert
meets the unique constraint on (user, key) and waits on the first one's row lock: if the
first commits, the duplicate reads its answer; if it fails (a refusal, a crash), its row is
gone with its writes, and the duplicate does the work itself. Only successful (2xx) answers
are kept: a refused request did nothing, and its retry is judged afresh. Rows older than
24 hours are deleted when a request meets one, and by the periodic
``caseowner.prune_idempotency_keys``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from caseowner.api import JSONRenderer
from caseowner.errors import RuleError
from caseowner.models import IdempotencyKey
from caseowner.types import User

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX = 255
KEY_LIFETIME = timedelta(hours=24)
PRUNE_BATCH = 1000
# Headers of an answer that describe its encoding, not the operation: written afresh on replay.
_NOT_REPLAYED = frozenset({"content-type", "content-length", "vary", "allow"})
# PostgreSQL's lock_not_available: the first request held the key longer than we wait.
_LOCK_NOT_AVAILABLE = "55P03"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; a key of the client's choosing (a UUID), at most 255 visible ASCII "
        "characters, that makes a retry safe. The same key and the same body within 24 hours "
        "answer the first (successful) answer again, with `Idempotent-Replayed: true`, and do "
        "nothing; another body with the same key answers 422 `idempotency_key_reused`; a "
        "retry sent while the first request is still in flight waits for it, or answers 409 "
        "`idempotency_key_in_progress`. Keys are per user. A refused request keeps nothing: "
        "its retry is judged afresh."
    ),
)


def wait_seconds() -> float:
    """How long a concurrent duplicate waits for the first request before 409."""
    return float(settings.IDEMPOTENCY_WAIT_SECONDS)


def parse_key(raw: str) -> str:
    """The key as the client sent it (a quoted structured-field string is unquoted); 400
    ``invalid_idempotency_key`` for an empty, over-long or non-ASCII key."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > KEY_MAX or not all(" " <= c <= "~" for c in key):
        raise RuleError(
            "invalid_idempotency_key",
            "The Idempotency-Key header must hold 1 to 255 visible ASCII characters.",
            fields={HEADER: ["1 to 255 visible ASCII characters, e.g. a UUID."]},
        )
    return key


def request_fingerprint(request: Request) -> str:
    """What makes two requests "the same": the operation (method and path with its query)
    and the body as parsed, in canonical JSON (key order and spacing do not count)."""
    data: Any = request.data
    if hasattr(data, "lists"):  # a QueryDict: every value of every field
        data = dict(data.lists())
    canonical = json.dumps(
        [request.method, request.get_full_path(), data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@contextmanager
def _lock_wait(seconds: float) -> Iterator[None]:
    """On PostgreSQL, wait at most ``seconds`` for a row lock inside the block (this
    transaction only), then put the caller's own limit back."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('lock_timeout')")
        previous = cur.fetchone()[0]
        cur.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(seconds * 1000)}ms"])
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _in_progress() -> RuleError:
    return RuleError(
        "idempotency_key_in_progress",
        "A request with this Idempotency-Key is still in progress; retry it in a moment.",
        status=409,
    )


def idempotency_claim(
    *, user: User, key: str, fingerprint: str, now: datetime | None = None
) -> IdempotencyKey:
    """Claim ``key`` for this request, inside the caller's transaction (the one that does the
    operation). Returns the row: with ``status_code`` None it is this request's to fill
    (``idempotency_record``); otherwise it holds the first answer, to give again. Raises 422
    ``idempotency_key_reused`` for another request under the same key, 409
    ``idempotency_key_in_progress`` when the first one holds the key past the wait."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_claim runs inside the operation's transaction")
    now = now or timezone.now()
    for _ in range(3):
        try:
            with _lock_wait(wait_seconds()), transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=None,
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                )
        except IntegrityError:
            pass
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                raise _in_progress() from None
            raise
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # pruned between the insert and the read: claim it afresh
        if existing.expires_at <= now:
            IdempotencyKey.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise RuleError(
                "idempotency_key_reused",
                "This Idempotency-Key was used for another request in the last 24 hours; "
                "use a new key for a new request.",
                status=422,
                fields={HEADER: ["Already used with another body or operation."]},
            )
        if existing.status_code is None:
            raise _in_progress()
        return existing
    raise _in_progress()


def idempotency_record(*, claim: IdempotencyKey, response: Any) -> None:
    """Keep the answer on the claimed row, in the operation's transaction. Only a successful
    DRF answer is kept; anything else gives the key up (the request did nothing to repeat)."""
    status = getattr(response, "status_code", 500)
    if not isinstance(response, Response) or not 200 <= status < 300:
        claim.delete()
        return
    body = None
    if response.data is not None:
        body = orjson.loads(JSONRenderer().render(response.data) or b"null")
    claim.status_code = status
    claim.body = body
    claim.headers = {
        name: value for name, value in response.items() if name.lower() not in _NOT_REPLAYED
    }
    claim.save(update_fields=["status_code", "body", "headers"])


def replay(row: IdempotencyKey) -> Response:
    """The first answer again, marked as a replay."""
    assert row.status_code is not None
    headers = {**row.headers, REPLAYED_HEADER: "true"}
    return Response(row.body, status=row.status_code, headers=headers)


def idempotent(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a creating API view's ``post``: honour ``Idempotency-Key`` and document it.

    Without the header (or for an anonymous caller) the view runs as before. With it, the
    view runs inside one transaction with the key's row, so the key exists exactly when the
    operation's writes do."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None or not request.user.is_authenticated:
            return method(view, request, *args, **kwargs)
        key = parse_key(raw)
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            claim = idempotency_claim(user=request.user, key=key, fingerprint=fingerprint)
            if claim.status_code is not None:
                return replay(claim)
            response = method(view, request, *args, **kwargs)
            idempotency_record(claim=claim, response=response)
            return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)


def idempotency_keys_prune(*, now: datetime | None = None, batch_size: int = PRUNE_BATCH) -> int:
    """Delete the keys past their 24 hours, ``batch_size`` rows per short transaction.
    Returns how many went."""
    now = now or timezone.now()
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                IdempotencyKey.objects.filter(expires_at__lte=now)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return deleted
            deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            return deleted


_ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_IN_PROGRESS = (
    "`idempotency_key_in_progress`: a request with this Idempotency-Key is still in flight."
)


def document_idempotency(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: every operation that takes ``Idempotency-Key``
    documents 409 ``idempotency_key_in_progress``, 422 ``idempotency_key_reused`` and the
    ``Idempotent-Replayed`` header of a replayed answer."""
    replayed = {
        "description": "`true` when this is the first answer to the same Idempotency-Key, "
        "given again; the operation was not done again.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            names = {
                p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"
            }
            if HEADER not in names:
                continue
            responses = operation.setdefault("responses", {})
            if "409" in responses:
                described = responses["409"].get("description", "")
                responses["409"]["description"] = f"{described} {_IN_PROGRESS}".strip()
            else:
                responses["409"] = {"description": _IN_PROGRESS, **_ERROR_REF}
            responses.setdefault(
                "422",
                {
                    "description": "`idempotency_key_reused`: this Idempotency-Key was used "
                    "with another body or operation in the last 24 hours.",
                    **_ERROR_REF,
                },
            )
            for code, answer in responses.items():
                if code.startswith("2"):
                    answer.setdefault("headers", {})[REPLAYED_HEADER] = replayed
    return result
