"""A small organisation for the page tests: two teams, an owner with a real case (opened
through the services, so it has its first-response promise), a colleague, a manager and an
agent of another team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cases.customers.links import make_customer_token
from cases.services import case_add_note, case_open
from commitments.services import commitment_create
from tests.factories import CaseFactory, CustomerFactory, TeamFactory, make_agent, make_manager


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    team = TeamFactory(name="Billing", time_zone="Europe/London")
    other_team = TeamFactory(name="Repairs", time_zone="America/New_York")
    owner = make_agent(team, display_name="Ada Owner", job_title="Billing Specialist")
    colleague = make_agent(team, display_name="Cole League")
    outsider = make_agent(other_team, display_name="Otto Side")
    manager = make_manager(team)
    customer = CustomerFactory(
        full_name="Grace Hopper",
        title="Dr",
        addressed_as="Dr Hopper",
        time_zone="Asia/Tokyo",
    )
    case = case_open(
        customer=customer,
        team=team,
        channel="email",
        subject="Charged twice for March",
        description="Two identical charges on the March invoice.",
        owner=owner,
        by=owner,
    )
    promise = commitment_create(
        case=case,
        by=owner,
        description="I will call you back with the refund reference.",
        kind="callback",
        due=timezone.now() + timedelta(days=3),
    )
    case_add_note(case=case, by=owner, text="Internal: customer sounded upset, check billing.")
    other_case = CaseFactory(
        team=other_team, owner=outsider, subject="Broken boiler", customer=customer
    )
    return {
        "team": team,
        "other_team": other_team,
        "owner": owner,
        "colleague": colleague,
        "outsider": outsider,
        "manager": manager,
        "customer": customer,
        "case": case,
        "promise": promise,
        "other_case": other_case,
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token_for(case) -> str:
    return make_customer_token(case_id=case.pk, generation=case.link_generation)


def case_url(case) -> str:
    return f"/cases/{case.ref}/"
