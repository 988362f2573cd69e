"""Row locks for the cases services: one way to lock a case or a hand-off everywhere.

Lock order, everywhere: the case row first, then the hand-off row. Every write on a case or
its hand-offs follows it, so two of them racing on one case take turns and the second sees
the first one's outcome instead of deadlocking.

The lock takes no joins: when a racing transaction changed the row, PostgreSQL rechecks only
the locked row, so a joined row (the owner) could be stale or drop the row entirely. Reading
the relations after the lock sees the winner's committed state.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from cases.models import Case, Handoff

M = TypeVar("M", bound=models.Model)

_CASE_RELATIONS = ("customer", "team", "owner", "owner__agent_profile")
_HANDOFF_RELATIONS = (
    "from_agent__agent_profile",
    "to_agent__agent_profile",
    "offered_by",
    "to_team",
)


def lock_case_row(case_id: int, *, skip_locked: bool = False) -> bool:
    """Lock the case row alone (``SELECT … FOR UPDATE`` by pk). False when there is no such
    row, or when ``skip_locked`` and another transaction holds it."""
    locked = Case.objects.select_for_update(skip_locked=skip_locked).filter(pk=case_id)
    return locked.values_list("pk", flat=True).first() is not None


def lock_case(case_id: int, *, skip_locked: bool = False, read: Case | None = None) -> Case | None:
    """Lock the case row, then read it with its people (None as ``lock_case_row``).

    ``read``: the case as the caller (a view) read it a moment ago with its people. The lock
    then reads the row itself in the same statement (no joins), and takes ``read``'s people
    where the locked row still names the same ones; a changed one is read afresh."""
    if read is None or read.pk != case_id:
        if not lock_case_row(case_id, skip_locked=skip_locked):
            return None
        return Case.objects.select_related(*_CASE_RELATIONS).filter(pk=case_id).first()
    row = Case.objects.select_for_update(skip_locked=skip_locked).filter(pk=case_id).first()
    if row is None:
        return None
    lend_people(row, read, ("customer", "team", "owner"))
    return row


def lend_people(row: Case | Handoff, read: Case | Handoff, names: tuple[str, ...]) -> None:
    """Give the freshly locked ``row`` the related rows ``read`` holds where both name the
    same one (a changed one is read afresh when asked for)."""
    for name in names:
        same = getattr(row, f"{name}_id") == getattr(read, f"{name}_id")
        if same and type(read)._meta.get_field(name).is_cached(read):  # type: ignore[union-attr]
            setattr(row, name, getattr(read, name))


def lock_cases(case_ids: list[int]) -> dict[int, Case]:
    """``lock_case`` for several cases: locked in id order (one order everywhere: two of
    these racing take turns), then read with their people; two statements in all."""
    ids = sorted(set(case_ids))
    locked = Case.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found = list(locked.values_list("pk", flat=True))
    return {c.pk: c for c in Case.objects.select_related(*_CASE_RELATIONS).filter(pk__in=found)}


def lock_with_case(model: type[M], pk: int, *, case: Case) -> M | None:
    """Lock the case and a row of its own (a hand-off, a promise: ``model`` with a ``case``
    key) in one statement, the case first (``FOR UPDATE OF`` locks in the order it names),
    then the row; both read as locked, nothing else joined. ``case``: the case as the caller
    read it with its people a moment ago, who are kept where the locked case still names the
    same ones (as ``lock_case(read=…)``). None when there is no such row."""
    locked = (
        model._default_manager.select_related("case")
        .select_for_update(of=("case", "self"))
        .filter(pk=pk)
        .first()
    )
    if locked is not None:
        lend_people(locked.case, case, ("customer", "team", "owner"))  # type: ignore[attr-defined]
    return locked


def lock_handoff(
    handoff_id: int, *, skip_locked: bool = False, read: Handoff | None = None
) -> Handoff | None:
    """Lock the hand-off row, then read it with its people (take the case's lock first).

    ``read``: the hand-off as the caller read it with its people; as ``lock_case``'s, the lock
    reads the row itself and takes ``read``'s people where the row still names the same."""
    if read is not None and read.pk == handoff_id:
        row = Handoff.objects.select_for_update(skip_locked=skip_locked).filter(pk=handoff_id)
        found = row.first()
        if found is not None:
            lend_people(found, read, ("from_agent", "to_agent", "offered_by", "to_team"))
        return found
    locked = Handoff.objects.select_for_update(skip_locked=skip_locked).filter(pk=handoff_id)
    if locked.values_list("pk", flat=True).first() is None:
        return None
    return Handoff.objects.select_related(*_HANDOFF_RELATIONS).filter(pk=handoff_id).first()
