"""Everything the customer receives reads right: every customer-facing email, made by the real
services, for every channel and promise kind, a team with and without a manager, a customer
with a title and family name, with their own form of address and with neither, in English and
German. Each message is read for phrasings known to be wrong, for a second date format, and
for any block said twice."""

from __future__ import annotations

import os
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils.html import strip_tags

from cases.conversations.services import contact_reply_send
from cases.handoffs.services import handoff_accept
from cases.models import Channel
from cases.services import case_open
from commitments.errors import CommitmentRuleError
from commitments.models import BusinessCalendar, CommitmentKind
from commitments.services import commitment_create, commitment_renegotiate, commitment_withdraw
from commitments.sweep import commitments_sweep_due
from notifications.models import Notification
from notifications.rendering import context_refresh, render_email
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager, offer

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
CUSTOMER_TEMPLATES = {
    "cases/email/case_opened",
    "cases/email/handoff_introduction",
    "cases/email/reply",
    "commitments/email/commitment_made",
    "commitments/email/renegotiated",
    "commitments/email/withdrawn",
    "commitments/email/missed",
}
CUSTOMERS = {
    # a title and the family name they gave (family name first in the whole name)
    "title": {"full_name": "Wang Wei", "given_name": "Wei", "family_name": "Wang", "title": "Mr"},
    # their own form of address
    "addressed": {
        "full_name": "Anna van der Berg",
        "given_name": "Anna",
        "family_name": "van der Berg",
        "title": "Mrs",
        "addressed_as": "Anna",
    },
    # neither: a title without the parts is never used
    "plain": {"full_name": "Sam Okafor", "title": "Mx"},
}
GREETING = {
    ("title", "en"): "Dear Mr Wang,",
    ("title", "de"): "Guten Tag Herr Wang,",
    ("addressed", "en"): "Dear Anna,",
    ("addressed", "de"): "Guten Tag Anna,",
    ("plain", "en"): "Dear Sam Okafor,",
    ("plain", "de"): "Guten Tag Sam Okafor,",
}
# Known-bad phrasings: grammar, a guessed surname, the owner in the third person beside their
# own signature, the organisation's "we" beside the owner's "I".
# (The grammar of the first reply on live channels, "to your in person", is checked apart,
# below: its words are made where a case opens, in ``commitments.handlers``.)
LIVE_CHANNEL_GRAMMAR = ["to your in person", "to your phone", "to your chat"]
KNOWN_BAD = [
    "Mr Wei",
    "Herr Wei",
    "Mrs Berg",
    "Frau Berg",
    "Mx Okafor",
    "Their manager",
    "their manager",
    "contact them",
    "reach them",
    "Dear customer",
    "{{",
    "{%",
]
WE = re.compile(r"\b(we|our|us)\b", re.IGNORECASE)
WIR = re.compile(r"\b(wir|uns|unser\w*)\b", re.IGNORECASE)
WEEKDAYS = {
    "en": "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday",
    "de": "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag",
}
MONTHS = {
    "en": "January|February|March|April|May|June|July|August|September|October|November|December",
    "de": "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember",
}
# The one date format: "Friday 4 December 2026, 12:00 GMT" / "Freitag, 4. Dezember 2026, 12:00 GMT"
ONE_FORMAT = {
    "en": rf"(?:{WEEKDAYS['en']}) [1-9]\d? (?:{MONTHS['en']}) \d{{4}}, \d\d:\d\d [A-Z]{{3,4}}\b",
    "de": rf"(?:{WEEKDAYS['de']}), [1-9]\d?\. (?:{MONTHS['de']}) \d{{4}}, \d\d:\d\d [A-Z]{{3,4}}\b",
}
# What any date-like text looks like, whatever its format
DATE_LIKE = {
    lang: rf"(?:{WEEKDAYS[lang]}|\b\d\d? ?\.? ?(?:{MONTHS[lang]})\b|\(\w+/\w+\)|\d{{4}}-\d\d-\d\d)"
    for lang in ("en", "de")
}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def build_world(
    time_machine, *, language: str, with_manager: bool, customer_kind: str, channels=None
) -> dict:
    """Every customer notice through the services: a case per channel (its first-reply
    promise missed), a promise of every kind (made, then renegotiated, withdrawn or missed),
    a hand-off with its introduction, and a reply."""
    time_machine.move_to(london(2026, 11, 30, 9), tick=False)
    team = TeamFactory(time_zone="Europe/London")
    BusinessCalendar.objects.create(team=team, holiday_country="GB", holiday_subdivision="ENG")
    owner = make_agent(team, display_name="Amelia Hart")
    jonas = make_agent(team, display_name="Jonas Weber")
    if with_manager:
        make_manager(team)
    customer = CustomerFactory(
        email="customer@example.org", time_zone="Europe/London", language=language,
        **CUSTOMERS[customer_kind],
    )  # fmt: skip
    cases = [
        case_open(customer=customer, team=team, channel=c, subject="The kettle leaks", by=owner,
                  owner=owner)
        for c in channels or Channel.values
    ]  # fmt: skip
    case = cases[0]
    promises = []
    for kind in CommitmentKind.values:
        try:
            promises.append(
                commitment_create(
                    case=case,
                    by=owner,
                    description=f"Send the {kind.replace('_', ' ')} details",
                    kind=kind,
                    due="2 business days",
                )
            )
        except CommitmentRuleError:  # a kind only the product makes (the first reply)
            continue
    for i, promise in enumerate(promises):
        if i % 3 == 0:
            commitment_renegotiate(
                commitment=promise, by=owner, due="4 business days", reason="Parts are late."
            )
        elif i % 3 == 1:
            commitment_withdraw(commitment=promise, by=owner, reason="You collected it in store.")
    time_machine.move_to(london(2026, 12, 3, 9), tick=False)
    commitments_sweep_due()  # first replies and the promises left open are missed
    handoff_accept(handoff=offer(case, to=jonas), by=jonas)
    words = {  # the writer's own words, in the customer's language
        "en": "Hello,\n\nThe new kettle left today.\n\nBest wishes,",
        "de": "Guten Tag,\n\nder neue Wasserkocher ist heute verschickt worden.\n\nViele Grüße",
    }
    contact_reply_send(case=case, by=jonas, body=words[language])
    return {"owner": owner, "jonas": jonas, "case": case}


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def problems(mail, *, notification, language: str, with_manager: bool, customer_kind: str):
    """What reads wrong in one rendered email (plain text and HTML, subject included)."""
    found = []
    html = re.sub(r"\s+", " ", strip_tags(mail.html or "")).replace("&quot;", '"')
    for name, text in (("text", f"{mail.subject}\n\n{mail.text}"), ("html", html)):
        found += [f"{name}: known-bad {bad!r}" for bad in KNOWN_BAD if bad in text]
        voice = WE if language == "en" else WIR
        found += [f"{name}: the organisation's voice {m!r}" for m in voice.findall(text)]
        if not with_manager and re.search("manager|Vorgesetzt", text):
            found.append(f"{name}: a manager told, in a team without one")
        other_dates = re.findall(DATE_LIKE[language], re.sub(ONE_FORMAT[language], "", text))
        if other_dates:
            found.append(f"{name}: a date in another format: {other_dates}")
    text = mail.text
    if not notification.template.endswith("/reply"):
        greeting = GREETING[(customer_kind, language)]
        if not text.startswith(greeting):
            found.append(f"greeting {text.splitlines()[0]!r}, not {greeting!r}")
    blocks = [p for p in paragraphs(text) if len(p.splitlines()) >= 2]
    found += [f"block twice: {b!r}" for b in {b for b in blocks if blocks.count(b) > 1}]
    owner = notification.context["owner"]
    for detail in (owner["email"], owner["phone"], notification.context.get("customer_url")):
        if detail and text.count(detail) > 1:
            found.append(f"said twice: {detail!r}")
    if language == "de" and re.search(r"\b(Dear|Kind regards|You were)\b", text):
        found.append("English in a German email")
    # the owner signs; the body never speaks of them in the third person
    name = owner["name"]
    if re.search(rf"{name} (has|owns|will|is answerable)|contact {name}", text):
        found.append(f"the owner in the third person beside their signature: {name}")
    return found


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("with_manager", [True, False], ids=["manager", "no-manager"])
@pytest.mark.parametrize("customer_kind", list(CUSTOMERS))
def test_every_customer_email_reads_right(
    time_machine, settings, language, with_manager, customer_kind
):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100  # every notice at once, for reading
    world = build_world(
        time_machine, language=language, with_manager=with_manager, customer_kind=customer_kind
    )
    templates = Notification.objects.filter(recipient_kind="customer").values_list(
        "template", flat=True
    )
    assert set(templates) == CUSTOMER_TEMPLATES
    kinds_seen = set()
    report = []
    for n, mail in rendered_customer_emails():
        kinds_seen.add(n.context.get("description", ""))
        report += [
            f"{n.template} ({n.dedupe_key}): {p}"
            for p in problems(
                mail,
                notification=n,
                language=language,
                with_manager=with_manager,
                customer_kind=customer_kind,
            )
        ]
        if n.template == "commitments/email/missed":
            told = "My manager has been told." if language == "en" else "Vorgesetzten"
            assert (told in mail.text) == with_manager, mail.text
        # sent now, after the hand-off: every notice of the case names its new owner
        if f"[{world['case'].ref}]" in mail.subject:
            assert "Jonas Weber" in mail.text and "Amelia Hart" not in mail.text.replace(
                "taking over from Amelia Hart", ""
            ).replace("übernehme von Amelia Hart", "")
    if os.environ.get("SHOW_NOTICES"):  # read them as a customer would
        for _n, mail in rendered_customer_emails():
            print(f"\n======== {mail.subject}\n{mail.text}")
    assert not report, "\n".join(report)
    made_by_agents = set(CommitmentKind.values) - {CommitmentKind.FIRST_RESPONSE}
    for kind in made_by_agents & {
        "callback",
        "update",
        "resolution",
        "delivery",
        "refund",
        "other",
    }:
        assert f"Send the {kind.replace('_', ' ')} details" in kinds_seen
    # the product's own first-reply promise, in the customer's language
    first_reply = {"en": "A reply to your", "de": "Eine Antwort auf Ihre"}[language]
    assert any(d.startswith(first_reply) for d in kinds_seen)
    world["case"].refresh_from_db()
    assert world["case"].owner_id == world["jonas"].pk


def rendered_customer_emails():
    for n in Notification.objects.filter(recipient_kind="customer").order_by("pk"):
        yield (
            n,
            render_email(
                template=n.template,
                context=context_refresh(n.context),
                recipient_name=n.recipient_name,
            ),
        )


def test_no_email_promises_a_first_reply_to_your_in_person(time_machine, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language="en", with_manager=True, customer_kind="plain")
    bad = [
        (n.template, phrase)
        for n, mail in rendered_customer_emails()
        for phrase in LIVE_CHANNEL_GRAMMAR
        if phrase in mail.text or phrase in mail.subject
    ]
    assert not bad
