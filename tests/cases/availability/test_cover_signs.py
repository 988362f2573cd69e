"""While the owner is away the cover writes the customer's emails, signs them and sends them
("Ben Ortiz, covering for Ana Ruiz" in the text, the HTML part and the From), in the customer's
language; the
cover block names the owner and their return. Once the owner is back, the owner signs again."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.utils import parseaddr

import time_machine
from django.conf import settings

from cases.availability.services import absence_record
from cases.conversations.services import contact_reply_send
from commitments.services import commitment_renegotiate
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from notifications.transports import EmailTransport
from tests.commitments.conftest import london, notices, promise
from tests.factories import CustomerFactory, make_agent

MONDAY = london(2026, 3, 16, 10)
AWAY_FROM = london(2026, 3, 17, 0)
AWAY_UNTIL = london(2026, 3, 20, 18)  # back on Monday 23 March


def _away_with_cover(team, agent):
    backup = make_agent(team, display_name="Ben Ortiz", direct_phone="+44 20 7946 0001")
    profile = agent.agent_profile
    profile.display_name = "Ana Ruiz"
    profile.backup_agent = backup
    profile.save()
    absence_record(agent=agent, by=agent, starts_at=AWAY_FROM, ends_at=AWAY_UNTIL)
    return backup


def _sent(notification: Notification) -> tuple[str, str]:
    """The email as the transport builds it at send time: (text, html)."""
    message = EmailTransport().build(notification)
    return message.body, message.alternatives[0][0]


def _sender(notification: Notification) -> str:
    """The display name of the email's From, as sent."""
    name = parseaddr(EmailTransport().build(notification).from_email)[0]
    return str(make_header(decode_header(name)))


def test_an_apology_during_the_absence_is_signed_by_the_cover_for_the_owner(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=london(2026, 3, 17, 12))
        _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 17, 12, 5), tick=False):
        commitments_sweep_due()
        apology = notices("missed").get(context__description__startswith="Call")
        text, html = _sent(apology)
        sender = _sender(apology)
    assert sender == f"Ben Ortiz, covering for Ana Ruiz via {settings.ORGANISATION_NAME}"
    assert "Kind regards,\nBen Ortiz, covering for Ana Ruiz" in text
    assert "<strong>Ben Ortiz, covering for Ana Ruiz</strong>" in html
    assert "Ana Ruiz is away until Monday 23 March 2026" in text
    assert "Until then I am looking after your case:" in text
    assert "Ana Ruiz is away until Monday 23 March 2026" in html
    assert "I am away" not in text + html  # the away owner is not the one writing
    assert "Kind regards,\nAna Ruiz" not in text


def test_the_covers_apology_says_the_owner_is_responsible_and_the_cover_looks_after_it(
    team, agent, open_case
):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        promise(case, agent, due=london(2026, 3, 17, 12))
        _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 17, 12, 5), tick=False):
        commitments_sweep_due()
        text, html = _sent(notices("missed").get(context__description__startswith="Call"))
    said = (
        "Ana Ruiz is responsible for your case and answerable for it; "
        "I am looking after it in the meantime."
    )
    assert said in text
    assert said in html
    assert "I am responsible" not in text + html  # the cover signs: it is not theirs


def test_a_german_customer_reads_whose_case_it_is_in_the_covers_apology(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case(customer=CustomerFactory(language="de", time_zone="Europe/Berlin"))
        promise(case, agent, due=london(2026, 3, 17, 12))
        _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 17, 12, 5), tick=False):
        commitments_sweep_due()
        text, html = _sent(notices("missed").get(context__description__startswith="Call"))
    said = (
        "Ana Ruiz ist für Ihr Anliegen verantwortlich und steht dafür ein; "
        "in der Zwischenzeit kümmere ich mich darum."
    )
    assert said in text
    assert said in html
    assert "Ich bin für Ihr Anliegen verantwortlich" not in text + html


def test_a_german_customer_reads_the_cover_signing_in_german(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case(customer=CustomerFactory(language="de", time_zone="Europe/Berlin"))
        callback = promise(case, agent, due=london(2026, 3, 27, 12))
        _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 18, 10), tick=False):
        commitment_renegotiate(
            commitment=callback, by=agent, due=london(2026, 3, 30, 12), reason="Teile fehlen."
        )
        text, html = _sent(notices("renegotiated").get())
        sender = _sender(notices("renegotiated").get())
    assert sender.startswith("Ben Ortiz, in Vertretung für Ana Ruiz")
    assert "Ben Ortiz, in Vertretung für Ana Ruiz" in text
    assert "Ben Ortiz, in Vertretung für Ana Ruiz" in html
    assert "Bis dahin kümmere ich mich um Ihr Anliegen:" in text
    assert "covering for" not in text + html


def test_the_owner_signs_again_once_back(team, agent, open_case):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        callback = promise(case, agent, due=london(2026, 3, 27, 12))
        _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 23, 10), tick=False):
        commitment_renegotiate(
            commitment=callback, by=agent, due=london(2026, 3, 30, 12), reason="Parts are late."
        )
        text, html = _sent(notices("renegotiated").get())
        sender = _sender(notices("renegotiated").get())
    assert "covering" not in sender
    assert "Kind regards,\nAna Ruiz" in text
    assert "covering for" not in text + html and "Ben Ortiz" not in text


def test_the_covers_reply_is_signed_for_the_owner_and_anyone_elses_with_their_own_name(
    team, agent, manager, open_case
):
    with time_machine.travel(MONDAY, tick=False):
        case = open_case()
        backup = _away_with_cover(team, agent)
    with time_machine.travel(london(2026, 3, 18, 10), tick=False):
        contact_reply_send(case=case, by=backup, body="Dear Ms Lee,\n\nDone.\n\nBen")
        contact_reply_send(case=case, by=manager, body="Hello again.")
        by_cover, by_manager = Notification.objects.filter(template="cases/email/reply").order_by(
            "pk"
        )
        cover_text, cover_html = _sent(by_cover)
        other_text, _ = _sent(by_manager)
    assert "Ben Ortiz, covering for Ana Ruiz" in cover_text
    assert "Ben Ortiz, covering for Ana Ruiz" in cover_html
    assert "Ana Ruiz is away until Monday 23 March 2026" in cover_text
    assert "covering for" not in other_text and "is away" not in other_text
