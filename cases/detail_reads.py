"""The case detail's reads as statements written once (``caseowner.bound``): its newest
timeline events, its hand-offs and the customer's earlier cases, each the same queryset as
the selector the page uses, with the case (and its customer) as inputs. The customer's
history is a statement where every team's earlier cases are shown
(``CUSTOMER_VISIBILITY=organisation``); team-scoped, it depends on the reader's teams and
runs as the selector builds it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from caseowner.bound import Statement, any_of
from caseowner.types import User
from cases import payloads, selectors
from cases.errors import NotFoundError
from cases.models import Case, CaseEvent, Handoff, parse_ref
from cases.permissions import customers_organisation_wide, team_ids_visible

# The API's detail shows the newest events of the timeline; the case page pages through them.
API_TIMELINE_EVENTS = 50
_HISTORY_COLUMNS = ("id", "subject", "status", "channel", "created_at", "team_id")


def _timeline(case_id: int) -> QuerySet[Any]:
    # selectors.timeline_newest
    events = CaseEvent.objects.filter(case_id=case_id).order_by("-at", "-id")
    return events[:API_TIMELINE_EVENTS].values(*payloads.TIMELINE_COLUMNS)


def _handoffs(case_id: int) -> QuerySet[Any]:
    # selectors.case_handoffs
    handoffs = Handoff.objects.filter(case_id=case_id).order_by("-offered_at")
    return handoffs[: selectors.HANDOFFS_LIMIT].values(*payloads.HANDOFF_COLUMNS)


def _history(customer_id: int, case_id: int) -> QuerySet[Any]:
    # selectors.customer_history, organisation-wide
    earlier = Case.objects.filter(customer_id=customer_id).exclude(pk=case_id)
    return earlier.order_by("-created_at")[: selectors.HISTORY_LIMIT].values(
        *_HISTORY_COLUMNS, *payloads._person_columns("owner")
    )


def _case(pk: int, teams: list[int]) -> QuerySet[Case]:
    # selectors.case_get, the reader's teams bound as one array
    return Case.objects.filter(any_of("team_id", teams), pk=pk).select_related(*selectors._PEOPLE)


CASE = Statement(_case, pk=int, teams=list)
TIMELINE = Statement(_timeline, case_id=int)
HANDOFFS = Statement(_handoffs, case_id=int)
HISTORY = Statement(_history, customer_id=int, case_id=int)


def timeline(case: Case) -> list[dict[str, Any]]:
    return payloads.timeline_rows_payload(TIMELINE.rows(case_id=case.pk))


def handoffs(case: Case) -> list[dict[str, Any]]:
    return payloads.handoff_rows_payload(HANDOFFS.rows(case_id=case.pk))


def history_rows(case: Case, user: User) -> list[dict[str, Any]]:
    if customers_organisation_wide():
        return HISTORY.rows(customer_id=case.customer_id, case_id=case.pk)
    return payloads.history_rows(selectors.customer_history(user=user, case=case))


def case_get(*, user: User, ref: str) -> Case:
    """``selectors.case_get``: one case of the reader's teams by reference, else
    NotFoundError; a superuser's (every team) and SQLite's through the selector."""
    if getattr(user, "is_superuser", False) or connection.vendor != "postgresql":
        return selectors.case_get(user=user, ref=ref)
    pk = parse_ref(ref)
    found = CASE.objects(pk=pk, teams=sorted(team_ids_visible(user))) if pk is not None else []
    if not found:
        raise NotFoundError(f"No case {ref}.")
    case: Case = found[0]
    return case
