"""The change stamp of the live parts of My queue and the case page: one cheap query whose
answer changes whenever what those parts show would change, so a poll of an unchanged
fragment answers ``304 Not Modified`` without rendering anything.

What must change the stamp, and the part of the query that sees it:

- an offer arriving, accepted, declined or cancelled: the count and newest id of the hand-offs
  offered to the reader (of the case, on the case page);
- a customer replying, a status, priority or owner change, a case opened or closed: the count,
  newest ``updated_at`` and ``awaiting_reply_since`` of the reader's open cases (the case's);
- a call to make appearing or done: the count and newest id of the open owner tasks;
- a promise made, kept, delayed, withdrawn or confirmed on track: the parts the apps register
  in ``hooks.live_stamp_parts`` (the promises' count and newest id);
- a promise turning at risk or overdue with nothing written, only time passing: the counts of
  promises (``hooks.live_stamp_parts``) and of cases (``next_due_at``) past those instants
  *now*, so the stamp moves at the instant the flag does;
- a colleague's absence starting or ending (the "Covering for" sections): the count and newest
  ``updated_at`` of the cases the reader may cover now.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Aggregate, CharField, Count, F, Max, Q, QuerySet, Subquery, Value
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Cast, Concat

from caseowner.types import User
from cases import hooks
from cases.availability.hours import cover_candidates
from cases.models import OPEN_STATUSES, Case, Handoff, HandoffStatus, OwnerTask
from cases.permissions import visible_cases
from cases.selectors import ACT_FIRST_HORIZON

_TEMPLATE = (
    "(SELECT CAST(COUNT(*) AS TEXT) || ':' || COALESCE(CAST(MAX(_s.v) AS TEXT), '') "
    "FROM (%(subquery)s) _s)"
)


def count_and_newest(qs: QuerySet, field: str) -> BaseExpression:
    """``"<rows>:<largest field>"`` of ``qs``, as a scalar subquery of one text column."""
    return Subquery(
        qs.order_by().annotate(v=F(field)).values("v"),
        output_field=CharField(),
        template=_TEMPLATE,
    )


def packed(qs: QuerySet, group: str, *aggregates: Aggregate) -> BaseExpression:
    """The ``aggregates`` of ``qs`` joined into one text, as a scalar subquery: one scan for
    several figures. ``group`` is a column every row of ``qs`` shares (the owner, the status
    filtered on), so the rows form one group; no row gives NULL."""
    joined: list[Any] = []
    for aggregate in aggregates:
        joined += [Cast(aggregate, output_field=CharField()), Value(":")]
    return Subquery(
        qs.order_by()
        .values(group)
        .annotate(v=Concat(*joined, output_field=CharField()))
        .values("v")[:1],
        output_field=CharField(),
    )


def _parts(
    cases: QuerySet[Case], group: str, offers: QuerySet[Handoff], now: datetime
) -> dict[str, Any]:
    soon = now + ACT_FIRST_HORIZON
    parts: dict[str, Any] = {
        # count, newest change, replies waiting, past due (a case no promise app answers for)
        "cases": packed(
            cases,
            group,
            Count("pk"),
            Max("updated_at"),
            Count("pk", filter=Q(awaiting_reply_since__isnull=False)),
            Count("pk", filter=Q(next_due_at__lte=now)),
        ),
        "offers": count_and_newest(offers, "pk"),
        "tasks": count_and_newest(
            OwnerTask.objects.filter(case__in=cases.values("pk"), done_at__isnull=True), "pk"
        ),
    }
    for handler in hooks.live_stamp_parts:
        for name, expr in handler(case_ids=cases.values("pk"), now=now, soon=soon).items():
            parts[f"h_{name}"] = expr
    return parts


def _digest(scope: str, values: dict[str, Any], extra: str) -> str:
    text = "|".join([scope, extra, *(f"{k}={values[k]}" for k in sorted(values))])
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _queue_stamp_query(user: Any, now: datetime) -> QuerySet:
    mine = Case.objects.filter(owner=user, status__in=OPEN_STATUSES)
    offers = Handoff.objects.filter(to_agent=user, status=HandoffStatus.OFFERED)
    parts = _parts(mine, "owner", offers, now)
    parts["covering"] = count_and_newest(cover_candidates(user=user, at=now), "updated_at")
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**parts)
        .values("is_active", *parts.keys())
        .order_by()[:1]
    )


# Compiling the stamp's query costs more CPU than the database spends answering it: it is
# compiled once per process (and per set of registered parts) with stand-in values for the
# reader and the instants, which each poll replaces in the parameters.
_STAND_IN_USER = -7_654_321
_STAND_IN_NOW = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
_compiled: dict[tuple, tuple[str, tuple, list[str]]] = {}


def _queue_sql(alias: str) -> tuple[str, tuple, list[str]]:
    key = (alias, tuple(id(h) for h in hooks.live_stamp_parts))
    if key not in _compiled:
        stand_in = get_user_model()(pk=_STAND_IN_USER)
        query = _queue_stamp_query(stand_in, _STAND_IN_NOW).using(alias)
        sql, params = query.query.get_compiler(using=alias).as_sql()
        names = [name for name in query.query.values_select] + list(query.query.annotation_select)
        _compiled[key] = (sql, tuple(params), names)
    return _compiled[key]


def queue_stamp_statement(*, user: Any, now: datetime) -> tuple[str, str, list, list[str]]:
    """(database alias, SQL, parameters, column names) of My queue's stamp query."""
    alias = router.db_for_read(Case)
    sql, params, names = _queue_sql(alias)
    # the instants as the backend's parameters carry them (a string on SQLite)
    adapt = connections[alias].ops.adapt_datetimefield_value
    soon = ACT_FIRST_HORIZON
    instants = {adapt(_STAND_IN_NOW): adapt(now), adapt(_STAND_IN_NOW + soon): adapt(now + soon)}
    actual = [user.pk if p == _STAND_IN_USER else instants.get(p, p) for p in params]
    return alias, sql, actual, names


def queue_stamp(*, user: User, now: datetime, extra: str = "") -> str:
    """My queue's stamp, in one query (anchored on the reader's own row). ``extra``: what
    else the rendering depends on (the page, the language, the "new since" instant)."""
    alias, sql, actual, names = queue_stamp_statement(user=user, now=now)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, actual)
        row = cursor.fetchone()
    return _digest(f"queue:{user.pk}", dict(zip(names, row, strict=True)) if row else {}, extra)


def case_stamp(*, user: User, case_id: int, now: datetime, extra: str = "") -> str | None:
    """The case page's live part's stamp, in one query that is also the permission check:
    None when the reader may not see the case."""
    one = Case.objects.filter(pk=case_id)
    offers = Handoff.objects.filter(case_id=case_id, status=HandoffStatus.OFFERED)
    parts = _parts(one, "pk", offers, now)
    row = (
        visible_cases(user)
        .filter(pk=case_id)
        .annotate(**parts)
        .values("status", "owner_id", *parts.keys())
        .first()
    )
    if row is None:
        return None
    return _digest(f"case:{case_id}:{user.pk}", row, extra)


def new_since(
    *,
    offers: list[Handoff],
    tasks: list[OwnerTask],
    rows: list[Any],
    since: datetime,
    now: datetime,
) -> int:
    """What arrived in the queue after ``since`` (the page's load), for the tab's title: offers
    made, calls to make, customers' replies and promises that fell due since then."""
    return (
        sum(1 for o in offers if o.offered_at > since)
        + sum(1 for t in tasks if t.created_at > since)
        + sum(
            1
            for r in rows
            if (r.case.awaiting_reply_since and r.case.awaiting_reply_since > since)
            or (r.case.next_due_at and since < r.case.next_due_at <= now)
        )
    )
