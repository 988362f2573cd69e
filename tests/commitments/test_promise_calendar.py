"""One calendar entry per promise (RFC 5545/5546): the customer's calendar moves the entry when
the promise is renegotiated and drops it when the promise is withdrawn, never keeps two."""

from __future__ import annotations

import icalendar
import pytest
from django.utils import translation

from commitments.services import commitment_create, commitment_renegotiate, commitment_withdraw
from notifications.models import Notification
from tests.commitments.conftest import london
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def calendar_events():
    """(METHOD, the VEVENT) of every .ics sent to the customer, in the order queued."""
    found = []
    for n in Notification.objects.filter(recipient_kind="customer").order_by("pk"):
        for attachment in n.attachments:
            if attachment["content_type"] == "text/calendar":
                cal = icalendar.Calendar.from_ical(attachment["content"])
                (event,) = cal.walk("VEVENT")
                found.append((str(cal["METHOD"]), event, n.template))
    return found


def test_a_promise_keeps_one_uid_its_sequence_rises_and_a_withdrawal_cancels_it(
    time_machine, open_case, agent
):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    first = commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="2 business days"
    )
    second = commitment_renegotiate(
        commitment=first, by=agent, due="4 business days", reason="Stock is late"
    )
    third = commitment_renegotiate(
        commitment=second, by=agent, due="5 business days", reason="Still late"
    )
    commitment_withdraw(commitment=third, by=agent, reason="You collected it in store")
    events = calendar_events()
    assert [(m, t.rsplit("/", 1)[1]) for m, _e, t in events] == [
        ("PUBLISH", "commitment_made"),
        ("PUBLISH", "renegotiated"),
        ("PUBLISH", "renegotiated"),
        ("CANCEL", "withdrawn"),
    ]
    assert len({str(e["UID"]) for _m, e, _t in events}) == 1
    assert [int(e["SEQUENCE"]) for _m, e, _t in events] == [0, 1, 2, 3]
    starts = [e.decoded("DTSTART") for _m, e, _t in events]
    assert starts == [first.due_at, second.due_at, third.due_at, third.due_at]
    assert str(events[-1][1]["STATUS"]) == "CANCELLED"
    for _m, event, _t in events:
        assert str(event["ORGANIZER"]).startswith("mailto:reply+")


def test_two_promises_are_two_entries(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    for words in ("Call you back", "Send the label"):
        commitment_create(
            case=case, by=agent, description=words, kind="callback", due="2 business days"
        )
    assert len({str(e["UID"]) for _m, e, _t in calendar_events()}) == 2


def test_the_entry_speaks_the_customers_language(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case(customer=CustomerFactory(language="de", time_zone="Europe/Berlin"))
    commitment_create(
        case=case, by=agent, description="Rückruf", kind="callback", due="2 business days"
    )
    (_m, event, _t) = calendar_events()[0]
    with translation.override("de"):
        assert "Promised by" not in str(event["DESCRIPTION"])
        assert case.ref in str(event["DESCRIPTION"])
