"""The manager's "cover for" page: drafts per case, receivers present now, one submission
through ``cover_for`` (all or nothing, the gate's refusal shown on its case)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.availability.services import agent_set_away
from cases.models import Handoff
from tests.commitments.conftest import london, promise
from tests.factories import TeamFactory, make_agent, make_manager

MONDAY = london(2026, 3, 16, 10)


@pytest.fixture
def away(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        cases = [open_case(subject=f"Kettle {n}") for n in range(3)]
        promise(cases[0], agent, due="1 business day")
        agent_set_away(agent=agent, by=agent, away=True)
    return cases


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(agent) -> str:
    return f"/manage/agents/{agent.pk}/cover-for/"


def _body(cases, receivers, *, skip_next_step_of=None) -> dict:
    body: dict = {"receivers": [r.pk for r in receivers], "case": [c.pk for c in cases]}
    for case in cases:
        body[f"c{case.pk}-customer_needs"] = (
            f"Customer of case {case.pk} needs the leaking kettle replaced under warranty."
        )
        body[f"c{case.pk}-actions_taken"] = (
            "Checked the order history and the warranty dates with the supplier."
        )
        body[f"c{case.pk}-customer_expectations"] = (
            "Expects a replacement this week, as the first reply promised by email."
        )
        if case != skip_next_step_of:
            body[f"c{case.pk}-next_step"] = (
                f"Call about case {case.pk} before noon tomorrow and confirm the courier slot."
            )
        body[f"c{case.pk}-briefed"] = [p.pk for p in case.commitments.filter(status="open")]
    return body


def test_the_page_shows_each_case_with_its_draft_and_the_present_receivers(
    team, agent, manager, away
):
    make_agent(team, display_name="Ben Present")
    gone = make_agent(team, display_name="Gil Gone")
    with time_machine.travel(MONDAY, tick=False):
        agent_set_away(agent=gone, by=gone, away=True)
        response = _client(manager).get(_url(agent))
    assert response.status_code == 200
    text = response.content.decode()
    for case in away:
        assert case.ref in text
    first_promise = away[0].commitments.filter(kind="callback").get()
    assert f"#{first_promise.pk}" in text  # the draft names the open promise
    assert "Ben Present" in text and "Gil Gone" not in text


def test_the_page_reads_the_same_queries_however_many_cases(team, agent, manager, away, open_case):
    make_agent(team)
    client = _client(manager)
    with time_machine.travel(MONDAY, tick=False):
        with CaptureQueriesContext(connection) as few:
            client.get(_url(agent))
        for _ in range(5):
            open_case()
        with CaptureQueriesContext(connection) as many:
            assert client.get(_url(agent)).content.decode().count('name="case"') == 8
    assert len(many) == len(few)


def test_one_submission_offers_every_case(team, agent, manager, away):
    ben, cat = make_agent(team), make_agent(team)
    with time_machine.travel(MONDAY, tick=False):
        response = _client(manager).post(_url(agent), _body(away, [ben, cat]), follow=True)
    assert response.status_code == 200
    assert "3 case(s) offered" in response.content.decode()
    handoffs = Handoff.objects.filter(case__in=away, status="offered")
    assert handoffs.count() == 3
    assert {h.to_agent_id for h in handoffs} == {ben.pk, cat.pk}
    assert all(h.reason == "manager_reassignment" for h in handoffs)


def test_the_page_reads_at_most_eight_queries_offers_waiting_included(
    team, agent, manager, away, open_case
):
    # session, user, agent, teams (the agent's, the reader's, which they manage), the cases
    # with their waiting offers, the promises, the latest timeline entries, the receivers
    ben = make_agent(team, display_name="Ben Receiver")
    client = _client(manager)
    with time_machine.travel(MONDAY, tick=False):
        client.post(_url(agent), _body(away, [ben]))
        assert Handoff.objects.filter(status="offered").count() == 3
        open_case(subject="Kettle, a new one")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(_url(agent))
    assert response.status_code == 200
    assert len(queries) <= 8, [q["sql"][:120] for q in queries]
    text = response.content.decode()
    waiting = text.split('id="waiting-h"', 1)[1]
    assert waiting.count("to Ben Receiver") == 3 and away[0].ref in waiting
    assert text.count('name="case"') == 1  # only the case not offered is left to cover


def test_a_case_picked_for_one_receiver_goes_to_them(team, agent, manager, away):
    ben, cat = make_agent(team), make_agent(team)
    body = _body(away, [ben])
    body[f"c{away[2].pk}-to_agent"] = cat.pk
    with time_machine.travel(MONDAY, tick=False):
        _client(manager).post(_url(agent), body)
    assert Handoff.objects.get(case=away[2]).to_agent_id == cat.pk
    assert Handoff.objects.get(case=away[0]).to_agent_id == ben.pk


def test_a_refused_summary_is_shown_on_its_case_and_nothing_is_offered(team, agent, manager, away):
    ben = make_agent(team)
    with time_machine.travel(MONDAY, tick=False):
        response = _client(manager).post(_url(agent), _body(away, [ben], skip_next_step_of=away[1]))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was offered" in text
    section = text.split(f'id="case-{away[1].pk}"', 1)[1].split("</section>", 1)[0]
    assert "Write the next step" in section
    other = text.split(f'id="case-{away[0].pk}"', 1)[1].split("</section>", 1)[0]
    assert "errorlist" not in other
    # what was typed stays on the page
    assert f"Call about case {away[0].pk} before noon" in text
    assert not Handoff.objects.filter(case__in=away).exists()


def test_a_refused_page_keeps_each_cases_chosen_receiver_and_its_translated_labels(
    team, agent, manager, away
):
    ben, cat = make_agent(team, display_name="Ben Taylor"), make_agent(team, display_name="Cat")
    body = _body(away, [ben], skip_next_step_of=away[1])
    body[f"c{away[2].pk}-to_agent"] = cat.pk
    with time_machine.travel(MONDAY, tick=False):
        response = _client(manager).post(_url(agent), body, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    text = response.content.decode()

    def select(case) -> str:
        return text.split(f'name="c{case.pk}-to_agent">', 1)[1].split("</select>", 1)[0]

    assert f'<option value="{cat.pk}" selected>Cat</option>' in select(away[2])
    assert f'<option value="{ben.pk}">Ben Taylor</option>' in select(away[2])
    for case in away[:2]:
        assert " selected" not in select(case)
        assert f'<option value="{cat.pk}">Cat</option>' in select(case)
    # the fields' labels in the reader's language on every case, not only the first
    for case in away:
        section = text.split(f'id="case-{case.pk}"', 1)[1].split("</section>", 1)[0]
        assert "Was der Kunde braucht" in section


def test_the_agent_gets_403_and_another_teams_manager_404(team, agent, away):
    assert _client(agent).get(_url(agent)).status_code == 403
    stranger = make_manager(TeamFactory())
    assert _client(stranger).get(_url(agent)).status_code == 404
    assert _client(stranger).post(_url(agent), {}).status_code == 404
    assert not Handoff.objects.exists()


def test_the_agents_report_links_to_the_page(team, agent, manager):
    text = _client(manager).get(f"/manage/agents/?team={team.pk}").content.decode()
    assert _url(agent) in text
