"""The timeline's one exception, on real PostgreSQL: the trigger lets only the erasure's
redaction through (data alone, inside its transaction); everything else stays refused."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from cases.customers.erasure import ERASED_TEXT, customer_erase
from cases.models import CaseEvent, EventKind
from tests.cases.customers.erasure_world import build, traces
from tests.cases.customers.test_erasure import everything_shown, stored_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def _note(case) -> CaseEvent:
    return CaseEvent.objects.get(case=case, kind=EventKind.NOTE)


def test_an_ordinary_update_of_the_timeline_is_still_refused():
    w = build()
    note = _note(w.case)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=note.pk).update(data={"text": "rewritten"})
    assert _note(w.case).data == note.data


def test_the_redaction_setting_allows_only_a_change_of_data():
    w = build()
    note = _note(w.case)
    for statement in (
        "UPDATE cases_caseevent SET kind = 'opened' WHERE id = %s",
        "UPDATE cases_caseevent SET at = at - interval '1 day' WHERE id = %s",
        "UPDATE cases_caseevent SET actor_id = NULL WHERE id = %s",
        "DELETE FROM cases_caseevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute("SET LOCAL caseowner.redaction = 'on'")
            cur.execute(statement, [note.pk])
    assert CaseEvent.objects.filter(pk=note.pk, kind=EventKind.NOTE, at=note.at).exists()


def test_the_setting_lasts_only_for_the_transaction_that_set_it():
    w = build()
    note = _note(w.case)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL caseowner.redaction = 'on'")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=note.pk).update(data={})


def test_the_erasure_redacts_the_timeline_and_closes_the_path_behind_it():
    w = build()
    with transaction.atomic():
        customer_erase(customer=w.customer, by=w.staff)
        # Later in the same transaction the path is closed again.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            CaseEvent.objects.filter(case=w.case).update(data={})
    assert _note(w.case).data == {"text": ERASED_TEXT}
    assert CaseEvent.objects.filter(case=w.case, kind=EventKind.CUSTOMER_ERASED).count() == 1
    assert traces(stored_rows()) == []
    found = {name: traces(text) for name, text in everything_shown(w).items() if traces(text)}
    assert found == {}
