"""Mail to an erased customer's case: kept for staff, never filed on the case (where it would
show their address and words again)."""

from __future__ import annotations

import pytest

from cases import services
from cases.conversations.inbound import inbound_mail_receive
from cases.conversations.services import reply_address
from cases.customers.erasure import customer_erase
from cases.models import Channel, Contact, Customer, InboundStatus
from tests.factories import TeamFactory, UserFactory, make_agent
from tests.mail import raw_mail

pytestmark = pytest.mark.django_db


def test_mail_to_an_erased_customers_case_waits_for_staff_unfiled():
    team = TeamFactory()
    owner = make_agent(team)
    customer = Customer.objects.create(full_name="Ruth Campbell", email="ruth@example.org")
    case = services.case_open(
        customer=customer, team=team, channel=Channel.EMAIL, subject="Meter", by=owner
    )
    customer_erase(customer=customer, by=UserFactory(is_staff=True, is_superuser=True))
    contacts_before = Contact.objects.filter(case=case).count()

    message = inbound_mail_receive(
        raw=raw_mail(
            to=reply_address(case.pk),
            sender="Ruth Campbell <ruth@example.org>",
            subject=f"Re: [{case.ref}] Meter",
            text="It is me again, Ruth.",
        ),
        via="http",
    ).message

    assert (message.status, message.case_id) == (InboundStatus.UNMATCHED, None)
    assert Contact.objects.filter(case=case).count() == contacts_before
