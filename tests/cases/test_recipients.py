"""How people are named and reached: one rule for pages, emails and the API."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from cases.recipients import display_name, owner_contact
from tests.factories import UserFactory, make_agent

pytestmark = pytest.mark.django_db


def test_an_agent_is_named_by_their_profile():
    assert display_name(make_agent(display_name="Priya Shah")) == "Priya Shah"


def test_a_blank_display_name_falls_back_to_the_full_name_then_the_username():
    agent = make_agent(display_name="", user__first_name="Ada", user__last_name="Okafor")
    assert display_name(agent) == "Ada Okafor"
    assert display_name(UserFactory(username="sam", first_name="", last_name="")) == "sam"


def test_the_person_filter_names_people_the_same_way():
    agent = make_agent(display_name="", user__first_name="Ada", user__last_name="Okafor")
    html = Template("{% load case_pages %}{{ a|person }}|{{ nobody|person }}").render(
        Context({"a": agent, "nobody": None})
    )
    assert html == "Ada Okafor|"


def test_the_contact_card_shows_the_direct_details_and_nothing_else():
    agent = make_agent(
        display_name="Priya Shah",
        job_title="Billing Specialist",
        direct_email="priya@direct.example.com",
        direct_phone="+44 20 7946 0101",
        working_hours="Mon–Fri 09:00–17:00",
    )
    assert owner_contact(agent) == {
        "name": "Priya Shah",
        "job_title": "Billing Specialist",
        "email": "priya@direct.example.com",
        "phone": "+44 20 7946 0101",
        "working_hours": "Mon–Fri 09:00–17:00",
    }


def test_without_a_direct_email_the_card_shows_the_accounts_email():
    agent = make_agent(direct_email="")
    assert owner_contact(agent)["email"] == agent.email
