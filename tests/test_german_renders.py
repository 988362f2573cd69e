"""A German customer reads German: every customer email (subject, text and HTML), the calendar
entry, and the customer's page (the owner away or not, after a hand-off) carry no English the
product wrote. What people wrote (subjects, promises' words, reasons, names) is theirs and is
taken out before reading; what is left must come from the catalogue."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from cases.availability.services import absence_record
from cases.customers.links import make_customer_token
from cases.customers.services import CustomerChanges, customer_update
from cases.models import AgentProfile, Case, Channel
from commitments.handlers import FIRST_REPLY_WORDS, first_reply_description
from notifications.models import Notification
from notifications.rendering import context_refresh, render_email
from tests.test_customer_notices_read_right import build_world

pytestmark = pytest.mark.django_db

# Words of English the product's own sentences use, none of them German words too.
ENGLISH = re.compile(
    r"\b(the|your|you|and|with|to|of|is|are|has|have|please|reply|case|hours|from|by|on|"
    r"until|who|what|promised|contact|changes|role|phone|email|today|dear|regards|thank|"
    r"times|shown|time|zone|page|looks|after|open|resolved|closed|waiting|away|owns|"
    r"answers|acknowledge|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b",
    re.IGNORECASE,
)
# The words people wrote in this world (build_world), and the agents' own hours as typed.
WRITTEN = [
    "The kettle leaks",
    "Parts are late.",
    "You collected it in store.",
    "Team Manager",
]

# The product's own promise, in English: never to be taken for what a person wrote.
PRODUCT_PROMISES = {first_reply_description(c, "en") for c in FIRST_REPLY_WORDS}


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def english_left(text: str, *, written: list[str]) -> list[str]:
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\s+", " ", text)
    for value in sorted({w for w in written if len(w) > 1}, key=len, reverse=True):
        text = text.replace(re.sub(r"\s+", " ", value), " ")
    text = re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+", " ", text)
    return sorted({m.group(0) for m in ENGLISH.finditer(text)})


def people_wrote(case_ids: list[int]) -> list[str]:
    """Names, job titles and subjects as people typed them."""
    written = list(WRITTEN)
    for profile in AgentProfile.objects.all():
        written += [profile.display_name, profile.job_title]
    for case in Case.objects.filter(pk__in=case_ids).select_related("customer"):
        written += [case.ref, case.subject, case.customer.full_name]
    return written


@pytest.fixture
def german_day(time_machine, settings):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    world = build_world(time_machine, language="de", with_manager=True, customer_kind="title")
    AgentProfile.objects.update(working_hours="Mon–Fri 08:00–16:00 (London)")
    # the old address is told of a new one, and of none
    customer = world["case"].customer
    for address in ("neu@example.org", ""):
        customer_update(
            customer=customer, by=world["jonas"], changes=CustomerChanges(email=address)
        )
    customer_update(
        customer=customer, by=world["jonas"], changes=CustomerChanges(email="customer@example.org")
    )
    return world


def test_no_german_customer_email_carries_english_the_product_wrote(german_day):
    case_ids = list(Case.objects.values_list("pk", flat=True))
    report = []
    templates = set()
    for n in Notification.objects.filter(recipient_kind="customer").order_by("pk"):
        templates.add(n.template)
        context = context_refresh(n.context)
        mail = render_email(template=n.template, context=context, recipient_name=n.recipient_name)
        # what people wrote (a reply, reasons, a hand-off's brief, promises' words); not the
        # words of the product's own first-reply promise, which must be German
        written = people_wrote(case_ids) + [
            s for s in _strings(context) if s not in PRODUCT_PROMISES
        ]
        for part, text in (("subject", mail.subject), ("text", mail.text), ("html", mail.html)):
            if left := english_left(text or "", written=written):
                report.append(f"{n.template} {part}: {left}")
        for attachment in n.attachments:
            event = icalendar.Calendar.from_ical(attachment["content"]).walk("VEVENT")[0]
            for field in ("SUMMARY", "DESCRIPTION"):
                if left := english_left(str(event[field]), written=written):
                    report.append(f"{n.template} .ics {field}: {left}")
    assert "cases/email/address_changed" in templates
    assert not report, "\n".join(report)


def test_the_first_reply_is_promised_in_the_customers_words():
    assert first_reply_description(Channel.EMAIL, "de") != first_reply_description(
        Channel.EMAIL, "en"
    )
    assert "reply" not in first_reply_description(Channel.EMAIL, "de").lower()


@pytest.mark.parametrize("away", [False, True], ids=["owner", "owner-away"])
def test_the_german_customer_page_carries_no_english_the_product_wrote(
    german_day, away, time_machine
):
    case = german_day["case"]
    case.refresh_from_db()
    if away:
        owner = case.owner
        team_manager = case.team.managers.first()
        now = timezone.now()
        absence_record(agent=owner, by=team_manager, starts_at=now + timedelta(minutes=1),
                       ends_at=now + timedelta(days=3))  # fmt: skip
        AgentProfile.objects.filter(user=owner).update(backup_agent=german_day["owner"])
        time_machine.move_to(now + timedelta(minutes=5), tick=False)
    token = make_customer_token(case_id=case.pk, generation=case.link_generation)
    response = Client().get(f"/c/{token}/")
    assert response.status_code == 200
    page = response.content.decode()
    body = page.split("<body", 1)[1].split(">", 1)[1]
    written = people_wrote([case.pk]) + list(case.commitments.values_list("description", flat=True))
    # the English promises of this world are the agent's words for the customer
    left = english_left(body, written=written)
    assert not left, left
    assert '<html lang="de"' in page
    assert ("abwesend" in page) == away
