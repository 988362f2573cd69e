"""Callbacks the customer books: the slots offered, booking, moving, cancelling, and an
absence recorded after booking."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine

from cases.availability.services import absence_record
from cases.models import AgentProfile, CaseEvent
from commitments import callbacks
from commitments.callback_slots import callback_slots
from commitments.errors import CommitmentRuleError
from commitments.models import (
    BusinessCalendar,
    ClosedDay,
    CommitmentKind,
    CommitmentStatus,
)
from notifications.models import Notification
from notifications.rendering import render_email
from tests.commitments.conftest import london, pending
from tests.factories import make_agent

MONDAY_9 = london(2026, 12, 7, 9, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY_9, tick=False):
        yield


@pytest.fixture
def case(open_case):
    return open_case()


def _slots(case):
    return callback_slots(case=case, now=london(2026, 12, 7, 9, 0))


def _days(slots):
    return {s.starts_at.astimezone(london(2026, 1, 1).tzinfo).date() for s in slots}


def test_the_first_slot_starts_the_team_lead_time_ahead_in_working_hours(case):
    slots = _slots(case)
    assert slots[0].starts_at == london(2026, 12, 7, 11, 0)  # 120 business minutes
    assert slots[1].starts_at == london(2026, 12, 7, 11, 30)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    assert date(2026, 12, 12) not in _days(slots)  # Saturday
    # ten business days ahead and no further: Friday 18 at 17:00 is the horizon
    assert max(s.starts_at for s in slots) == london(2026, 12, 18, 16, 30)


def test_the_teams_closed_days_have_no_slots(open_case, team):
    ClosedDay.objects.create(calendar=team.calendar, day=date(2026, 12, 8), name="Training")
    case = open_case()
    days = _days(_slots(case))
    assert date(2026, 12, 8) not in days
    assert date(2026, 12, 9) in days


def test_a_booked_slot_is_not_offered_and_the_daily_cap_holds(case, open_case, team):
    BusinessCalendar.objects.filter(team=team).update(callback_daily_cap=2)
    team.calendar.refresh_from_db()
    callbacks.callback_book(case=case, starts_at=london(2026, 12, 7, 11, 0), by=None)
    starts = [s.starts_at for s in _slots(open_case())]
    assert london(2026, 12, 7, 11, 0) not in starts
    assert london(2026, 12, 7, 11, 30) in starts
    callbacks.callback_book(case=open_case(), starts_at=london(2026, 12, 7, 11, 30), by=None)
    assert date(2026, 12, 7) not in _days(_slots(open_case()))


def test_while_the_owner_is_away_the_cover_calls_in_the_covers_hours(case, agent, team):
    backup = make_agent(team)
    AgentProfile.objects.filter(user=agent).update(backup_agent=backup)
    absence_record(
        agent=agent, by=agent, starts_at=london(2026, 12, 8, 0), ends_at=london(2026, 12, 9, 0)
    )
    case.owner.agent_profile.refresh_from_db()
    tuesday = [s for s in _slots(case) if s.starts_at.date() == date(2026, 12, 8)]
    assert tuesday and all(s.cover and s.agent_id == backup.pk for s in tuesday)
    monday = [s for s in _slots(case) if s.starts_at.date() == date(2026, 12, 7)]
    assert monday and not any(s.cover for s in monday)


def test_with_nobody_to_cover_the_absence_has_no_slots(case, agent):
    absence_record(
        agent=agent, by=agent, starts_at=london(2026, 12, 8, 0), ends_at=london(2026, 12, 9, 0)
    )
    assert date(2026, 12, 8) not in _days(_slots(case))


def test_booking_makes_a_callback_promise_of_the_owner_with_reminders(case, agent):
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    promise = booking.commitment
    assert promise.kind == CommitmentKind.CALLBACK
    assert promise.owner == agent and booking.agent == agent
    assert promise.due_at == london(2026, 12, 8, 10, 30)
    assert "call back" in promise.description
    assert pending(f"commitment:{promise.pk}:due:").exists()  # reminders to the owner
    event = CaseEvent.objects.filter(case=case, kind="commitment_made").latest("id")
    assert event.actor is None and event.data["by_customer"] is True
    assert Notification.objects.filter(dedupe_key=f"commitment:{promise.pk}:made").exists()


def test_the_confirmation_gives_the_booked_time_once(case):
    """The promise's words carry the booked time ("A call back on Tuesday 8 December 2026,
    10:00 GMT"): the confirmation does not add the end of the slot as a deadline after it."""
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    notice = Notification.objects.get(dedupe_key=f"commitment:{booking.commitment_id}:made")
    email = render_email(template=notice.template, context=notice.context)
    assert email.subject.endswith(f"Booked: {booking.commitment.description}")
    zone = ZoneInfo(case.customer.time_zone)
    start, end = (booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone))
    for text in (email.subject, email.text, email.html):
        assert f"{start:%H:%M}" in text and f"{end:%H:%M}" not in text


def test_only_offered_slots_can_be_booked_and_only_once_per_case(case):
    with pytest.raises(CommitmentRuleError) as refused:
        callbacks.callback_book(case=case, starts_at=london(2026, 12, 7, 9, 30), by=None)
    assert refused.value.code == "slot_unavailable"
    callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    with pytest.raises(CommitmentRuleError) as twice:
        callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 11, 0), by=None)
    assert twice.value.code == "callback_booked"


def test_a_slot_taken_between_check_and_insert_is_refused_by_the_database(
    case, open_case, monkeypatch
):
    first = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    slot = next(s for s in callback_slots(case=case, now=MONDAY_9 - timedelta(days=1)))
    taken = type(slot)(starts_at=first.starts_at, ends_at=first.ends_at, agent_id=first.agent_id)
    monkeypatch.setattr(callbacks, "slot_offered", lambda **kw: taken)
    other = open_case()
    with pytest.raises(CommitmentRuleError) as refused:
        callbacks.callback_book(case=other, starts_at=first.starts_at, by=None)
    assert refused.value.code == "slot_taken" and refused.value.status_code == 409
    assert not other.commitments.filter(kind=CommitmentKind.CALLBACK).exists()


def test_moving_renegotiates_the_promise_and_frees_the_old_slot(case, open_case):
    old = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    moved = callbacks.callback_move(case=case, starts_at=london(2026, 12, 9, 14, 0), by=None)
    old.commitment.refresh_from_db()
    assert old.commitment.status == CommitmentStatus.RENEGOTIATED
    assert old.commitment.successor == moved.commitment
    assert moved.commitment.due_at == london(2026, 12, 9, 14, 30)
    event = CaseEvent.objects.filter(case=case, kind="commitment_renegotiated").get()
    assert event.actor is None and event.data["by_customer"] is True
    assert london(2026, 12, 8, 10, 0) in [s.starts_at for s in _slots(open_case())]


def test_cancelling_withdraws_the_promise_and_frees_the_slot(case, open_case):
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    callbacks.callback_cancel(case=case, by=None)
    booking.commitment.refresh_from_db()
    assert booking.commitment.status == CommitmentStatus.WITHDRAWN
    assert booking.commitment.end_reason == "Cancelled at your request."
    assert callbacks.callback_of(case) is None
    event = CaseEvent.objects.filter(case=case, kind="commitment_withdrawn").get()
    assert event.data["by_customer"] is True
    assert london(2026, 12, 8, 10, 0) in [s.starts_at for s in _slots(open_case())]
    with pytest.raises(CommitmentRuleError) as nothing:
        callbacks.callback_cancel(case=case, by=None)
    assert nothing.value.code == "no_callback"


def test_staff_who_may_not_change_the_case_cannot_book_for_the_customer(case, team):
    stranger = make_agent(team)
    with pytest.raises(CommitmentRuleError) as refused:
        callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=stranger)
    assert refused.value.status_code == 403


def test_the_owner_books_for_a_customer_without_email_and_no_task_is_made(open_case, agent):
    from tests.factories import CustomerFactory

    case = open_case(customer=CustomerFactory(email="", phone="+441632960001"))
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=agent)
    assert booking.booked_by == agent
    assert not Notification.objects.filter(
        dedupe_key=f"commitment:{booking.commitment_id}:made"
    ).exists()


def test_an_absence_recorded_later_moves_the_callback_to_the_cover(case, agent, team):
    backup = make_agent(team)
    AgentProfile.objects.filter(user=agent).update(backup_agent=backup)
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    absence_record(
        agent=agent, by=agent, starts_at=london(2026, 12, 8, 0), ends_at=london(2026, 12, 9, 0)
    )
    booking.refresh_from_db()
    assert booking.agent == backup
    assert booking.commitment.owner == agent  # the promise stays the owner's
    assert CaseEvent.objects.filter(case=case, kind="callback_moved").exists()


def test_an_absence_with_no_cover_alerts_the_managers(case, agent, manager):
    callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    absence_record(
        agent=agent, by=agent, starts_at=london(2026, 12, 8, 0), ends_at=london(2026, 12, 9, 0)
    )
    alert = Notification.objects.get(template="commitments/email/callback_uncovered")
    assert alert.recipient_address == manager.email


def test_the_team_settings_set_the_slot_length_and_refuse_a_slip(case, team, manager):
    from commitments.calendar_services import CalendarSettings
    from reports.errors import ReportRuleError
    from reports.settings_services import TeamSettings, team_settings_update

    team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(calendar=CalendarSettings(callback_slot_minutes=60)),
    )
    case.team.refresh_from_db()
    slots = callback_slots(case=case, now=MONDAY_9)
    assert slots[0].ends_at - slots[0].starts_at == timedelta(minutes=60)
    with pytest.raises(ReportRuleError) as refused:
        team_settings_update(
            team=team,
            by=manager,
            changes=TeamSettings(calendar=CalendarSettings(callback_daily_cap=0)),
        )
    assert "callback_daily_cap" in refused.value.fields


def test_a_hand_off_gives_the_booked_callback_to_the_new_owner(case, agent, team):
    from cases.handoffs.services import handoff_accept
    from tests.factories import offer

    receiver = make_agent(team)
    booking = callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    handoff_accept(handoff=offer(case, to=receiver), by=receiver)
    booking.refresh_from_db()
    assert booking.agent == receiver
    booking.commitment.refresh_from_db()
    assert booking.commitment.owner == receiver


def _customer_calendar():
    """(METHOD, UID, SEQUENCE, DTSTART) of every .ics queued to the customer, in order."""
    found = []
    for n in Notification.objects.filter(recipient_kind="customer").order_by("pk"):
        for attachment in n.attachments:
            if attachment["content_type"] == "text/calendar":
                cal = icalendar.Calendar.from_ical(attachment["content"])
                (event,) = cal.walk("VEVENT")
                found.append(
                    (
                        str(cal["METHOD"]),
                        str(event["UID"]),
                        int(event["SEQUENCE"]),
                        event.decoded("DTSTART"),
                    )
                )
    return found


def test_moving_moves_the_customers_calendar_entry_and_cancelling_drops_it(case):
    """One entry per promise: the move publishes the same UID one SEQUENCE higher at the new
    time (the calendar keeps one entry, not both times); the cancel sends METHOD:CANCEL."""
    callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    callbacks.callback_move(case=case, starts_at=london(2026, 12, 9, 14, 0), by=None)
    callbacks.callback_cancel(case=case, by=None)
    sent = _customer_calendar()
    assert [(m, seq) for m, _u, seq, _s in sent] == [("PUBLISH", 0), ("PUBLISH", 1), ("CANCEL", 2)]
    assert len({uid for _m, uid, _q, _s in sent}) == 1
    assert [start for _m, _u, _q, start in sent] == [
        london(2026, 12, 8, 10, 30),
        london(2026, 12, 9, 14, 30),
        london(2026, 12, 9, 14, 30),
    ]
    # a calendar applying them in order: one entry at the new time after the move, none after
    assert _apply(sent[:2]) == {sent[0][1]: london(2026, 12, 9, 14, 30)}
    assert _apply(sent) == {}
    notice = Notification.objects.get(template="commitments/email/withdrawn")
    email = render_email(template=notice.template, context=notice.context)
    assert "As you asked" in email.text and "withdrawing" not in email.text
    # the subject says what the customer did, not that a promise was withdrawn from them
    assert "Cancelled as you asked" in email.subject and "withdrawn" not in email.subject


def _apply(messages):
    entries: dict[str, tuple[int, object]] = {}
    for method, uid, seq, start in messages:
        if method == "CANCEL":
            entries.pop(uid, None)
        elif seq >= entries.get(uid, (-1, None))[0]:
            entries[uid] = (seq, start)
    return {uid: start for uid, (_seq, start) in entries.items()}


def test_a_german_owner_reads_the_customers_booking_on_the_timeline_in_german(case, agent):
    """The timeline names the customer as the one who booked, moved or cancelled, in the
    reader's language; the event of a callback moved to the cover is labelled in it too."""
    from django.test import Client
    from django.utils import translation

    from cases.hooks import event_kind_label
    from commitments.callback_cover import CALLBACK_MOVED

    callbacks.callback_book(case=case, starts_at=london(2026, 12, 8, 10, 0), by=None)
    AgentProfile.objects.filter(user=agent).update(language="de")
    client = Client()
    client.force_login(agent)
    page = client.get(f"/cases/{case.ref}/").content.decode()
    assert "der Kunde" in page and "· the customer" not in page
    with translation.override("de"):
        assert event_kind_label(CALLBACK_MOVED) == "Rückruf an die Vertretung übergeben"
