"""Invariants the database itself keeps, proven against real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_the_owner_column_is_not_null_in_the_database():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'cases_case' AND column_name = 'owner_id'"
        )
        assert cur.fetchone()[0] == "NO"
    team = TeamFactory()
    customer = CustomerFactory()
    with pytest.raises(IntegrityError, match="owner_id"), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO cases_case (customer_id, team_id, channel, subject, description,"
            " priority, status, owner_id, owner_since, owner_count, link_generation,"
            " created_at, updated_at) VALUES (%s, %s, 'email', 's', '', 'normal', 'open',"
            " NULL, now(), 1, 1, now(), now())",
            [customer.pk, team.pk],
        )


def test_an_owner_cannot_be_deleted_while_owning_cases():
    team = TeamFactory()
    agent = make_agent(team)
    services.case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="s", by=agent, owner=agent
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM auth_user WHERE id = %s", [agent.pk])


def _a_case_with_events():
    team = TeamFactory()
    agent = make_agent(team)
    case = services.case_open(
        customer=CustomerFactory(), team=team, channel="email", subject="s", by=agent, owner=agent
    )
    services.case_add_note(case=case, by=agent, text="first note")
    return case


def test_timeline_rows_cannot_be_updated():
    case = _a_case_with_events()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(data={"text": "rewritten"})
    assert CaseEvent.objects.get(case=case, kind="note").data == {"text": "first note"}


def test_timeline_rows_cannot_be_deleted():
    case = _a_case_with_events()
    before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert CaseEvent.objects.filter(case=case).count() == before


def test_timeline_rows_can_still_be_appended():
    case = _a_case_with_events()
    before = CaseEvent.objects.filter(case=case).count()
    services.case_add_note(case=case, by=case.owner, text="second note")
    assert CaseEvent.objects.filter(case=case).count() == before + 1


def test_concurrent_intakes_by_rule_do_not_pick_the_same_agent():
    """Two intakes in separate connections at the same moment: the team row lock makes the
    second wait and count the first one's case, so the two free agents get one case each."""
    team = TeamFactory()
    a, b = make_agent(team), make_agent(team)
    manager = make_manager(team)
    customers = [CustomerFactory(), CustomerFactory()]
    barrier = threading.Barrier(2)
    owners: list[int] = []
    errors: list[BaseException] = []

    def intake(customer):
        try:
            barrier.wait(timeout=10)
            case = services.case_open(
                customer=customer, team=team, channel="chat", subject="Help", by=manager
            )
            owners.append(case.owner_id)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=intake, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(owners) == sorted([a.pk, b.pk])
    assert Case.objects.filter(status=CaseStatus.OPEN).count() == 2


def test_many_concurrent_intakes_spread_evenly():
    team = TeamFactory()
    agents = [make_agent(team) for _ in range(3)]
    manager = make_manager(team)
    customers = [CustomerFactory() for _ in range(9)]
    barrier = threading.Barrier(9)
    errors: list[BaseException] = []

    def intake(customer):
        try:
            barrier.wait(timeout=10)
            services.case_open(
                customer=customer, team=team, channel="chat", subject="Help", by=manager
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    counts = sorted(Case.objects.filter(owner=a).count() for a in agents)
    assert counts == [3, 3, 3]
