"""While the owner is away, customer notices promise for the cover (or for the owner's
return, said plainly) and give the cover's contacts only: never the away owner's direct
email or phone, never "I will call you" on a day the owner is still away."""

from __future__ import annotations

import time_machine

from cases.availability.services import absence_record
from commitments.services import commitment_renegotiate
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from notifications.transports import EmailTransport
from tests.commitments.conftest import london, notices, promise
from tests.factories import make_agent

MONDAY = london(2026, 3, 16, 10)
DUE = london(2026, 3, 17, 12)  # Tuesday noon, the first day of the absence
AWAY_FROM = london(2026, 3, 17, 0)


def _team_of_two(team, agent):
    backup = make_agent(team, display_name="Ben Ortiz", direct_phone="+44 20 7946 0001")
    profile = agent.agent_profile
    profile.display_name = "Ana Ruiz"
    profile.direct_phone = "+44 20 7946 0999"
    profile.backup_agent = backup
    profile.save()
    return backup


def _sent(notification: Notification) -> tuple[str, str]:
    """The email as the transport builds it at send time: (text, html)."""
    message = EmailTransport().build(notification)
    return message.body, message.alternatives[0][0]


def _apology() -> Notification:
    return notices("missed").get(context__description="Call you back about the refund")


def _owners_contacts(agent) -> list[str]:
    return [agent.agent_profile.direct_email, agent.email, "+44 20 7946 0999"]


def test_an_apology_during_an_absence_promises_the_covers_call(team, agent, open_case):
    backup = _team_of_two(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=DUE)
        # away until Friday evening: the recovery call (one business day on) falls on Wednesday
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=london(2026, 3, 20, 18))
    with time_machine.travel(london(2026, 3, 17, 12, 5), tick=False):
        commitments_sweep_due()
        text, html = _sent(_apology())
    # the cover signs the apology, so the cover's call is "I will"
    assert "Ben Ortiz, covering for Ana Ruiz" in text
    assert "I will contact you personally by Wednesday 18 March" in text
    assert "I will contact you personally by" in html
    assert "Ana Ruiz will contact you" not in text + html
    # the return, said plainly: the owner's first working hour after the absence
    assert "Ana Ruiz is away until Monday 23 March 2026" in text
    assert "+44 20 7946 0001" in text and "+44 20 7946 0001" in html  # the cover's phone
    for contact in _owners_contacts(agent):
        assert contact not in text and contact not in html
    assert "my direct contact details are below" not in text
    assert backup.agent_profile.direct_email in text


def test_a_call_due_after_the_owners_return_is_the_owners_with_the_return_date(
    team, agent, open_case
):
    _team_of_two(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=DUE)
        # back on Wednesday morning: the call on Wednesday afternoon is theirs again
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=london(2026, 3, 18, 9))
    with time_machine.travel(london(2026, 3, 17, 12, 5), tick=False):
        commitments_sweep_due()
        text, html = _sent(_apology())
    assert "Ana Ruiz is away until Wednesday 18 March 2026" in text
    # the cover signs, the owner calls: the call is named as the owner's
    assert "Ana Ruiz will contact you personally by Wednesday 18 March" in text
    assert "Ana Ruiz will contact you personally by" in html
    assert "I will contact you personally" not in text + html
    for contact in _owners_contacts(agent):
        assert contact not in text and contact not in html


def test_every_notice_during_the_absence_gives_the_covers_contacts_only(team, agent, open_case):
    _team_of_two(team, agent)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        callback = promise(case, agent, due=london(2026, 3, 27, 12))
        absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=london(2026, 3, 20, 18))
    with time_machine.travel(london(2026, 3, 18, 10), tick=False):
        later = commitment_renegotiate(
            commitment=callback, by=agent, due=london(2026, 3, 30, 12), reason="Parts are late."
        )
        text, html = _sent(notices("renegotiated").get())
    assert "Ben Ortiz" in text and "+44 20 7946 0001" in text
    assert "contact Ben Ortiz directly" in text and "contact me directly" not in text + html
    for contact in _owners_contacts(agent):
        assert contact not in text and contact not in html
    with time_machine.travel(london(2026, 3, 23, 10), tick=False):  # back: the owner again
        commitment_renegotiate(
            commitment=later, by=agent, due=london(2026, 3, 31, 12), reason="Still late."
        )
        text, _ = _sent(notices("renegotiated").order_by("-pk").first())
    assert "Ben Ortiz" not in text and "+44 20 7946 0999" in text
