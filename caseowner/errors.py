"""The one domain exception type services raise.

Each app subclasses it (``cases.errors.CaseRuleError`` …) so a caller can tell where a rule
lives; the API's exception handler and the HTML pages show ``code`` and ``message`` as they are.
"""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """A business rule refused the request. ``code`` is stable snake_case, never renamed."""

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        # More keys of the error body for the codes that document them (``customer_exists``
        # carries ``match``: the existing record).
        self.extra = extra or {}
        # Response headers the refusal carries (a 412 gives the record's current ``ETag``).
        self.headers = headers or {}
        if status is not None:
            self.status_code = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFoundError(RuleError):
    """The object does not exist *for this caller* (other teams' objects included)."""

    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message)
