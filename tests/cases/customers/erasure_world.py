"""A customer whose personal data is everywhere: on their record, in their cases, notes,
timeline, hand-off summaries, mail, promises and the outbox. Every free text carries a marker
("featherstone"), so a test can look for any trace of them in whatever the product shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cases import services
from cases.conversations.inbound import inbound_mail_receive
from cases.conversations.services import (
    NewContact,
    contact_record,
    contact_reply_send,
    reply_address,
)
from cases.customers.services import CustomerChanges, customer_update
from cases.handoffs.gate import HandoffRubric
from cases.handoffs.outcomes import handoff_review
from cases.handoffs.services import handoff_accept, handoff_decline
from cases.models import Case, Channel, ContactDirection, Customer
from commitments.services import commitment_create, commitment_renegotiate
from tests.factories import TeamFactory, UserFactory, good_summary, make_agent, make_manager, offer
from tests.mail import raw_mail

NAME = "Zebulon Quagmire"
OLD_EMAIL = "zq.old@privacy.example"
EMAIL = "zebulon.featherstone@privacy.example"
PHONE = "+447700900777"
SUBJECT = "Cracked xylophone from Featherstone"
DESCRIPTION = "The xylophone Zebulon ordered arrived cracked at Featherstone Lane."
NOTE = "Zebulon says the Featherstone courier dropped it"

# Lower-case traces none of which may survive an erasure anywhere the product shows.
MARKERS = (
    "zebulon",
    "quagmire",
    "featherstone",
    "xylophone",
    "zq.old",
    "privacy.example",
    "900777",
)


@dataclass
class ErasureWorld:
    customer: Customer
    case: Case
    owner: Any
    receiver: Any
    manager: Any
    staff: Any


def traces(text: str) -> list[str]:
    """The markers found in ``text`` (case-insensitive)."""
    folded = text.lower()
    return [m for m in MARKERS if m in folded]


def build() -> ErasureWorld:
    team = TeamFactory(name="Repairs")
    owner, receiver = make_agent(team), make_agent(team)
    manager = make_manager(team)
    staff = UserFactory(is_staff=True, is_superuser=True)
    customer = Customer.objects.create(
        full_name=NAME, title="Mr", addressed_as="Zeb", email=OLD_EMAIL, phone=PHONE
    )
    case = services.case_open(
        customer=customer,
        team=team,
        channel=Channel.EMAIL,
        subject=SUBJECT,
        description=DESCRIPTION,
        by=owner,
        owner=owner,
    )
    # corrected by the manager, so the owner may write to the new address at once
    customer_update(customer=customer, by=manager, changes=CustomerChanges(email=EMAIL))
    services.case_add_note(case=case, by=owner, text=NOTE)
    promise = commitment_create(
        case=case,
        by=owner,
        description="Send Zebulon a new xylophone",
        kind="delivery",
        due=timedelta(days=3),
    )
    commitment_renegotiate(
        commitment=promise,
        by=owner,
        due=timedelta(days=6),
        reason="The Featherstone depot lost the parcel",
    )
    contact_reply_send(case=case, by=owner, body="Dear Zebulon, the Featherstone depot is on it.")
    contact_record(
        case=case,
        contact=NewContact(
            direction=ContactDirection.FROM_CUSTOMER,
            channel=Channel.PHONE,
            summary="Zebulon rang about Featherstone",
            body="Called from 07700 900777 about the xylophone",
        ),
        by=owner,
    )
    inbound_mail_receive(
        raw=raw_mail(
            to=reply_address(case.pk),
            sender=f"{NAME} <{EMAIL}>",
            subject=f"Re: {SUBJECT}",
            text="Still no xylophone at Featherstone Lane. Zebulon",
        ),
        via="http",
    )
    summary = good_summary(customer_needs="Zebulon needs a xylophone at Featherstone Lane.")
    declined = offer(case, to=receiver, summary=summary)
    handoff_decline(handoff=declined, by=receiver, reason="Featherstone is not my area")
    accepted = offer(case, to=receiver, summary=summary)
    handoff_accept(handoff=accepted, by=receiver)
    handoff_review(
        handoff=accepted,
        by=manager,
        rubric=HandoffRubric(
            context_complete=5, next_step_clear=4, commitments_carried=5, customer_informed=3
        ),
        comment="Good brief on Zebulon's Featherstone xylophone",
    )
    services.case_change_status(
        case=Case.objects.get(pk=case.pk),
        status="waiting_on_customer",
        by=receiver,
        reason="Zebulon is away from Featherstone",
    )
    customer.refresh_from_db()
    return ErasureWorld(
        customer=customer,
        case=Case.objects.get(pk=case.pk),
        owner=owner,
        receiver=receiver,
        manager=manager,
        staff=staff,
    )
