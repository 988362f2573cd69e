"""Search by reference, name, email, phone and subject words; the same queries and the same
top results on SQLite and PostgreSQL (run the module with DATABASE_URL for the second)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.customers.search import search
from cases.customers.search_text import name_keys, name_tier
from cases.models import CaseStatus, Customer
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
    [
        "Zoë Brontë",
        "zoe bronte",
        "BRONTE",
        "Brontë",
        "Bront",
        "Brotne",
        "Zoe Brotne",
        "bronté",
        "Bornte",
        "Zoe Bornte",
        "Brpnte",
        "Zoe Brnte",
    ],
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


@pytest.mark.parametrize(
    ("kind", "query"),
    [("name", "Zoe Bornte"), ("phone", "07700 900021"), ("reference", "{ref}")],
)
def test_the_api_answers_each_kind_in_at_most_four_queries(
    seeded, kind, query, django_assert_max_num_queries
):
    """The token, the reader's teams, the customers, the cases: nothing per row found."""
    token = Token.objects.create(user=seeded["agent"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    namesakes = CustomerFactory.create_batch(3, full_name="Zoe Bronte", phone="")
    query = query.format(ref=seeded["cases"]["invoice"].ref)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/search/", {"q": query})
    assert response.status_code == 200, response.content
    best = response.json()["best"]
    if kind == "reference":
        assert best == {"type": "case", "ref": seeded["cases"]["invoice"].ref}
    elif kind == "phone":
        assert best == {"type": "customer", "id": seeded["zoe"].pk}
    else:
        assert best["id"] in {seeded["zoe"].pk, *(c.pk for c in namesakes)}


def test_an_empty_query_asks_nothing(seeded, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert search(user=seeded["agent"], query="   ").customers == []


def test_a_slip_of_the_finger_is_found_on_both_databases_by_the_same_rule(seeded):
    """The tier a name answers in, worked out in Python (SQLite), agrees with the name keys
    PostgreSQL indexes (``caseowner_name_keys``)."""
    assert name_tier(["nugyen"], "Alex Nguyen 12") == 2  # two neighbours swapped
    assert name_tier(["nguyn"], "Alex Nguyen 12") == 2  # one dropped
    assert name_tier(["nhuyen"], "Alex Nguyen 12") == 2  # one changed
    assert name_tier(["alex", "nguyen"], "Alex Nguyen 12") == 0
    assert name_tier(["al", "ngu"], "Alex Nguyen 12") == 1
    assert name_tier(["ngyxun"], "Alex Nguyen 12") is None  # two letters wrong
    assert name_tier(["nuyen"], "Alex Nguyen 12") == 2
    assert name_keys("Zoë Brontë 7") >= {"zoe", "bronte", "7", "~bronte", "~brnte", "~zo"}


def test_postgres_name_keys_match_the_python_ones(seeded, postgres):
    names = ["Zoë Brontë", "Jürgen Müller-Lüdenscheidt", "O'Brien Ng 12", "Ana", "Łukasz Żak"]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT tsvector_to_array(caseowner_name_keys(%s))", [name])
            in_postgres = set(cursor.fetchone()[0])
            # PostgreSQL also keeps a hyphenated name whole ("muller-ludenscheidt").
            assert {k for k in in_postgres if "-" not in k} == name_keys(name), name


def test_postgres_answers_a_common_name_from_the_name_keys_alone(seeded, postgres):
    """More namesakes than candidates: the tiers after the first full one never run (the
    trigram recheck would fold and weigh every namesake)."""
    CustomerFactory.create_batch(60, full_name="Zoe Bronte")
    Customer.objects.bulk_create(Customer(full_name=f"Person {n}") for n in range(3000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_customer")
    with CaptureQueriesContext(connection) as captured:
        results = search(user=seeded["agent"], query="Zoe Bornte")
    assert top_customer(results).full_name in {"Zoë Brontë", "Zoe Bronte"}
    names_sql = next(q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + names_sql)
        plan = "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "customer_name_keys" in plan
    trigram = plan[plan.index("customer_name_trgm") - 200 :]
    assert "never executed" in trigram


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
