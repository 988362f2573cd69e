"""A service locks the case its view read: the lock reads the row itself and keeps the view's
people only where the locked row still names them (``cases.locking.lock_case(read=…)``)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.locking import lock_case
from cases.models import Case
from tests.commitments.conftest import agent, manager, open_case, team
from tests.factories import make_agent

__all__ = ["agent", "manager", "open_case", "team"]

pytestmark = pytest.mark.django_db


def read(case: Case) -> Case:
    return Case.objects.select_related("customer", "team", "owner__agent_profile").get(pk=case.pk)


def test_the_lock_keeps_the_people_the_view_read(open_case):
    case = read(open_case())
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = lock_case(case.pk, read=case)
        assert locked is not None
        assert (locked.owner, locked.team, locked.customer) == (
            case.owner,
            case.team,
            case.customer,
        )
    assert len(captured) == 1  # the locking read alone


def test_an_owner_changed_since_the_view_read_is_read_afresh(open_case, team):
    stale = read(open_case())
    other = make_agent(team)
    Case.objects.filter(pk=stale.pk).update(owner=other)
    with transaction.atomic():
        locked = lock_case(stale.pk, read=stale)
        assert locked is not None and locked.owner == other and locked.owner_id == other.pk
