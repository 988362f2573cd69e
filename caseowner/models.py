"""The kernel's own table: the answers kept for retried requests (``Idempotency-Key``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """One client's key for one creating request, and the answer it got.

    The row is written in the same transaction as the request's own writes, so it exists
    exactly when they do: a retry finds it and gets the same answer, a request that failed
    left none. The unique constraint on (user, key) is what a concurrent duplicate meets.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the operation (method and path) and the body as parsed, in canonical JSON
    fingerprint = models.CharField(max_length=64)
    # null while the request is in flight (never seen committed: it fills it before commit)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    # the headers the view set on its answer (Location, ETag …), replayed as they were
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
