"""Reads from a replica (caseowner.db_router): the managers' pages, search and the CSV exports
read it and say how far behind it is; a write path never does. The replica alias is pointed
at a database that does not exist (a read there fails) or at the test database itself (the
same connection, so the page sees the test's rows)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connections, router, transaction
from django.test import Client
from django.utils import timezone

from caseowner.db_router import REPLICA, ReplicaRouter, reading_replica, replica_alias
from cases.handoffs.gate import HandoffRubric
from cases.handoffs.outcomes import handoff_review
from cases.handoffs.services import handoff_accept, handoff_offer
from cases.models import Case
from commitments.services import commitment_create, commitment_mark_kept
from tests.factories import CaseFactory, good_summary, make_agent, make_manager

pytestmark = pytest.mark.django_db


@contextmanager
def replica(*, broken: bool) -> Iterator[None]:
    default = connections["default"]
    if broken:
        name = "/nonexistent/replica.sqlite3" if default.vendor == "sqlite" else "no_such_db"
        connections.settings[REPLICA] = {**default.settings_dict, "NAME": name}
    else:
        connections.settings[REPLICA] = dict(default.settings_dict)
        connections[REPLICA] = default  # the very connection: the test's own transaction
    try:
        yield
    finally:
        if broken:
            connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


PAGES = [
    "/manage/?weeks=2",
    "/manage/agents/?weeks=2",
    "/manage/agents/?weeks=2&format=csv",
    "/manage/handoffs/",
    "/manage/handoffs.csv",
    "/search/?q=Ada",
]


@pytest.fixture
def manager():
    return make_manager(CaseFactory().team)


@pytest.mark.parametrize("path", PAGES)
def test_the_managers_pages_search_and_exports_read_the_replica(manager, path, monkeypatch):
    answered: list[str | None] = []
    ask = ReplicaRouter.db_for_read

    def db_for_read(self, model, **hints):
        answered.append(ask(self, model, **hints))
        return answered[-1]

    monkeypatch.setattr(ReplicaRouter, "db_for_read", db_for_read)
    client = Client()
    client.force_login(manager)
    with replica(broken=False):
        response = client.get(path)
        assert response.status_code == 200
        b"".join(response.streaming_content) if response.streaming else response.content
    # every read of the page (its rows streamed after the view returned included) asked
    # the replica; the session and the signed-in user come from the primary first
    assert answered and answered[-1] == REPLICA
    assert answered.count(REPLICA) >= 2


def test_a_page_read_from_the_replica_says_how_far_behind_it_is(manager):
    client = Client()
    client.force_login(manager)
    with replica(broken=False):
        html = client.get("/manage/?weeks=2").content.decode()
    assert 'id="replica-lag"' in html
    # without a replica nothing is said, and the primary is read
    assert 'id="replica-lag"' not in client.get("/manage/?weeks=2").content.decode()
    assert replica_alias() == "default"


def test_a_read_inside_a_transaction_opened_in_the_block_goes_to_the_primary():
    with replica(broken=False), reading_replica():
        assert router.db_for_read(Case) == REPLICA
        with transaction.atomic():
            assert router.db_for_read(Case) == "default"
        assert router.db_for_write(Case) == "default"
    assert router.db_for_read(Case) == "default"


def test_every_write_service_reads_the_primary_even_inside_a_replica_block():
    case = CaseFactory()
    owner = case.owner
    manager = make_manager(case.team)
    receiver = make_agent(case.team)
    with replica(broken=True), reading_replica():
        promise = commitment_create(
            case=case, by=owner, description="Call back", kind="callback", due="2 days"
        )
        commitment_mark_kept(commitment=promise, by=owner)
        offered = handoff_offer(
            case=case, by=owner, to=receiver, summary=good_summary(), reason="shift_end"
        )
        handoff = handoff_accept(handoff=offered, by=receiver)
        rubric = HandoffRubric(
            context_complete=4, next_step_clear=4, commitments_carried=4, customer_informed=4
        )
        handoff_review(handoff=handoff, by=manager, rubric=rubric)
    case.refresh_from_db()
    promise.refresh_from_db()
    assert case.owner_id == receiver.pk
    assert promise.status == "kept"
    assert timezone.now() - handoff.decided_at < timedelta(minutes=1)
