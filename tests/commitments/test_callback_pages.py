"""The callback pages without a browser: the staff's page books for a customer without email
(who may see the case reads it; who may change it books), the case page links to it, and the
customer's page answers a bad link like the customer page does."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from cases.customers.links import make_customer_token
from commitments import callbacks
from tests.commitments.conftest import london
from tests.factories import CustomerFactory, TeamFactory, make_agent


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(london(2026, 12, 7, 9, 0), tick=False):
        yield


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_books_for_a_customer_without_email_from_the_case_page(open_case, agent):
    case = open_case(customer=CustomerFactory(email="", phone="+441632960001"))
    client = _client(agent)
    assert f"/cases/{case.ref}/callback/" in client.get(f"/cases/{case.ref}/").content.decode()
    page = client.get(f"/cases/{case.ref}/callback/")
    assert page.status_code == 200 and "Book the call back" in page.content.decode()
    start = london(2026, 12, 8, 10, 0)
    answer = client.post(
        f"/cases/{case.ref}/callback/", {"action": "book", "starts_at": start.isoformat()}
    )
    assert answer.status_code == 302
    booking = callbacks.callback_of(case)
    assert booking is not None and booking.booked_by == agent and booking.starts_at == start


def test_staff_of_another_team_do_not_see_the_page(open_case):
    case = open_case()
    outsider = make_agent(TeamFactory())
    assert _client(outsider).get(f"/cases/{case.ref}/callback/").status_code == 404


def test_a_colleague_sees_the_booking_but_cannot_book(open_case, team):
    case = open_case()
    colleague = make_agent(team)
    page = _client(colleague).get(f"/cases/{case.ref}/callback/")
    assert page.status_code == 200 and "Book the call back" not in page.content.decode()


def test_the_customer_page_answers_a_bad_link_with_404(open_case):
    case = open_case()
    stale = make_customer_token(case_id=case.pk, generation=0)
    assert Client().get(f"/c/{stale}/callback/").status_code == 404
    good = make_customer_token(case_id=case.pk, generation=1)
    refused = Client().post(f"/c/{good}/callback/", {"action": "book"}, follow=True)
    assert "Choose a time first." in refused.content.decode()
