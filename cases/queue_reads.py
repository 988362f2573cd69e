"""The agent queue's reads as statements written once (``caseowner.bound``): its count, its
page of rows, the offers waiting for the agent and their open tasks. Each builds the same
queryset as the selectors the page uses (``selectors.queue_for`` and its neighbours), with
the agent and the instant as inputs, so its SQL is composed once per process and each
request only binds them; ``tests/cases/test_queue_reads.py`` holds the answers equal to the
documented serializers' for every field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, QuerySet

from caseowner.bound import Statement
from caseowner.types import User
from cases.availability.hours import cover_candidates
from cases.handoffs import selectors as handoff_selectors
from cases.models import OPEN_STATUSES, Case
from cases.payloads import OFFER_COLUMNS, OPEN_TASK_COLUMNS, queue_values
from cases.task_services import owner_tasks_open
from cases.undelivered import undelivered_exists


def _queue_cases(user: User, at: datetime) -> QuerySet[Case]:
    # selectors.queue_for with the instant as an input
    return (
        Case.objects.filter(owner=user, status__in=OPEN_STATUSES)
        .annotate(covering_now=Exists(cover_candidates(user=user, at=at)))
        .annotate(notice_undelivered=undelivered_exists())
        .order_by(F("next_due_at").asc(nulls_last=True), "id")
    )


def _queue_count(user: User) -> QuerySet[Any]:
    return (
        Case.objects.filter(owner=user, status__in=OPEN_STATUSES)
        .order_by()
        .values("owner")
        .annotate(n=Count("id"))
        .values("n")
    )


def _offers(user: User) -> QuerySet[Any]:
    return handoff_selectors.handoff_offers_waiting_for(user=user).values(*OFFER_COLUMNS)


def _tasks(user: User) -> QuerySet[Any]:
    return owner_tasks_open(user=user).filter(done_at__isnull=True).values(*OPEN_TASK_COLUMNS)


QUEUE_COUNT = Statement(_queue_count, user="user")
OFFERS_WAITING = Statement(_offers, user="user")
OPEN_TASKS = Statement(_tasks, user="user")
# one statement per page window (LIMIT and OFFSET are part of the text); pages are few
_PAGES: dict[tuple[int, int], Statement] = {}
_MAX_PAGES = 256


def _page_statement(start: int, stop: int) -> Statement:
    statement = _PAGES.get((start, stop))
    if statement is None:

        def page(user: User, at: datetime) -> QuerySet[Any]:
            return queue_values(_queue_cases(user, at))[start:stop]

        page.__name__ = f"queue_page_{start}_{stop}"
        statement = Statement(page, user="user", at=datetime)
        if len(_PAGES) < _MAX_PAGES:
            _PAGES[(start, stop)] = statement
    return statement


class QueueRows:
    """The queue for a paginator: counted and sliced by the statements above."""

    ordered = True

    def __init__(self, *, user: User, at: datetime) -> None:
        self.user, self.at = user, at

    def count(self) -> int:
        rows = QUEUE_COUNT.rows(user=self.user)
        return rows[0]["n"] if rows else 0

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[dict[str, Any]]:
        start, stop = key.start or 0, key.stop
        if stop is not None and stop <= start:
            return []  # an empty queue's only page
        return _page_statement(start, stop).rows(user=self.user, at=self.at)
