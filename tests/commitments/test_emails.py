"""Every commitments email renders from its stored context, in the reader's words and time."""

from __future__ import annotations

import pytest

from commitments.services import (
    commitment_confirm_on_track,
    commitment_create,
    commitment_renegotiate,
    commitment_withdraw,
)
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from notifications.rendering import render_email
from tests.commitments.conftest import london

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_kinds(time_machine, open_case, agent, manager):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    a = commitment_create(
        case=case, by=agent, description="Call you back", kind="callback", due="2 business days"
    )
    b = commitment_create(
        case=case, by=agent, description="Send the label", kind="delivery", due="1 business day"
    )
    c = commitment_create(
        case=case, by=agent, description="Refund £20", kind="refund", due="3 business days"
    )
    commitment_renegotiate(commitment=a, by=agent, due="4 business days", reason="Stock is late")
    commitment_withdraw(commitment=b, by=agent, reason="You collected it in store")
    commitment_confirm_on_track(commitment=c, by=agent)
    time_machine.move_to(london(2026, 11, 25, 17), tick=False)
    commitments_sweep_due()  # the first reply (due 16:00) is missed
    return case


def rendered(template: str):
    n = Notification.objects.filter(template=f"commitments/email/{template}").first()
    assert n is not None, template
    return n, render_email(template=n.template, context=n.context, recipient_name=n.recipient_name)


@pytest.mark.parametrize("template", ["commitment_made", "renegotiated", "withdrawn", "missed"])
def test_customer_emails_carry_the_case_reference_and_the_owner(all_kinds, template):
    n, mail = rendered(template)
    assert mail.subject.startswith(f"[{all_kinds.ref}] ")
    assert n.recipient_kind == "customer"
    owner = n.context["owner"]
    assert owner["name"] in mail.text and owner["email"] in mail.text
    assert mail.html and owner["name"] in mail.html
    assert "{{" not in mail.text and "{%" not in mail.text


def test_the_delay_notice_says_why_and_when(all_kinds):
    _n, mail = rendered("renegotiated")
    assert "Why: Stock is late" in mail.text
    assert "Tuesday 1 December 2026, 05:00 EST" in mail.text  # the customer's zone


def test_the_apology_names_the_owner_their_contacts_and_the_next_step(all_kinds):
    n, mail = rendered("missed")
    assert "I am sorry." in mail.text
    assert n.context["owner"]["phone"] in mail.text
    assert "I will contact you personally by Thursday 26 November 2026" in mail.text
    # the team has a manager, who was told
    assert "My manager has been told." in mail.text


@pytest.mark.parametrize(
    ("template", "recipient_kind"),
    [("reminder", "agent"), ("at_risk", "agent"), ("missed_manager", "manager")],
)
def test_agent_emails_render(all_kinds, template, recipient_kind):
    n, mail = rendered(template)
    assert mail.subject.startswith(f"[{all_kinds.ref}] ")
    assert n.recipient_kind == recipient_kind
    assert n.context["description"] in mail.text
    assert "GMT" in mail.text  # the team's zone


def test_a_reminder_before_an_instant_speaks_of_plain_hours(time_machine, open_case, agent):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    case = open_case()
    c = commitment_create(
        case=case, by=agent, description="x", kind="callback", due=london(2026, 11, 28, 12)
    )
    leads = Notification.objects.filter(
        dedupe_key__startswith=f"commitment:{c.pk}:due:"
    ).values_list("context__lead", flat=True)
    assert sorted(leads) == ["1 hour", "24 hours"]
