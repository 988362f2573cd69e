"""'Log a contact' on the case page: a call, chat or visit recorded through the same service
as ``POST …/contacts/``, the time read in the team's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from cases.models import CaseEvent, Contact, EventKind
from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 15:00 in London (GMT in winter)
NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def log(org, who="colleague", **fields):
    body = {"direction": "to_customer", "channel": "phone", "summary": "Called back: refund sent."}
    body.update(fields)
    return client_for(org[who]).post(f"/cases/{org['case'].ref}/contact/", body)


def test_the_form_is_on_the_case_page_for_the_team(org):
    for who in ("owner", "colleague", "manager"):
        page = client_for(org[who]).get(case_url(org["case"])).content.decode()
        assert "Log a contact" in page and 'name="direction"' in page, who


def test_a_call_logged_on_the_page_is_a_contact_on_the_timeline(org):
    with time_machine.travel(NOW, tick=False):
        answer = log(org, at="2026-11-25T14:30")
    assert answer.status_code == 302 and answer.url.endswith("#timeline")
    contact = Contact.objects.get(case=org["case"])
    assert (contact.direction, contact.channel, contact.agent) == (
        "to_customer",
        "phone",
        org["colleague"],
    )
    # 14:30 in the team's zone (Europe/London)
    assert contact.at == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert contact.summary == "Called back: refund sent."
    assert CaseEvent.objects.filter(case=org["case"], kind=EventKind.CONTACT_TO_CUSTOMER).exists()
    page = client_for(org["owner"]).get(case_url(org["case"])).content.decode()
    assert "Called back: refund sent." in page


def test_a_call_logged_on_the_page_keeps_the_first_response_promise(org):
    from commitments.models import Commitment, CommitmentKind, CommitmentStatus

    log(org, who="owner")
    first = Commitment.objects.get(case=org["case"], kind=CommitmentKind.FIRST_RESPONSE)
    assert first.status == CommitmentStatus.KEPT


def test_the_customers_call_logged_without_a_time_is_now(org):
    with time_machine.travel(NOW, tick=False):
        log(org, direction="from_customer", channel="chat", summary="Asked for the invoice.")
    contact = Contact.objects.get(case=org["case"])
    assert (contact.direction, contact.at, contact.agent) == ("from_customer", NOW, None)


@pytest.mark.parametrize(
    "fields",
    [
        {"summary": ""},
        {"channel": "pigeon"},
        {"at": "2026-11-26T15:00"},
        {"summary": "s" * 301},
    ],
    ids=["no-summary", "channel", "future", "too-long"],
)
def test_bad_input_is_a_400_on_the_form_and_writes_nothing(org, fields):
    with time_machine.travel(NOW, tick=False):
        answer = log(org, **fields)
    assert answer.status_code == 400
    assert "Log a contact" in answer.content.decode()
    assert not Contact.objects.exists()


def test_another_teams_agent_gets_404(org):
    assert log(org, who="outsider").status_code == 404
    assert not Contact.objects.exists()
