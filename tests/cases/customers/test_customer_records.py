"""Phone numbers at the door, duplicates at intake, corrections and merges of customer
records: the services, then the API with its query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cases.customers.erasure import customer_erase
from cases.customers.services import (
    CustomerChanges,
    customer_create,
    customer_merge,
    customer_unmerge,
    customer_update,
)
from cases.errors import CaseRuleError
from cases.intake import CaseIntake, NewCustomer, case_intake
from cases.models import Case, CaseEvent, CaseStatus, Customer, CustomerMerge, EventKind
from tests.cases.conftest import assert_error, client_for
from tests.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory


def intake(by, team, **customer):
    return case_intake(
        intake=CaseIntake(
            channel="phone",
            subject="Boiler",
            team_id=team.pk,
            new_customer=NewCustomer(**{"full_name": "Zoë Brontë", **customer}),
        ),
        by=by,
    )


# --- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["07700 900021", "+44 7700 900021", "(0)7700-900021"])
def test_a_phone_is_stored_in_e164(db, typed):
    customer = customer_create(full_name="Zoë Brontë", phone=typed, phone_region="GB")
    assert customer.phone == "+447700900021"
    assert customer.phone_national == "07700 900021"


def test_a_phone_is_read_in_the_team_region(world):
    world["team"].phone_region = "US"
    world["team"].save()
    case = intake(world["owner"], world["team"], phone="(212) 555-0100")
    assert case.customer.phone == "+12125550100"


@pytest.mark.parametrize("typed", ["12", "call me", "0770"])
def test_an_unreadable_phone_is_refused_with_invalid_phone(world, typed):
    with pytest.raises(CaseRuleError) as exc:
        intake(world["owner"], world["team"], phone=typed)
    assert exc.value.code == "invalid_phone"
    assert "phone" in exc.value.fields


# --- duplicates at intake -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed"), [("email", "ZOE@example.org"), ("phone", "+44 (0)7700 900021")]
)
def test_intake_of_a_known_email_or_phone_answers_customer_exists(world, field, typed):
    known = CustomerFactory(email="zoe@example.org", phone="+447700900021")
    with pytest.raises(CaseRuleError) as exc:
        intake(world["owner"], world["team"], **{field: typed})
    assert exc.value.code == "customer_exists" and exc.value.status_code == 409
    assert exc.value.extra["match"]["id"] == known.pk
    assert exc.value.extra["match"]["matched_on"] == field


def test_a_different_person_with_the_same_email_gets_a_new_record(world):
    known = CustomerFactory(email="zoe@example.org")
    case = intake(world["owner"], world["team"], email="zoe@example.org", different_person=True)
    assert case.customer != known and case.customer.email == "zoe@example.org"


def test_a_merged_record_at_intake_opens_the_case_for_the_survivor(world):
    survivor, tombstone = CustomerFactory(), CustomerFactory()
    tombstone.merged_into = survivor
    tombstone.save()
    case = case_intake(
        intake=CaseIntake(channel="email", subject="x", customer_id=tombstone.pk),
        by=world["owner"],
    )
    assert case.customer == survivor


# --- corrections ----------------------------------------------------------------------------


def test_a_correction_is_on_the_timeline_of_each_open_case(world):
    customer = world["case"].customer
    closed = CaseFactory(team=world["team"], customer=customer, status=CaseStatus.CLOSED)
    old_phone = customer.phone
    customer_update(
        customer=customer,
        by=world["colleague"],
        changes=CustomerChanges(title="Dr", phone="07700 900999"),
    )
    customer.refresh_from_db()
    assert (customer.title, customer.phone) == ("Dr", "+447700900999")
    event = CaseEvent.objects.get(case=world["case"], kind=EventKind.CUSTOMER_UPDATED)
    assert event.actor == world["colleague"]
    assert event.data["changes"] == {
        "title": {"from": "Ms", "to": "Dr"},
        "phone": {"from": old_phone, "to": "+447700900999"},
    }
    assert not CaseEvent.objects.filter(case=closed, kind=EventKind.CUSTOMER_UPDATED).exists()


def test_only_agents_of_a_team_with_a_case_of_theirs_correct_a_customer(world):
    with pytest.raises(CaseRuleError) as exc:
        customer_update(
            customer=world["case"].customer,
            by=world["outsider"],
            changes=CustomerChanges(title="Dr"),
        )
    assert exc.value.code == "not_customer_team"


def test_a_correction_without_change_records_nothing(world):
    customer = world["case"].customer
    customer_update(customer=customer, by=world["owner"], changes=CustomerChanges(title="Ms"))
    assert not CaseEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()


# --- merges ---------------------------------------------------------------------------------


@pytest.fixture
def two_records(world):
    survivor = world["case"].customer
    duplicate = CustomerFactory(full_name="Zoe Bronte")
    cases = [
        CaseFactory(team=world["team"], customer=duplicate),
        CaseFactory(team=world["other"], customer=duplicate, status=CaseStatus.CLOSED),
    ]
    return {**world, "survivor": survivor, "duplicate": duplicate, "moved": cases}


def test_a_merge_moves_every_case_and_leaves_a_tombstone(two_records):
    w = two_records
    events_before = list(CaseEvent.objects.values_list("pk", "kind", "data"))
    merge = customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    w["duplicate"].refresh_from_db()
    assert w["duplicate"].merged_into == w["survivor"]
    assert not Case.objects.filter(customer=w["duplicate"]).exists()
    assert set(Case.objects.filter(customer=w["survivor"])) == {w["case"], *w["moved"]}
    assert merge.case_ids == [c.pk for c in w["moved"]]
    # Append-only: the earlier events are untouched, one new event per moved case.
    assert (
        list(
            CaseEvent.objects.filter(pk__in=[e[0] for e in events_before]).values_list(
                "pk", "kind", "data"
            )
        )
        == events_before
    )
    assert CaseEvent.objects.filter(kind=EventKind.CUSTOMER_MERGED).count() == 2


def test_an_undo_moves_back_exactly_the_merged_cases(two_records):
    w = two_records
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    later = CaseFactory(team=w["team"], customer=w["survivor"])
    merge = customer_unmerge(merged=w["duplicate"], by=w["manager"])
    w["duplicate"].refresh_from_db()
    assert w["duplicate"].merged_into is None and merge.undone_by == w["manager"]
    assert set(Case.objects.filter(customer=w["duplicate"])) == set(w["moved"])
    assert set(Case.objects.filter(customer=w["survivor"])) == {w["case"], later}
    assert CaseEvent.objects.filter(kind=EventKind.CUSTOMER_UNMERGED).count() == 2


def test_a_merge_is_undone_only_within_thirty_days(two_records):
    w = two_records
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        with pytest.raises(CaseRuleError) as exc:
            customer_unmerge(merged=w["duplicate"], by=w["manager"])
    assert exc.value.code == "merge_too_old"


def test_only_managers_merge(two_records):
    w = two_records
    with pytest.raises(CaseRuleError) as exc:
        customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["owner"])
    assert exc.value.code == "not_manager"


def test_a_tombstone_cannot_be_merged_again(two_records):
    w = two_records
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    with pytest.raises(CaseRuleError) as exc:
        customer_merge(survivor=CustomerFactory(), merged=w["duplicate"], by=w["manager"])
    assert exc.value.code == "customer_merged"


def test_another_teams_manager_cannot_merge(two_records):
    """Repairs' manager may correct the duplicate (a case of theirs), never Billing's record."""
    w = two_records
    with pytest.raises(CaseRuleError) as exc:
        customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["other_manager"])
    assert (exc.value.code, exc.value.status_code) == ("not_customer_team", 403)
    with pytest.raises(CaseRuleError) as exc:
        customer_merge(survivor=w["duplicate"], merged=w["survivor"], by=w["other_manager"])
    assert exc.value.code == "not_customer_team"
    assert set(Case.objects.filter(customer=w["duplicate"])) == set(w["moved"])
    assert not CustomerMerge.objects.exists()


def test_another_teams_manager_cannot_undo_a_merge(two_records):
    w = two_records
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    with pytest.raises(CaseRuleError) as exc:
        customer_unmerge(merged=w["duplicate"], by=w["other_manager"])
    assert (exc.value.code, exc.value.status_code) == ("not_customer_team", 403)
    w["duplicate"].refresh_from_db()
    assert w["duplicate"].merged_into == w["survivor"]
    assert CustomerMerge.objects.get().undone_at is None


def test_a_manager_of_both_records_teams_merges_and_undoes(two_records):
    w = two_records
    w["other"].managers.add(w["manager"])
    merge = customer_merge(survivor=w["duplicate"], merged=w["survivor"], by=w["manager"])
    assert merge.case_ids == [w["case"].pk]
    customer_unmerge(merged=w["survivor"], by=w["manager"])
    assert Case.objects.get(pk=w["case"].pk).customer == w["survivor"]


@pytest.mark.parametrize("side", ["survivor", "duplicate"])
def test_an_erased_record_is_never_merged(two_records, side):
    w = two_records
    customer_erase(customer=w[side], by=UserFactory(is_staff=True, is_superuser=True))
    with pytest.raises(CaseRuleError) as exc:
        customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    assert (exc.value.code, exc.value.status_code) == ("customer_erased", 409)
    assert set(Case.objects.filter(customer=w["duplicate"])) == set(w["moved"])


def test_an_erased_customers_merge_is_never_undone(two_records):
    """Erasing the survivor erases the records merged into it; splitting them again would
    hand erased cases back to a record that once had details."""
    w = two_records
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    customer_erase(customer=w["survivor"], by=UserFactory(is_staff=True, is_superuser=True))
    with pytest.raises(CaseRuleError) as exc:
        customer_unmerge(merged=w["duplicate"], by=w["manager"])
    assert exc.value.code == "customer_erased"
    assert not Case.objects.filter(customer=w["duplicate"]).exists()


# --- the API --------------------------------------------------------------------------------


def test_api_intake_answers_409_with_the_match(world):
    known = CustomerFactory(email="zoe@example.org")
    body = {
        "new_customer": {"name": "Zoe B", "email": "zoe@example.org"},
        "channel": "email",
        "subject": "Boiler",
        "team": world["team"].pk,
    }
    response = client_for(world["owner"]).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "customer_exists"
    assert response.json()["match"]["id"] == known.pk
    body["new_customer"]["different_person"] = True
    response = client_for(world["owner"]).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] != known.pk


def test_api_search_is_grouped_and_at_most_four_queries(world, django_assert_max_num_queries):
    customer = world["case"].customer
    client = client_for(world["owner"])
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/search/", {"q": customer.full_name})
    assert response.status_code == 200
    body = response.json()
    assert body["best"] == {"type": "customer", "id": customer.pk}
    assert body["customers"][0]["open_cases"][0]["ref"] == world["case"].ref
    response = client.get("/api/v1/search/", {"q": world["case"].ref})
    assert response.json()["best"] == {"type": "case", "ref": world["case"].ref}


def test_api_customer_list_filters_by_phone_in_any_format(world, django_assert_max_num_queries):
    target = CustomerFactory(phone="+447700900021")
    CustomerFactory.create_batch(5)
    client = client_for(world["owner"])
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/customers/", {"phone": "07700 900021"})
    assert [row["id"] for row in response.json()["results"]] == [target.pk]
    assert response.json()["results"][0]["phone_national"] == "07700 900021"


def test_api_customer_detail_and_update(world, django_assert_max_num_queries):
    customer = world["case"].customer
    client = client_for(world["owner"])
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/customers/{customer.pk}/")
    assert response.json()["cases"][0]["ref"] == world["case"].ref
    with django_assert_max_num_queries(12):
        response = client.patch(
            f"/api/v1/customers/{customer.pk}/", {"phone": "+1 212 555 0100"}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+12125550100"
    assert_error(
        client.patch(f"/api/v1/customers/{customer.pk}/", {"phone": "nope"}, format="json"),
        400,
        "invalid_phone",
    )
    assert_error(
        client_for(world["outsider"]).patch(
            f"/api/v1/customers/{customer.pk}/", {"title": "Dr"}, format="json"
        ),
        403,
        "not_customer_team",
    )


def test_api_merge_and_unmerge(two_records):
    w = two_records
    client = client_for(w["manager"])
    response = client.post(
        f"/api/v1/customers/{w['survivor'].pk}/merge/", {"other": w["duplicate"].pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["cases"] == [c.ref for c in w["moved"]]
    assert client.get(f"/api/v1/customers/{w['duplicate'].pk}/").json()["merged_into"] == (
        w["survivor"].pk
    )
    response = client.post(f"/api/v1/customers/{w['duplicate'].pk}/unmerge/")
    assert response.status_code == 200, response.content
    assert CustomerMerge.objects.get().undone_at is not None
    assert_error(
        client_for(w["owner"]).post(
            f"/api/v1/customers/{w['survivor'].pk}/merge/",
            {"other": w["duplicate"].pk},
            format="json",
        ),
        403,
        "not_manager",
    )


def test_api_another_teams_manager_cannot_merge_or_unmerge(two_records):
    w = two_records
    outsider = client_for(w["other_manager"])
    assert_error(
        outsider.post(
            f"/api/v1/customers/{w['survivor'].pk}/merge/",
            {"other": w["duplicate"].pk},
            format="json",
        ),
        403,
        "not_customer_team",
    )
    assert set(Case.objects.filter(customer=w["duplicate"])) == set(w["moved"])
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    assert_error(
        outsider.post(f"/api/v1/customers/{w['duplicate'].pk}/unmerge/"),
        403,
        "not_customer_team",
    )
    assert CustomerMerge.objects.get().undone_at is None


def test_api_merging_an_erased_record_answers_409_customer_erased(two_records):
    w = two_records
    customer_erase(customer=w["duplicate"], by=UserFactory(is_staff=True, is_superuser=True))
    assert_error(
        client_for(w["manager"]).post(
            f"/api/v1/customers/{w['survivor'].pk}/merge/",
            {"other": w["duplicate"].pk},
            format="json",
        ),
        409,
        "customer_erased",
    )


def test_pages_another_teams_manager_cannot_merge_or_unmerge(two_records):
    w = two_records
    page = Client()
    page.force_login(w["other_manager"])
    html = page.get(f"/customers/{w['survivor'].pk}/").content.decode()
    assert "customer-merge" not in html and f"/customers/{w['survivor'].pk}/merge/" not in html
    response = page.post(f"/customers/{w['survivor'].pk}/merge/", {"other": w["duplicate"].pk})
    assert response.status_code == 400
    assert "Only a manager of a team with a case of each customer" in response.content.decode()
    assert set(Case.objects.filter(customer=w["duplicate"])) == set(w["moved"])
    customer_merge(survivor=w["survivor"], merged=w["duplicate"], by=w["manager"])
    response = page.post(f"/customers/{w['duplicate'].pk}/unmerge/", follow=True)
    assert "Only a manager of a team with a case of each customer" in response.content.decode()
    assert CustomerMerge.objects.get().undone_at is None


def test_api_customers_follow_team_visibility(world, settings):
    settings.CUSTOMER_VISIBILITY = "team"
    mine = world["case"].customer
    theirs = CaseFactory(team=world["other"]).customer
    ids = [r["id"] for r in client_for(world["owner"]).get("/api/v1/customers/").json()["results"]]
    assert mine.pk in ids and theirs.pk not in ids
    assert_error(client_for(world["owner"]).get(f"/api/v1/customers/{theirs.pk}/"), 404)
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_existing_phones_are_normalised_by_the_migration_where_they_parse(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cases.migrations.0010_customer_phones_e164")
    team = TeamFactory(phone_region="US")
    american = CaseFactory(team=team, customer=CustomerFactory(phone="(212) 555-0100")).customer
    british = CustomerFactory(phone="07700 900021")
    unreadable = CustomerFactory(phone="ask reception")
    migration.forwards(apps, None)
    for c in (american, british, unreadable):
        c.refresh_from_db()
    assert (american.phone, british.phone) == ("+12125550100", "+447700900021")
    assert unreadable.phone == "ask reception"


def test_team_visibility_hides_other_teams_customers_at_intake(world, settings):
    settings.CUSTOMER_VISIBILITY = "team"
    theirs = CaseFactory(team=world["other"]).customer
    with pytest.raises(CaseRuleError) as exc:
        case_intake(
            intake=CaseIntake(channel="email", subject="x", customer_id=theirs.pk),
            by=world["owner"],
        )
    assert exc.value.code == "customer_not_found"


@pytest.mark.django_db
def test_correcting_the_name_parts_changes_the_salutation_and_is_recorded():
    from cases.customers.services import CustomerChanges, customer_update
    from cases.models import CaseEvent
    from cases.services import case_open
    from tests.factories import CustomerFactory, TeamFactory, make_agent

    team = TeamFactory()
    agent = make_agent(team)
    customer = CustomerFactory(full_name="Wang Wei", title="Mr")
    case = case_open(customer=customer, team=team, channel="email", subject="Hi", by=agent)
    assert customer.salutation_name == "Wang Wei"
    customer_update(
        customer=customer,
        by=agent,
        changes=CustomerChanges(given_name="Wei", family_name="Wang"),
    )
    customer.refresh_from_db()
    assert customer.salutation_name == "Mr Wang"
    event = CaseEvent.objects.filter(case=case, kind="customer_updated").get()
    assert event.data["changes"]["family_name"] == {"from": "", "to": "Wang"}
