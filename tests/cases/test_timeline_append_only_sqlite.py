"""Invariant 7 on the embedded SQLite database: triggers refuse UPDATE and DELETE of the
timeline, as PostgreSQL's does, with the same two exceptions — the erasure's redaction
(``data`` alone, inside its transaction) and ``flush`` (TRUNCATE's counterpart)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases.customers.erasure import ERASED_TEXT, customer_erase
from cases.models import CaseEvent, EventKind
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.skipif(
    settings.IS_POSTGRES, reason="SQLite's triggers (PostgreSQL's: tests/integration)"
)

UNLOCK = "INSERT INTO cases_caseevent_unlock (purpose) VALUES (%s)"


def _note() -> CaseEvent:
    case = CaseFactory()
    return CaseEvent.objects.create(
        case=case, kind=EventKind.NOTE, at=timezone.now(), data={"text": "Called back"}
    )


def _unlocked() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT purpose FROM cases_caseevent_unlock")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_an_update_of_the_timeline_is_refused_on_sqlite():
    note = _note()
    with pytest.raises(DatabaseError, match="append-only: UPDATE"), transaction.atomic():
        CaseEvent.objects.filter(pk=note.pk).update(data={"text": "rewritten"})
    with pytest.raises(DatabaseError, match="append-only: UPDATE"), transaction.atomic():
        note.kind = EventKind.CUSTOMER_ERASED
        note.save()
    assert CaseEvent.objects.get(pk=note.pk).data == {"text": "Called back"}


@pytest.mark.django_db
def test_a_delete_of_the_timeline_is_refused_on_sqlite():
    note = _note()
    with pytest.raises(DatabaseError, match="append-only: DELETE"), transaction.atomic():
        CaseEvent.objects.filter(pk=note.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM cases_caseevent")
    assert CaseEvent.objects.filter(pk=note.pk).exists()


@pytest.mark.django_db
def test_the_redaction_path_allows_only_a_change_of_data():
    note = _note()
    for statement in (
        "UPDATE cases_caseevent SET kind = 'opened' WHERE id = %s",
        "UPDATE cases_caseevent SET at = '2000-01-01 00:00:00' WHERE id = %s",
        "UPDATE cases_caseevent SET actor_id = NULL, data = '{}' WHERE id = %s AND 1",
        "UPDATE cases_caseevent SET case_id = case_id + 1 WHERE id = %s",
        "DELETE FROM cases_caseevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            if "actor_id" in statement:
                actor = UserFactory()
                cursor.execute(
                    "UPDATE cases_caseevent SET actor_id = %s WHERE id = %s", [actor.pk, note.pk]
                )
            cursor.execute(UNLOCK, ["redaction"])
            cursor.execute(statement, [note.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(UNLOCK, ["redaction"])
        cursor.execute("UPDATE cases_caseevent SET data = '{}' WHERE id = %s", [note.pk])
        cursor.execute("DELETE FROM cases_caseevent_unlock")
    stored = CaseEvent.objects.get(pk=note.pk)
    assert (stored.kind, stored.at, stored.data) == (EventKind.NOTE, note.at, {})


@pytest.mark.django_db
def test_the_erasure_redacts_the_timeline_on_sqlite_and_closes_the_path_behind_it():
    note = _note()
    staff = UserFactory(is_staff=True)
    with transaction.atomic():
        customer_erase(customer=note.case.customer, by=staff)
        assert _unlocked() == []
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            CaseEvent.objects.filter(pk=note.pk).update(data={})
    assert CaseEvent.objects.get(pk=note.pk).data == {"text": ERASED_TEXT}
    erased = CaseEvent.objects.filter(case=note.case, kind=EventKind.CUSTOMER_ERASED)
    assert erased.count() == 1


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_timeline_on_sqlite_as_truncate_does_on_postgresql():
    _note()
    call_command("flush", interactive=False, verbosity=0)
    assert not CaseEvent.objects.exists()
    assert _unlocked() == []
