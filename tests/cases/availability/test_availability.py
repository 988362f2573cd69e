"""An agent's availability: working hours (team calendar or their own, in their zone),
absences and the "away now" switch, across DST and midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.availability.hours import agent_available, agent_away, agent_next_available
from cases.availability.services import absence_end, absence_record, agent_set_away
from cases.errors import CaseRuleError
from tests.commitments.conftest import london
from tests.factories import make_agent

# Clocks go forward in London on Sunday 29 March 2026 and back on Sunday 25 October 2026.


def test_it_follows_the_team_calendar_by_default(agent):
    assert agent_available(agent, london(2026, 3, 24, 10))  # Tuesday 10:00
    assert not agent_available(agent, london(2026, 3, 24, 17))  # the interval's end
    assert not agent_available(agent, london(2026, 3, 28, 10))  # Saturday


def test_next_available_after_friday_crosses_the_clocks_going_forward(agent):
    after = london(2026, 3, 27, 17, 30)
    back = agent_next_available(agent, after)
    assert back == london(2026, 3, 30, 9)
    assert back.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)  # BST


def test_next_available_after_the_clocks_go_back(agent):
    back = agent_next_available(agent, london(2026, 10, 23, 18))
    assert back.astimezone(UTC) == datetime(2026, 10, 26, 9, tzinfo=UTC)  # GMT again


def test_own_hours_in_own_zone_across_midnight(team):
    night = make_agent(team)
    profile = night.agent_profile
    profile.time_zone = "America/New_York"
    # a night shift: Monday 22:00 to Tuesday 06:00, New York time
    profile.weekly_hours = {"0": [["22:00", "24:00"]], "1": [["00:00", "06:00"]]}
    profile.save()

    nyz = ZoneInfo("America/New_York")
    assert agent_available(night, datetime(2026, 3, 16, 23, 59, tzinfo=nyz))
    assert agent_available(night, datetime(2026, 3, 17, 0, 30, tzinfo=nyz))
    assert not agent_available(night, datetime(2026, 3, 17, 6, 0, tzinfo=nyz))
    assert not agent_available(night, datetime(2026, 3, 16, 10, 0, tzinfo=nyz))
    # Tuesday 06:00 → next Monday 22:00
    assert agent_next_available(night, datetime(2026, 3, 17, 6, 0, tzinfo=nyz)) == datetime(
        2026, 3, 23, 22, 0, tzinfo=nyz
    )
    # New York's clocks go forward on 8 March 2026 (Sunday): Monday night is EDT
    assert agent_next_available(night, datetime(2026, 3, 7, 12, tzinfo=nyz)).astimezone(
        UTC
    ) == datetime(2026, 3, 10, 2, tzinfo=UTC)


def test_an_absence_makes_the_agent_away_and_moves_their_return(agent):
    with time_machine.travel(london(2026, 3, 20, 12), tick=False):
        absence_record(
            agent=agent, by=agent, starts_at=london(2026, 3, 27, 9), ends_at=london(2026, 3, 31, 0)
        )
    assert not agent_available(agent, london(2026, 3, 27, 10))
    assert agent_away(agent, london(2026, 3, 28, 3))
    assert agent_available(agent, london(2026, 3, 26, 10))
    # back on Tuesday 09:00 (BST): Monday is inside the absence
    assert agent_next_available(agent, london(2026, 3, 27, 10)) == london(2026, 3, 31, 9)


def test_an_absence_ended_early_frees_the_agent(agent):
    with time_machine.travel(london(2026, 3, 20, 12), tick=False):
        absence = absence_record(
            agent=agent, by=agent, starts_at=london(2026, 3, 20, 12), ends_at=london(2026, 4, 1)
        ).absence
    with time_machine.travel(london(2026, 3, 23, 11), tick=False):
        absence_end(absence=absence, by=agent)
        assert agent_available(agent, london(2026, 3, 23, 11, 1))


def test_the_away_switch_has_no_known_return(agent):
    with time_machine.travel(london(2026, 3, 24, 10), tick=False):
        agent_set_away(agent=agent, by=agent, away=True, note="Sick")
        assert not agent_available(agent, london(2026, 3, 24, 11))
        assert agent_next_available(agent, london(2026, 3, 24, 11)) is None
        agent_set_away(agent=agent, by=agent, away=False)
        assert agent_available(agent, london(2026, 3, 24, 11))


def test_only_the_agent_or_their_manager_records_an_absence(agent, manager, team):
    stranger = make_agent()
    with time_machine.travel(london(2026, 3, 20, 12), tick=False):
        with pytest.raises(CaseRuleError) as err:
            absence_record(
                agent=agent,
                by=stranger,
                starts_at=london(2026, 3, 23, 9),
                ends_at=london(2026, 3, 24, 9),
            )
        assert err.value.code == "not_agent_or_manager"
        absence_record(
            agent=agent,
            by=manager,
            starts_at=london(2026, 3, 23, 9),
            ends_at=london(2026, 3, 24, 9),
        )


def test_an_absence_ending_before_it_starts_is_refused(agent):
    with time_machine.travel(london(2026, 3, 20, 12), tick=False):
        with pytest.raises(CaseRuleError) as err:
            absence_record(
                agent=agent, by=agent, starts_at=london(2026, 3, 24, 9), ends_at=london(2026, 3, 23)
            )
    assert err.value.code == "invalid_absence"
