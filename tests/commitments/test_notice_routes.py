"""No customer is unreachable in silence, and a notice names the point of contact as it is
when it is sent."""

from __future__ import annotations

import pytest
from django.core import mail

from cases.handoffs.services import handoff_accept
from cases.models import CaseEvent, Contact, EventKind, OwnerTask
from cases.task_services import owner_task_done, owner_tasks_open
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification, NotificationStatus
from notifications.rendering import render_email
from notifications.services import outbox_archive_batch, outbox_sweep
from tests.commitments.conftest import london, notices, promise
from tests.factories import CustomerFactory, make_agent, offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_celery_eager")]


@pytest.fixture
def phone_only():
    return CustomerFactory(
        full_name="Mary Campbell",
        given_name="Mary",
        family_name="Campbell",
        title="Mrs",
        email="",
        phone="+447700900021",
        preferred_channel="phone",
    )


def _slipped(time_machine, open_case, agent, customer):
    time_machine.move_to(london(2026, 11, 30, 10), tick=False)
    case = open_case(customer=customer, channel="phone")
    commitment = promise(case, agent, due="1 business day")
    time_machine.move_to(london(2026, 12, 2, 10), tick=False)
    commitments_sweep_due()
    return case, commitment


def test_a_phone_only_customers_missed_promise_is_a_call_for_the_owner(
    time_machine, open_case, agent, phone_only, django_capture_on_commit_callbacks
):
    case, commitment = _slipped(time_machine, open_case, agent, phone_only)

    apology = notices("missed").get(dedupe_key=f"commitment:{commitment.pk}:missed:apology")
    assert apology.status == NotificationStatus.NO_ROUTE
    assert apology.last_error == "no_route: customer has no email address (phone only)"
    assert apology.recipient_address == "" and apology.attempts == 0
    task = OwnerTask.objects.get(dedupe_key=apology.dedupe_key)
    assert task.text.startswith("Call Mrs Campbell on 07700 900021: apologise: we missed ")
    assert f'"{commitment.description}"' in task.text
    assert task.reason == "customer has no email address (phone only)"
    assert task.dedupe_key == apology.dedupe_key and task.owner == agent
    assert task in owner_tasks_open(user=agent)
    tasks = OwnerTask.objects.filter(case=case).count()
    assert tasks == CaseEvent.objects.filter(case=case, kind=EventKind.OWNER_TASK_CREATED).count()
    # the managers still hear of it; nothing is ever sent to the customer
    alert = notices("missed_manager", dedupe_key__startswith=f"commitment:{commitment.pk}:").get()
    told = render_email(template=alert.template, context=alert.context).text
    assert "The customer has no email address: the owner has a call to make instead" in told
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()
    assert mail.outbox and not [m for m in mail.outbox if "Campbell" in m.to[0]]
    assert Notification.objects.get(pk=apology.pk).status == NotificationStatus.NO_ROUTE


def test_the_same_notice_twice_is_one_task(time_machine, open_case, agent, phone_only):
    case, _ = _slipped(time_machine, open_case, agent, phone_only)
    tasks = OwnerTask.objects.filter(case=case).count()
    commitments_sweep_due()
    assert OwnerTask.objects.filter(case=case).count() == tasks


def test_unroutable_rows_are_archived_and_still_refuse_their_key(
    time_machine, open_case, agent, phone_only, settings
):
    _slipped(time_machine, open_case, agent, phone_only)
    settings.OUTBOX_ARCHIVE_AFTER_SECONDS = 0
    assert outbox_archive_batch() >= 1
    assert not notices("missed").exists()


def test_a_customer_with_an_email_address_is_written_to_whatever_they_prefer(
    time_machine, open_case, agent
):
    customer = CustomerFactory(preferred_channel="phone", email="ann@example.org")
    case, commitment = _slipped(time_machine, open_case, agent, customer)
    apology = notices("missed").get(dedupe_key=f"commitment:{commitment.pk}:missed:apology")
    assert apology.status == NotificationStatus.PENDING
    assert not OwnerTask.objects.filter(case=case).exists()


def test_a_case_opened_on_a_call_needs_no_call_to_say_who_owns_it(
    time_machine, open_case, phone_only
):
    time_machine.move_to(london(2026, 11, 30, 10), tick=False)
    case = open_case(customer=phone_only, channel="phone")
    opened = Notification.objects.get(template="cases/email/case_opened")
    assert opened.status == NotificationStatus.NO_ROUTE
    assert not OwnerTask.objects.filter(case=case).exists()


def test_a_case_opened_by_web_form_for_a_customer_without_email_is_a_call(
    time_machine, open_case, phone_only
):
    time_machine.move_to(london(2026, 11, 30, 10), tick=False)
    case = open_case(customer=phone_only, channel="web")
    [task] = OwnerTask.objects.filter(case=case)
    assert task.text.startswith("Call Mrs Campbell on 07700 900021: introduce yourself")


def test_marking_the_task_done_records_the_call_and_closes_it(
    time_machine, open_case, agent, phone_only
):
    case, commitment = _slipped(time_machine, open_case, agent, phone_only)
    task = OwnerTask.objects.get(dedupe_key=f"commitment:{commitment.pk}:missed:apology")
    done = owner_task_done(task=task, by=agent, summary="Apologised; new date Friday.")
    assert done.done_by == agent and done.done_at is not None
    contact = Contact.objects.get(pk=done.contact_id)
    assert (contact.direction, contact.channel, contact.agent) == ("to_customer", "phone", agent)
    assert contact.summary == "Apologised; new date Friday."
    assert CaseEvent.objects.filter(case=case, kind=EventKind.OWNER_TASK_DONE).count() == 1
    assert task not in owner_tasks_open(user=agent)
    # again: nothing new
    owner_task_done(task=task, by=agent, summary="Again")
    assert Contact.objects.filter(case=case, channel="phone").count() == 1


def test_the_task_follows_the_case_to_its_new_owner(
    time_machine, open_case, agent, team, phone_only
):
    case, _ = _slipped(time_machine, open_case, agent, phone_only)
    jonas = make_agent(team)
    handoff_accept(handoff=offer(case, to=jonas), by=jonas)
    assert {t.case_id for t in owner_tasks_open(user=jonas)} == {case.pk}
    assert list(owner_tasks_open(user=agent)) == []


def test_a_notice_queued_before_a_hand_off_names_the_new_owner_when_sent(
    time_machine, open_case, agent, team, django_capture_on_commit_callbacks
):
    jonas = make_agent(team, display_name="Jonas Weber")
    aisha_name = agent.agent_profile.display_name
    time_machine.move_to(london(2026, 11, 30, 10), tick=False)
    case = open_case()
    commitment = promise(case, agent, due="1 business day")
    time_machine.move_to(london(2026, 12, 1, 12), tick=False)
    commitments_sweep_due()  # the apology, queued at 12:00
    apology = notices("missed").get(dedupe_key=f"commitment:{commitment.pk}:missed:apology")
    assert apology.context["owner"]["name"] == aisha_name
    handoff_accept(handoff=offer(case, to=jonas), by=jonas)  # handed to Jonas at 12:00
    Notification.objects.exclude(pk=apology.pk).update(status=NotificationStatus.CANCELLED)
    time_machine.move_to(london(2026, 12, 1, 12, 10), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()
    [sent] = mail.outbox
    assert "Jonas Weber" in sent.body
    assert aisha_name not in sent.body
