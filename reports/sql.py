"""SQL pieces the reports share, and percentiles with ``percentile_cont`` semantics.

Times to accept are percentiles with ``percentile_cont`` semantics (linear interpolation
between the two nearest values). The same ``GROUP BY`` query returns each week's list of
seconds (``ARRAY_AGG`` on PostgreSQL, ``GROUP_CONCAT`` on SQLite) and Python interpolates;
the list is bounded by one team's accepted hand-offs in at most ``MAX_WEEKS`` weeks, and the
period's percentiles come from the union of the weekly lists without another query.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Aggregate,
    F,
    Func,
    IntegerField,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Coalesce

# --- SQL pieces ----------------------------------------------------------------------------------


class SecondsBetween(Func):
    """Seconds from ``offered_at`` to ``decided_at`` (a float)."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def __init__(self, later: str, earlier: str) -> None:
        super().__init__(F(later), F(earlier), output_field=TextField())

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class ListOf(Aggregate):
    """Each group's values as one list: ``ARRAY_AGG`` (PostgreSQL), ``GROUP_CONCAT`` (SQLite);
    read it with ``floats_of``."""

    function = "ARRAY_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def floats_of(value: Any) -> list[float]:
    if value is None:
        return []
    if isinstance(value, str):
        return [round(float(v), 3) for v in value.split(",") if v]
    return [round(float(v), 3) for v in value if v is not None]


def count_of(qs: QuerySet) -> Coalesce:
    """``COUNT(*)`` of ``qs`` as a scalar subquery."""
    # COUNT(*), not COUNT(id): an index that holds the filtered columns answers it alone
    # (an index-only scan of the visible pages), where counting ids reads every row.
    counted = qs.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField()))
    counted = counted.values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont``: interpolate between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
