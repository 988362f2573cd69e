"""The timeline speaks to people: a hand-off's reason by its label, never its code."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.templatetags.case_pages import reason_label
from tests.factories import offer

pytestmark = pytest.mark.django_db


def test_an_offered_hand_off_shows_its_reason_by_label(world):
    offer(world["case"], to=world["receiver"], reason="shift_end")
    client = Client()
    client.force_login(world["owner"])
    html = client.get(f"/cases/{world['case'].ref}/").content.decode()
    assert "shift_end" not in html
    assert "Shift end" in html


def test_a_persons_own_reason_stays_as_written():
    assert reason_label("expertise") == "Expertise needed"
    assert reason_label("I am off sick tomorrow") == "I am off sick tomorrow"
    assert reason_label("") == ""
