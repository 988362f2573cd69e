"""First response on live channels is measured from the contacts, never promised: no promise,
no apology, and the attainment report per channel against the targets and the team's goal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from cases.conversations.services import NewContact, contact_record
from cases.models import Team
from commitments.models import Commitment, CommitmentStatus
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from reports.errors import ReportRuleError
from reports.first_response import first_response_attainment
from reports.models import TeamSettingsChange
from reports.selectors import Window
from reports.settings_services import TeamSettings, team_settings_update
from tests.commitments.conftest import london
from tests.factories import TeamFactory, make_manager
from tests.reports.test_team_settings import _form as _settings_form

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026 (London), inside the team's working hours.
OPENED = london(2026, 11, 25, 10)
WINDOW = Window.ending(OPENED.date(), 1)


def reply(clock, case, agent, at, channel=None):
    """The agent answers at ``at`` (the clock moves there: a contact is never in the future)."""
    clock.move_to(at, tick=False)
    return contact_record(
        case=case,
        contact=NewContact(
            direction="to_customer",
            channel=channel or case.channel,
            summary="Answered the customer.",
            at=at,
        ),
        by=agent,
    )


def customer_wrote(case, at):
    return contact_record(
        case=case,
        contact=NewContact(
            direction="from_customer", channel=case.channel, summary="Hello?", at=at
        ),
        by=None,
    )


def chat_row(team, now):
    report = first_response_attainment(team=team, window=WINDOW, now=now)
    return {c.channel: c for c in report.channels}


def test_chat_cases_answered_in_40s_and_3_min_are_measured_and_never_apologised_for(
    time_machine, open_case, agent, team, manager
):
    time_machine.move_to(OPENED, tick=False)
    quick, slow = open_case(channel="chat"), open_case(channel="chat")
    assert not Commitment.objects.filter(case__in=[quick, slow]).exists()  # no promise at all
    sent_at_intake = set(Notification.objects.values_list("pk", flat=True))
    time_machine.move_to(OPENED + timedelta(seconds=40), tick=False)
    reply(time_machine, quick, agent, OPENED + timedelta(seconds=40))
    time_machine.move_to(OPENED + timedelta(minutes=3), tick=False)
    reply(time_machine, slow, agent, OPENED + timedelta(minutes=3))
    # a day passes with the sweep running: nothing is due, nobody is told anything
    for hours in (1, 24):
        time_machine.move_to(OPENED + timedelta(hours=hours), tick=False)
        assert commitments_sweep_due() == 0
    new = Notification.objects.exclude(pk__in=sent_at_intake)
    for case in (quick, slow):
        assert not new.filter(recipient_address=case.customer.email).exists()
    assert not Notification.objects.filter(template__startswith="commitments/").exists()
    chat = chat_row(team, OPENED + timedelta(days=1))["chat"]
    assert chat.measure == "service_level"
    assert (chat.cases, chat.answered, chat.answered_within_target) == (2, 2, 1)
    assert (chat.rate, chat.goal, chat.goal_met) == (0.5, 0.8, False)
    assert (chat.median_seconds, chat.p90_seconds) == (110.0, 166.0)
    assert chat.unanswered == 0


def test_email_web_and_social_keep_a_promise_in_words_that_read_right(
    time_machine, open_case, agent, team
):
    time_machine.move_to(OPENED, tick=False)
    words = {}
    for channel in ("email", "web", "social"):
        case = open_case(channel=channel)
        words[channel] = Commitment.objects.get(case=case, kind="first_response").description
    assert words == {
        "email": "A reply to your email",
        "web": "A reply to your web form message",
        "social": "A reply to your social media message",
    }


def test_the_live_threshold_is_the_teams(time_machine, open_case, team):
    team.live_response_threshold_seconds = 30
    team.save()
    time_machine.move_to(OPENED, tick=False)
    case = open_case(channel="chat")
    first = Commitment.objects.get(case=case, kind="first_response")
    assert first.description == "A reply to your chat message"
    assert first.due_at == OPENED + timedelta(seconds=60)
    assert chat_row(team, OPENED)["chat"].measure == "promise"


def test_the_wait_starts_when_the_customer_first_reached_out(time_machine, open_case, agent, team):
    time_machine.move_to(OPENED, tick=False)
    case = open_case(channel="phone")
    customer_wrote(case, OPENED - timedelta(seconds=50))  # the call rang before the case
    reply(time_machine, case, agent, OPENED + timedelta(seconds=20))
    phone = chat_row(team, OPENED)["phone"]
    assert phone.seconds == [70.0]
    assert phone.answered_within_target == 0


def test_unanswered_cases_count_against_the_rate_once_past_target(
    time_machine, open_case, agent, team
):
    time_machine.move_to(OPENED, tick=False)
    answered, forgotten = open_case(channel="chat"), open_case(channel="chat")
    reply(time_machine, answered, agent, OPENED + timedelta(seconds=30))
    del forgotten
    inside = chat_row(team, OPENED + timedelta(seconds=59))["chat"]
    assert (inside.unanswered, inside.waiting, inside.rate) == (1, 1, 1.0)
    past = chat_row(team, OPENED + timedelta(minutes=5))["chat"]
    assert (past.unanswered, past.waiting, past.rate) == (1, 0, 0.5)


def test_business_time_where_the_team_chooses_it(time_machine, open_case, agent, team):
    friday_evening = london(2026, 11, 27, 16, 59) + timedelta(seconds=30)
    monday = london(2026, 11, 30, 9) + timedelta(seconds=20)
    time_machine.move_to(friday_evening, tick=False)
    case = open_case(channel="chat")
    time_machine.move_to(monday, tick=False)
    reply(time_machine, case, agent, monday)
    window = Window.ending(monday.date(), 2)
    clock = first_response_attainment(team=team, window=window, now=monday).channels[0]
    assert clock.answered_within_target == 0
    team.first_response_business_time = True
    team.save()
    team = Team.objects.select_related("calendar").get(pk=team.pk)
    business = first_response_attainment(team=team, window=window, now=monday)
    assert business.business_time is True
    assert business.channels[0].seconds == [50.0]
    assert business.channels[0].answered_within_target == 1


def test_the_goal_is_the_teams(time_machine, open_case, agent, team):
    team.first_response_goal_percent = 50
    team.save()
    time_machine.move_to(OPENED, tick=False)
    quick, slow = open_case(channel="chat"), open_case(channel="chat")
    reply(time_machine, quick, agent, OPENED + timedelta(seconds=40))
    reply(time_machine, slow, agent, OPENED + timedelta(minutes=3))
    chat = chat_row(team, OPENED + timedelta(hours=1))["chat"]
    assert (chat.goal, chat.goal_met) == (0.5, True)


def test_the_first_reply_keeps_the_email_promise_and_both_measures_agree(
    time_machine, open_case, agent, team
):
    time_machine.move_to(OPENED, tick=False)
    case = open_case(channel="email")
    reply(time_machine, case, agent, OPENED + timedelta(hours=2))
    first = Commitment.objects.get(case=case, kind="first_response")
    assert first.status == CommitmentStatus.KEPT
    email = chat_row(team, OPENED + timedelta(hours=3))["email"]
    assert (email.measure, email.answered_within_target, email.rate) == ("promise", 1, 1.0)


@pytest.mark.parametrize("cases", [1, 6])
def test_the_selector_takes_a_fixed_number_of_queries(
    time_machine, open_case, agent, team, cases, django_assert_max_num_queries
):
    time_machine.move_to(OPENED, tick=False)
    for _ in range(cases):
        reply(time_machine, open_case(channel="chat"), agent, OPENED + timedelta(seconds=30))
    team.first_response_business_time = True
    team.save()
    team = Team.objects.select_related("calendar").get(pk=team.pk)
    with django_assert_max_num_queries(2):  # the cases with their contacts; closed days
        report = first_response_attainment(team=team, window=WINDOW, now=OPENED)
    assert report.channels[0].cases == cases


def _api(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"authorization": f"Token {token.key}"})


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_summary_api_carries_the_attainment(
    time_machine, open_case, agent, team, manager, django_assert_max_num_queries
):
    time_machine.move_to(OPENED, tick=False)
    quick, slow = open_case(channel="chat"), open_case(channel="chat")
    reply(time_machine, quick, agent, OPENED + timedelta(seconds=40))
    reply(time_machine, slow, agent, OPENED + timedelta(minutes=3))
    time_machine.move_to(OPENED + timedelta(hours=1), tick=False)
    client = _api(manager)
    url = f"/api/v1/reports/teams/{team.pk}/summary/?weeks=1&to={OPENED.date().isoformat()}"
    with django_assert_max_num_queries(8):
        body = client.get(url).json()
    attainment = body["first_response_attainment"]
    assert (attainment["time"], attainment["goal"]) == ("clock", 0.8)
    [chat] = attainment["channels"]
    assert chat == {
        "channel": "chat",
        "measure": "service_level",
        "time": "clock",
        "target_seconds": 60,
        "cases": 2,
        "answered": 2,
        "answered_within_target": 1,
        "unanswered": 0,
        "waiting": 0,
        "rate": 0.5,
        "goal": 0.8,
        "goal_met": False,
        "median_seconds": 110.0,
        "p90_seconds": 166.0,
    }


def test_the_page_shows_the_table_to_the_teams_manager_only(
    time_machine, open_case, agent, team, manager, django_assert_max_num_queries
):
    time_machine.move_to(OPENED, tick=False)
    reply(time_machine, open_case(channel="chat"), agent, OPENED + timedelta(seconds=40))
    url = f"/manage/first-response/?team={team.pk}&weeks=1&to={OPENED.date().isoformat()}"
    client = _page(manager)
    with django_assert_max_num_queries(8):
        html = client.get(url).content.decode()
    assert 'data-label="Channel">Chat</th>' in html
    assert "service level" in html
    assert 'data-label="Rate">100%' in html
    assert _page(agent).get(url).status_code == 403
    other_manager = make_manager(TeamFactory())  # another team's manager: hidden (404)
    assert _page(other_manager).get(url).status_code == 404


# --- the team's settings ---------------------------------------------------------------------


def test_the_settings_service_changes_and_records_the_first_response_measure(team, manager):
    change = team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(
            live_response_threshold_seconds=600,
            first_response_business_time=True,
            first_response_goal_percent=90,
        ),
    )
    team.refresh_from_db()
    assert (
        team.live_response_threshold_seconds,
        team.first_response_business_time,
        team.first_response_goal_percent,
    ) == (600, True, 90)
    assert change is not None
    assert change.before == {
        "live_response_threshold_seconds": 900,
        "first_response_business_time": False,
        "first_response_goal_percent": 80,
    }
    assert change.after["first_response_goal_percent"] == 90


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (TeamSettings(live_response_threshold_seconds=0), "live_response_threshold_seconds"),
        (
            TeamSettings(live_response_threshold_seconds=2 * 86400),
            "live_response_threshold_seconds",
        ),
        (TeamSettings(first_response_goal_percent=0), "first_response_goal_percent"),
        (TeamSettings(first_response_goal_percent=101), "first_response_goal_percent"),
    ],
)
def test_bad_first_response_settings_are_refused(team, manager, changes, field):
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(team=team, by=manager, changes=changes)
    assert field in caught.value.fields
    assert not TeamSettingsChange.objects.exists()


def test_the_settings_page_edits_the_measure_and_shows_it_in_the_history(team, manager):
    client = _page(manager)
    url = f"/manage/settings/?team={team.pk}"
    response = client.post(
        url,
        _settings_form(
            live_response_threshold="5",
            first_response_goal_percent="85",
            first_response_business_time="on",
        ),
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (
        team.live_response_threshold_seconds,
        team.first_response_business_time,
        team.first_response_goal_percent,
    ) == (300, True, 85)
    html = client.get(url).content.decode()
    assert "Live channels: targets under" in html and "5 min" in html
    assert "85 %" in html
