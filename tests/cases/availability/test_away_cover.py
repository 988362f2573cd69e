"""While an owner is away the customer's point of contact is the cover, reminders reach the
cover too, and the owner stays accountable; once back, everything names the owner again."""

from __future__ import annotations

import time_machine
from django.urls import reverse

from cases.availability.services import absence_record, agent_set_away
from cases.customers.links import make_customer_token
from cases.models import CaseEvent, EventKind
from cases.recipients import point_of_contact
from commitments.services import commitment_renegotiate
from notifications.models import Notification
from notifications.rendering import render_email
from tests.commitments.conftest import london, notices, promise
from tests.factories import make_agent

MONDAY = london(2026, 3, 16, 10)
DUE = london(2026, 3, 18, 12)  # Wednesday noon, during the absence
AWAY_FROM, AWAY_UNTIL = london(2026, 3, 17, 0), london(2026, 3, 19, 0)


def _with_backup(team, agent):
    backup = make_agent(team, display_name="Ben Ortiz", direct_phone="+44 20 7946 0001")
    profile = agent.agent_profile
    profile.display_name = "Ana Ruiz"
    profile.backup_agent = backup
    profile.save()
    return backup


def _reminder_recipients(commitment):
    return sorted(
        Notification.objects.filter(
            dedupe_key__startswith=f"commitment:{commitment.pk}:due:", status="pending"
        ).values_list("recipient_address", "template")
    )


def test_a_promise_due_during_an_absence_reminds_the_cover_and_the_owner(team, agent, open_case):
    backup = _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        callback = promise(case, agent, due=DUE)
        assert {a for a, _ in _reminder_recipients(callback)} == {agent.email}
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    sent_to = _reminder_recipients(callback)
    assert (backup.email, "commitments/email/reminder") in sent_to
    assert (backup.email, "commitments/email/at_risk") in sent_to
    assert (agent.email, "commitments/email/reminder") in sent_to
    assert len(sent_to) == 4  # two leads, each to both; the first-response promise is not due then
    cover_row = Notification.objects.get(
        recipient_address=backup.email, template="commitments/email/at_risk"
    )
    email = render_email(template=cover_row.template, context=cover_row.context)
    assert "Covering for Ana Ruiz" in email.subject
    assert "You are covering for Ana Ruiz" in email.text


def test_a_promise_made_for_a_time_already_planned_away_reminds_the_cover(team, agent, open_case):
    backup = _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
        callback = promise(case, agent, due=DUE)
    assert {a for a, _ in _reminder_recipients(callback)} == {agent.email, backup.email}


def test_the_customer_page_and_the_delay_notice_name_the_cover_then_the_owner_again(
    client, team, agent, open_case
):
    _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        callback = promise(case, agent, due=london(2026, 3, 20, 12))
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    url = reverse(
        "customer-page",
        args=[make_customer_token(case_id=case.pk, generation=case.link_generation)],
    )
    with time_machine.travel(london(2026, 3, 18, 10), tick=False):
        page = client.get(url).content.decode()
        # New York time, in the one format of every message
        assert "Ana Ruiz is away until Thursday 19 March 2026, 05:00 EDT" in page
        assert "Ben Ortiz" in page and "+44 20 7946 0001" in page
        later = commitment_renegotiate(
            commitment=callback, by=agent, due=london(2026, 3, 23, 12), reason="Parts are late."
        )
    delay = notices("renegotiated").get()
    email = render_email(template=delay.template, context=delay.context)
    assert (
        "Ana Ruiz is away until Thursday 19 March 2026, 05:00 EDT. Until then I am looking "
        "after your case:"
    ) in email.text
    assert "Phone: +44 20 7946 0001" in email.text
    assert "Ben Ortiz" in email.html
    with time_machine.travel(london(2026, 3, 19, 10), tick=False):
        page = client.get(url).content.decode()
        assert "is away" not in page and "Ben Ortiz" not in page
        commitment_renegotiate(
            commitment=later, by=agent, due=london(2026, 3, 24, 12), reason="Still late, sorry."
        )
    second = notices("renegotiated").order_by("-pk").first()
    email = render_email(template=second.template, context=second.context)
    assert "is away" not in email.text and "Ben Ortiz" not in email.text
    assert "Ana Ruiz" in email.text


def test_the_on_duty_agent_covers_when_the_backup_is_away_too(team, agent, open_case):
    backup = _with_backup(team, agent)
    duty = make_agent(team, display_name="Dee Duty")
    team.on_duty = duty
    team.save()
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        agent_set_away(agent=agent, by=agent, away=True)
        assert point_of_contact(case=case, at=MONDAY).contact["name"] == "Ben Ortiz"
        agent_set_away(agent=backup, by=backup, away=True)
        contact = point_of_contact(case=type(case).objects.get(pk=case.pk), at=MONDAY)
    assert contact.covering and contact.contact["name"] == "Dee Duty"
    assert contact.owner_back_at is None  # switched away: nobody knows when
    assert case.owner_id == agent.pk


def test_the_timeline_records_who_covers(team, agent, open_case):
    backup = _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    event = CaseEvent.objects.get(case=case, kind=EventKind.COVER_STARTED)
    assert event.data["cover_id"] == backup.pk and event.data["owner_id"] == agent.pk


def test_a_customer_sees_only_the_public_fields_of_the_cover(team, agent, open_case, client):
    backup = _with_backup(team, agent)
    backup.username = "ben.login"
    backup.save()
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        agent_set_away(agent=agent, by=agent, away=True)
        token = make_customer_token(case_id=case.pk, generation=case.link_generation)
        body = client.get(f"/api/v1/customer/{token}/").json()
    contact = body["point_of_contact"]
    assert contact["covering"] is True
    assert set(contact["contact"]) == {"name", "job_title", "email", "phone", "working_hours"}
    assert "ben.login" not in str(body) and backup.email not in str(body)


def test_an_absence_leaving_promises_uncovered_alerts_the_managers_once(
    team, agent, manager, open_case
):
    from cases.tasks import sweep_absences

    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=london(2026, 3, 25, 12))
        # starts in a week: too early to alert
        plan = absence_record(
            agent=agent, by=agent, starts_at=london(2026, 3, 23, 9), ends_at=london(2026, 3, 27)
        )
        assert not plan.managers_alerted and plan.uncovered_case_ids == [case.pk]
    alerts = Notification.objects.filter(template="cases/email/absence_uncovered")
    with time_machine.travel(london(2026, 3, 19, 12), tick=False):  # Thursday: 2 business days
        assert sweep_absences() == 1
        assert sweep_absences() == 0
    assert list(alerts.values_list("recipient_address", flat=True)) == [manager.email]
    email = render_email(template="cases/email/absence_uncovered", context=alerts.get().context)
    assert case.ref in email.text and "Call you back about the refund" in email.text


def test_a_promise_due_while_the_cover_is_in_is_covered_and_alerts_nobody(
    team, agent, manager, open_case
):
    """The cover acts for the owner, so an absence whose promises fall due while the backup
    is in leaves nothing uncovered: the managers are not told it does."""
    _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=DUE)
        plan = absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    assert plan.promises_by_case.keys() == {case.pk}
    assert plan.uncovered_case_ids == [] and not plan.managers_alerted
    assert not Notification.objects.filter(template="cases/email/absence_uncovered").exists()


def test_a_promise_due_while_the_backup_is_away_too_is_uncovered(team, agent, manager, open_case):
    backup = _with_backup(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=DUE)
        absence_record(
            agent=backup, by=backup, starts_at=london(2026, 3, 18, 9), ends_at=AWAY_UNTIL
        )
        plan = absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    assert plan.uncovered_case_ids == [case.pk] and plan.managers_alerted
    alerts = Notification.objects.filter(template="cases/email/absence_uncovered")
    assert list(alerts.values_list("recipient_address", flat=True)) == [manager.email]
