"""The staff pages speak the agent's language: the one chosen on the availability page, else
the browser's Accept-Language, else English. The customer's page and the API keep theirs."""

from __future__ import annotations

import pytest
from django.test import Client

from caseowner.errors import RuleError
from cases.availability.services import agent_language_set
from cases.models import AgentProfile, StaffLanguage
from tests.factories import TeamFactory, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return make_agent(TeamFactory())


def _page(agent, **headers) -> str:
    client = Client(headers=headers)
    client.force_login(agent)
    response = client.get("/me/availability/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_choice_wins_over_accept_language(agent):
    agent_language_set(agent=agent, by=agent, language=StaffLanguage.GERMAN)
    page = _page(agent, accept_language="en-GB,en;q=0.9")
    assert "Meine Verfügbarkeit" in page
    assert '<html lang="de"' in page


def test_accept_language_decides_for_an_agent_with_no_choice(agent):
    page = _page(agent, accept_language="de-DE,de;q=0.9,en;q=0.5")
    assert "Meine Verfügbarkeit" in page


def test_an_english_agent_reads_english_whatever_the_browser_says(agent):
    agent_language_set(agent=agent, by=agent, language=StaffLanguage.ENGLISH)
    page = _page(agent, accept_language="de-DE,de;q=0.9")
    assert "My availability" in page
    assert "Verfügbarkeit" not in page


def test_no_choice_and_no_header_is_english(agent):
    assert "My availability" in _page(agent)


def test_the_agent_chooses_on_the_availability_page_and_the_next_page_follows(agent):
    client = Client()
    client.force_login(agent)
    response = client.post("/me/availability/", {"action": "language", "language": "de"})
    assert response.status_code == 302
    assert AgentProfile.objects.get(user=agent).language == "de"
    assert "Meine Warteschlange" in client.get("/queue/").content.decode()
    client.post("/me/availability/", {"action": "language", "language": ""})
    assert AgentProfile.objects.get(user=agent).language == ""


def test_only_the_agent_chooses_their_language_and_only_a_known_one(agent):
    colleague = make_agent(TeamFactory())
    with pytest.raises(RuleError) as refused:
        agent_language_set(agent=agent, by=colleague, language="de")
    assert refused.value.code == "not_your_profile"
    with pytest.raises(RuleError) as unknown:
        agent_language_set(agent=agent, by=agent, language="fr")
    assert unknown.value.code == "invalid_language"
    assert AgentProfile.objects.get(user=agent).language == ""


def test_the_api_keeps_english_for_a_german_agent(agent):
    agent_language_set(agent=agent, by=agent, language=StaffLanguage.GERMAN)
    client = Client(headers={"accept-language": "de"})
    client.force_login(agent)
    response = client.get("/api/v1/cases/not-a-ref/")
    assert response.status_code == 404
    assert response.headers.get("Content-Language") is None
