"""case_intake: the one intake rule behind the intake page and POST /api/v1/cases/."""

from __future__ import annotations

import pytest

from cases.errors import CaseRuleError
from cases.intake import CaseIntake, NewCustomer, case_intake
from cases.models import Case, Customer
from tests.factories import CustomerFactory, make_agent

pytestmark = pytest.mark.django_db


def intake(**overrides) -> CaseIntake:
    fields = {"channel": "email", "subject": "Invoice wrong"}
    fields.update(overrides)
    return CaseIntake(**fields)


def refused(by, **overrides) -> CaseRuleError:
    with pytest.raises(CaseRuleError) as caught:
        case_intake(intake=intake(**overrides), by=by)
    return caught.value


def test_it_opens_the_case_in_the_callers_only_team(world):
    case = case_intake(intake=intake(customer_id=CustomerFactory().pk), by=world["owner"])
    assert case.team == world["team"]


def test_a_caller_of_two_teams_must_name_one(world):
    world["other"].agents.add(world["owner"].agent_profile)
    error = refused(world["owner"], customer_id=CustomerFactory().pk)
    assert (error.code, error.fields) == ("team_required", {"team": ["This field is required."]})


def test_another_teams_id_is_not_found(world):
    error = refused(world["owner"], customer_id=CustomerFactory().pk, team_id=world["other"].pk)
    assert (error.code, error.status_code) == ("team_not_found", 400)


def test_a_superuser_opens_a_case_in_any_team(world):
    admin = make_agent(None, user__is_superuser=True)
    case = case_intake(
        intake=intake(customer_id=CustomerFactory().pk, team_id=world["other"].pk), by=admin
    )
    assert case.team == world["other"] and case.owner == world["outsider"]


def test_an_unknown_owner_id_is_the_owner_code(world):
    error = refused(world["owner"], customer_id=CustomerFactory().pk, owner_id=999_999)
    assert (error.code, error.fields) == ("owner_not_in_team", {"owner": ["Not found."]})


def test_an_unknown_customer_id_is_the_customer_code(world):
    assert refused(world["owner"], customer_id=999_999).code == "customer_not_found"


def test_it_takes_exactly_one_customer(world):
    assert refused(world["owner"]).code == "customer_required"
    both = refused(
        world["owner"], customer_id=CustomerFactory().pk, new_customer=NewCustomer("Ada Okafor")
    )
    assert both.code == "customer_required"


def test_a_new_customer_prefers_the_channel_they_came_in_on(world):
    case = case_intake(
        intake=intake(channel="phone", new_customer=NewCustomer("Ada Okafor", title="Dr")),
        by=world["owner"],
    )
    assert (case.customer.full_name, case.customer.preferred_channel) == ("Ada Okafor", "phone")


def test_a_refused_intake_leaves_no_new_customer_behind(world):
    before = Customer.objects.count()
    error = refused(
        world["owner"], new_customer=NewCustomer("Ada Okafor"), owner_id=world["outsider"].pk
    )
    assert error.code == "owner_not_in_team"
    assert Customer.objects.count() == before
    assert not Case.objects.filter(subject="Invoice wrong").exists()
