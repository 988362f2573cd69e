"""Search by reference, name, email, phone and subject words; the same queries and the same
top results on SQLite and PostgreSQL (run the module with DATABASE_URL for the second)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import CaseStatus, Customer
from cases.search import search
from tests.factories import CaseFactory, CustomerFactory, TeamFactory, make_agent


@pytest.fixture
def seeded(db):
    """Names with accents and near neighbours, one number stored once, cases with subjects."""
    team = TeamFactory(name="Billing", phone_region="GB")
    agent = make_agent(team)
    people = {
        "zoe": CustomerFactory(
            full_name="Zoë Brontë", email="zoe@example.org", phone="+447700900021"
        ),
        "brown": CustomerFactory(full_name="James Brown", email="jb@example.org", phone=""),
        "bright": CustomerFactory(full_name="Zoe Bright", email="zb@example.org", phone=""),
        "grace": CustomerFactory(full_name="Grace Hopper", email="grace@example.org", phone=""),
        "hooper": CustomerFactory(full_name="Tobias Hooper", email="th@example.org", phone=""),
        "muller": CustomerFactory(full_name="Jürgen Müller", email="jm@example.org", phone=""),
    }
    soon = timezone.now() + timedelta(days=1)
    cases = {
        "boiler": CaseFactory(
            team=team, customer=people["zoe"], subject="Boiler broken again", next_due_at=soon
        ),
        "old": CaseFactory(
            team=team, customer=people["zoe"], subject="Old refund", status=CaseStatus.CLOSED
        ),
        "invoice": CaseFactory(
            team=team, customer=people["grace"], subject="Invoice charged twice"
        ),
        "brown": CaseFactory(team=team, customer=people["brown"], subject="Meter reading"),
    }
    return {"agent": agent, "team": team, **people, "cases": cases}


def top_customer(results):
    return results.customers[0].customer if results.customers else None


@pytest.mark.parametrize(
    "query",
    ["Zoë Brontë", "zoe bronte", "BRONTE", "Brontë", "Bront", "Brotne", "Zoe Brotne", "bronté"],
)
def test_a_name_finds_the_customer_accented_partial_or_misspelt(seeded, query):
    assert top_customer(search(user=seeded["agent"], query=query)) == seeded["zoe"]


@pytest.mark.parametrize(
    ("query", "who"),
    [("Hopper", "grace"), ("Hoppre", "grace"), ("Hooper", "hooper"), ("muller", "muller")],
)
def test_the_closest_name_comes_first(seeded, query, who):
    assert top_customer(search(user=seeded["agent"], query=query)) == seeded[who]


@pytest.mark.parametrize(
    "query",
    ["07700 900021", "+44 7700 900021", "(0)7700-900021", "+44 (0)7700 900021", "0044 7700900021"],
)
def test_a_phone_in_any_format_finds_the_customer(seeded, query):
    results = search(user=seeded["agent"], query=query)
    assert [h.customer for h in results.customers] == [seeded["zoe"]]
    assert results.customers[0].match == "phone"


def test_an_email_in_any_case_comes_first(seeded):
    results = search(user=seeded["agent"], query="ZOE@Example.org")
    assert top_customer(results) == seeded["zoe"]
    assert results.customers[0].match == "email"


@pytest.mark.parametrize("form", ["{ref}", "{pk}", "{ref_lower}", "{pk06}"])
def test_a_reference_with_or_without_prefix_is_the_best_match(seeded, form):
    case = seeded["cases"]["invoice"]
    query = form.format(ref=case.ref, pk=case.pk, ref_lower=case.ref.lower(), pk06=f"{case.pk:06d}")
    results = search(user=seeded["agent"], query=query)
    assert results.best.case == case
    assert results.cases[0].match == "ref"


def test_customers_come_with_their_open_cases_only(seeded):
    hit = search(user=seeded["agent"], query="bronte").customers[0]
    assert [c.pk for c in hit.open_cases] == [seeded["cases"]["boiler"].pk]


def test_words_of_a_subject_find_the_case(seeded):
    results = search(user=seeded["agent"], query="charged invoice")
    assert [h.case for h in results.cases] == [seeded["cases"]["invoice"]]
    assert results.cases[0].match == "subject"


def test_merged_records_are_not_found(seeded):
    seeded["bright"].merged_into = seeded["zoe"]
    seeded["bright"].save()
    found = {h.customer for h in search(user=seeded["agent"], query="Zoe Bright").customers}
    assert seeded["bright"] not in found


def test_other_teams_cases_are_not_found(seeded):
    outsider = make_agent(TeamFactory(name="Repairs"))
    results = search(user=outsider, query=seeded["cases"]["invoice"].ref)
    assert results.cases == []


def test_team_visibility_hides_other_teams_customers(seeded, settings):
    settings.CUSTOMER_VISIBILITY = "team"
    outsider = make_agent(TeamFactory(name="Repairs"))
    assert search(user=outsider, query="bronte").customers == []
    settings.CUSTOMER_VISIBILITY = "organisation"
    assert top_customer(search(user=outsider, query="bronte")) == seeded["zoe"]


def test_a_search_takes_at_most_three_queries(seeded, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        results = search(user=seeded["agent"], query="Brotne")
        [c.owner.agent_profile.display_name for h in results.customers for c in h.open_cases]


def test_an_empty_query_asks_nothing(seeded, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert search(user=seeded["agent"], query="   ").customers == []


def test_postgres_serves_names_and_subjects_from_their_indexes(seeded, postgres):
    Customer.objects.bulk_create(Customer(full_name=f"Person {n}") for n in range(3000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_customer")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM cases_customer WHERE merged_into_id IS NULL"
            " AND 'brotne' <% caseowner_fold(full_name)"
        )
        names = " ".join(r[0] for r in cursor.fetchall())
        cursor.execute(
            "EXPLAIN SELECT id FROM cases_case WHERE to_tsvector('simple'::regconfig,"
            " caseowner_fold(subject)) @@ plainto_tsquery('simple'::regconfig, 'boiler')"
        )
        subjects = " ".join(r[0] for r in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "customer_name_trgm" in names
    assert "case_subject_fts" in subjects
