"""Two customers book the same slot of one owner at the same moment on real PostgreSQL: both
pass the check that the slot is free, and the partial unique constraint on the agent's active
slot lets exactly one insert; the other gets 409 ``slot_taken`` and nothing of its booking
stays (no promise, no timeline event)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from cases.customers.links import make_customer_token
from cases.models import CaseEvent
from cases.services import case_open
from commitments import callbacks
from commitments.models import BusinessCalendar, CallbackBooking, CommitmentKind
from tests.factories import CustomerFactory, TeamFactory, make_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/London"))
SLOT = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def test_two_customers_racing_for_one_slot_one_wins_one_gets_slot_taken(monkeypatch):
    with time_machine.travel(MONDAY_9, tick=False):
        team = TeamFactory(time_zone="Europe/London")
        BusinessCalendar.objects.create(team=team)
        owner = make_agent(team)
        cases = [
            case_open(
                customer=CustomerFactory(),
                team=team,
                channel="email",
                subject="Meter",
                by=owner,
                owner=owner,
            )  # fmt: skip
            for _ in range(2)
        ]
        # both bookings have found the slot free before either inserts
        both_checked = threading.Barrier(2, timeout=20)
        insert = callbacks._insert

        def insert_after_both_checked(**kwargs):
            both_checked.wait()
            return insert(**kwargs)

        monkeypatch.setattr(callbacks, "_insert", insert_after_both_checked)
        answers: list = [None, None]

        def book(index: int) -> None:
            token = make_customer_token(case_id=cases[index].pk, generation=1)
            try:
                answers[index] = APIClient().post(
                    f"/api/v1/customer/{token}/callbacks/",
                    {"starts_at": SLOT.isoformat()},
                    format="json",
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409], [a.content for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["code"] == "slot_taken"
    assert CallbackBooking.objects.filter(active=True, agent=owner, starts_at=SLOT).count() == 1
    booked_case = CallbackBooking.objects.get().case_id
    other = next(c for c in cases if c.pk != booked_case)
    assert not other.commitments.filter(kind=CommitmentKind.CALLBACK).exists()
    assert not CaseEvent.objects.filter(case=other, data__by_customer=True).exists()
