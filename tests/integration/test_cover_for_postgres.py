"""A manager's "cover for" on real PostgreSQL, watched from a second connection: at every
observation each case has exactly one owner, at most one open offer, and the timeline
agrees with the offers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cases import services
from cases.availability.cover_for import CoverCase, CoverRequest, cover_drafts, cover_for
from cases.availability.services import agent_set_away
from cases.handoffs.services import handoff_accept
from cases.models import Case, Handoff, HandoffStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

CASES = 30

WATCH = """
SELECT
  (SELECT count(*) FROM cases_case WHERE id = ANY(%(ids)s) AND owner_id IS NOT NULL),
  (SELECT count(DISTINCT owner_id) FROM cases_case WHERE id = ANY(%(ids)s)
     AND owner_id <> ALL(%(owners)s)),
  (SELECT count(*) FROM (SELECT case_id FROM cases_handoff WHERE status = 'offered'
     AND case_id = ANY(%(ids)s) GROUP BY case_id HAVING count(*) > 1) AS doubled),
  (SELECT count(*) FROM cases_handoff WHERE case_id = ANY(%(ids)s)),
  (SELECT count(*) FROM cases_caseevent WHERE kind = 'handoff_offered' AND case_id = ANY(%(ids)s))
"""


def test_cover_for_thirty_cases_never_leaves_a_case_without_its_owner():
    team = TeamFactory()
    owner = make_agent(team)
    ben, cat = make_agent(team), make_agent(team)
    manager = make_manager(team)
    cases = [
        services.case_open(
            customer=CustomerFactory(), team=team, channel="email", subject=f"Case {n}",
            by=owner, owner=owner,
        )
        for n in range(CASES)
    ]  # fmt: skip
    agent_set_away(agent=owner, by=owner, away=True)
    drafts = cover_drafts(agent=owner)
    items = [
        CoverCase(
            case_id=d.case.pk,
            customer_needs=f"Customer {d.case.pk} needs a replacement for the faulty unit {n}.",
            next_step=f"Call customer {d.case.pk} tomorrow morning and book courier slot {n}.",
            customer_expectations=d.customer_expectations,
            actions_taken=f"{d.actions_taken}. Nothing else was done after intake {n}.",
        )
        for n, d in enumerate(drafts)
    ]
    ids = [c.pk for c in cases]
    allowed = [owner.pk, ben.pk, cat.pk]
    observations: list[tuple] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            handoffs = cover_for(
                agent=owner,
                by=manager,
                request=CoverRequest(cases=items, receivers=[ben.pk, cat.pk]),
            )
            for handoff in handoffs:
                handoff_accept(handoff=handoff, by=handoff.to_agent)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    with connection.cursor() as cur:
        while not done.is_set() or len(observations) < 2:
            cur.execute(WATCH, {"ids": ids, "owners": allowed})
            observations.append(cur.fetchone())
            if done.is_set():
                cur.execute(WATCH, {"ids": ids, "owners": allowed})
                observations.append(cur.fetchone())
                break
    worker.join()
    assert not errors, errors
    for owned, strangers, doubled, handoffs, offered_events in observations:
        assert owned == CASES  # every case has its one owner
        assert strangers == 0  # and it is the away owner or a receiver
        assert doubled == 0  # at most one open offer per case
        assert offered_events == handoffs  # each offer has its timeline row
    assert len(observations) >= 2
    final = Case.objects.filter(pk__in=ids)
    assert set(final.values_list("owner_id", flat=True)) == {ben.pk, cat.pk}
    assert Handoff.objects.filter(case_id__in=ids, status=HandoffStatus.ACCEPTED).count() == CASES
