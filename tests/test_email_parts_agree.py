"""The two parts of every email state the same facts: most mail programs show the HTML part,
some the plain text, and a reader must learn the same from either.

Every email template is rendered from contexts the real services queued (the whole day of
``build_world`` and the staff notices around it), in English and German, and in every branch
of its conditionals (each flag of the context flipped; the owner away, with a cover). For each
rendering the plain text and the HTML (tags stripped) must name the same people, dates, links,
addresses, amounts and context values, and say the same words; and whoever the subject names,
the body names too."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from cases.availability.services import absence_record
from cases.customers.services import CustomerChanges, customer_update
from cases.handoffs.services import handoff_cancel, handoff_decline
from cases.handoffs.sweep import handoff_remind_or_escalate
from cases.models import Case, Channel, SatisfactionAnswer
from cases.satisfaction.services import answer_token, satisfaction_answer
from cases.services import case_change_status, case_open
from commitments.callback_slots import callback_slots
from commitments.callbacks import callback_book
from commitments.services import commitment_create
from notifications.models import Notification, NotificationChannel
from notifications.rendering import context_refresh, render_email
from tests.factories import CustomerFactory, make_agent, make_manager, offer
from tests.test_customer_notices_read_right import ONE_FORMAT, build_world, london

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(
    str(p.relative_to(Path(settings.BASE_DIR) / "templates")).removesuffix(".subject.txt")
    for p in (Path(settings.BASE_DIR) / "templates").glob("*/email/*.subject.txt")
)
# Templates no service renders as they are (a layout, the operators' plain message).
NOT_QUEUED = {"notifications/email/message"}
URL = re.compile(r"https?://[^\s<>\"')]+")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER = re.compile(r"(?<![\w-])[£$€]?\d[\d.,:]*\d|(?<![\w-])\d(?![\w-])")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Words only a link's label says (the text part writes the URL after a colon instead).
LINK_LABEL_WORDS = {
    "en": {"see", "your", "case", "online"},
    "de": {"ansehen", "ihr", "anliegen", "online"},
}


def staff_world(time_machine) -> None:
    """The notices to agents and managers around the customer's day: a case named for
    another agent, offers declined, withdrawn and left waiting (reminded, escalated), a
    manager's offer of an owner's case, an absence that leaves promises uncovered, and a
    changed email address."""
    time_machine.move_to(london(2026, 12, 3, 10), tick=False)
    case = Case.objects.order_by("pk").first()
    team, owner = case.team, case.owner
    manager = team.managers.first() or make_manager(team)
    priya = make_agent(team, display_name="Priya Shah")
    named = case_open(
        customer=CustomerFactory(email="named@example.org", language=case.customer.language),
        team=team,
        channel=Channel.EMAIL,
        subject="Meter reading",
        by=owner,
        owner=priya,
    )
    declined = offer(named, to=owner)
    handoff_decline(handoff=declined, by=owner, reason="I am on the phones all afternoon.")
    withdrawn = offer(named, to=owner)
    handoff_cancel(handoff=withdrawn, by=priya)
    # a manager offers the owner's case while they are away: "cover for"
    waiting = offer(named, by=manager, to=owner)
    time_machine.move_to(london(2026, 12, 4, 16), tick=False)
    handoff_remind_or_escalate(handoff_id=waiting.pk)
    time_machine.move_to(london(2026, 12, 7, 16), tick=False)
    handoff_remind_or_escalate(handoff_id=waiting.pk)
    unoffered = case_open(
        customer=named.customer, team=team, channel=Channel.WEB, subject="Gas bill", by=priya,
        owner=priya,
    )  # fmt: skip
    commitment_create(
        case=unoffered, by=priya, description="Call you back", kind="callback",
        due="1 business day",
    )  # fmt: skip
    now = timezone.now()
    # a callback the customer booked inside the absence, with nobody to cover it
    slot = callback_slots(case=unoffered, now=now)[0]
    callback_book(case=unoffered, starts_at=slot.starts_at, by=None)
    absence_record(agent=priya, by=manager, starts_at=now + timedelta(hours=1),
                   ends_at=now + timedelta(days=5))  # fmt: skip
    customer_update(
        customer=named.customer, by=priya, changes=CustomerChanges(email="new@example.org")
    )
    # the question at close, and a low answer with a comment: the managers' alert
    case_change_status(case=named, status="resolved", by=priya)
    satisfaction_answer(
        token=answer_token(SatisfactionAnswer.objects.get(case=named).pk),
        score=2,
        comment="Nobody called me back.",
    )


def _flatten(value, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _flatten(v, f"{key}.{k}")]
    if isinstance(value, list):
        return [kv for v in value for kv in _flatten(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def variants(context: dict) -> list[tuple[str, dict]]:
    """The context as queued, each flag flipped, and (for a notice with an owner) the owner
    away with a cover and a sparse contact card: every branch of the templates' conditionals."""
    found = [("as queued", context)]
    for key, value in context.items():
        if isinstance(value, bool):
            found.append((f"{key}={not value}", {**context, key: not value}))
    owner = context.get("owner")
    if isinstance(owner, dict):
        cover = {
            "name": "Ravi Patel",
            "email": "ravi.patel@example.com",
            "phone": "+44 20 7946 0999",
            "job_title": "",
            "working_hours": "",
        }
        found.append(
            (
                "covering",
                {**context, "covering": True, "cover": cover,
                 "owner_back": "2026-12-11T09:00:00+00:00"},
            )
        )  # fmt: skip
        found.append(("cover, no return", {**context, "covering": True, "cover": cover}))
        sparse = {**owner, "job_title": "", "phone": "", "working_hours": ""}
        found.append(("sparse card", {**context, "owner": sparse}))
    return found


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(text)).strip()


def html_as_text(markup: str) -> str:
    """The HTML part as a reader sees it, its links' targets written beside them."""
    markup = re.sub(r"<title>.*?</title>", "", markup, flags=re.S)
    markup = re.sub(r'<a [^>]*href="(?!mailto:)([^"]+)"[^>]*>', r" \1 ", markup)
    return plain(re.sub(r"<[^>]+>", " ", markup))


def facts(text: str, language: str) -> dict[str, set[str]]:
    urls = set(URL.findall(text))
    rest = URL.sub(" ", text)
    return {
        "links": urls,
        "addresses": set(ADDRESS.findall(rest)),
        "dates": set(re.findall(ONE_FORMAT[language], rest)),
        "numbers": set(NUMBER.findall(ADDRESS.sub(" ", rest))),
        "words": {w.lower() for w in WORD.findall(ADDRESS.sub(" ", rest))},
    }


def disagreements(notification: Notification, language: str) -> list[str]:
    found = []
    for label, context in variants(context_refresh(notification.context)):
        mail = render_email(
            template=notification.template,
            context={**context, "language": language},
            recipient_name=notification.recipient_name,
        )
        where = f"{notification.template} [{language}, {label}]"
        if mail.html is None:
            found.append(f"{where}: no HTML part")
            continue
        text, shown = plain(mail.text), html_as_text(mail.html)
        mine, theirs = facts(text, language), facts(shown, language)
        for kind in mine:
            only_text = mine[kind] - theirs[kind]
            only_html = theirs[kind] - mine[kind]
            if kind == "words":
                only_html -= LINK_LABEL_WORDS[language]
                only_text -= LINK_LABEL_WORDS[language]
            if only_text or only_html:
                found.append(
                    f"{where}: {kind} only in text {sorted(only_text)}, "
                    f"only in HTML {sorted(only_html)}"
                )
        for key, value in _flatten(context):
            value = plain(value)
            if len(value) < 2 or key.endswith(("_at", "_back", "language", "time_zone")):
                continue
            if (value in text) != (value in shown):
                side = "text" if value in text else "HTML"
                found.append(f"{where}: {key}={value!r} only in the {side} part")
            if "name" in key and value in mail.subject and value not in text:
                found.append(f"{where}: the subject names {value!r}, the body does not")
    return found


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_text_and_html_parts_of_every_email_state_the_same_facts(
    time_machine, settings, language
):
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language=language, with_manager=True, customer_kind="title")
    staff_world(time_machine)
    emails = Notification.objects.filter(channel=NotificationChannel.EMAIL).order_by("pk")
    seen: dict[str, Notification] = {}
    report = []
    for n in emails:
        if n.template in seen and n.context.keys() == seen[n.template].context.keys():
            continue  # the same branches as one already read
        seen.setdefault(n.template, n)
        report += disagreements(n, language)
    assert set(TEMPLATES) - NOT_QUEUED <= set(seen), "not queued by any service here"
    assert not report, "\n".join(report)


def test_a_managers_offer_names_the_same_offerer_in_its_subject_and_body(time_machine, settings):
    """ "Cover for": a manager offers an away owner's case; subject and body name the manager
    as the one who offers it (the owner stays responsible until it is accepted)."""
    settings.CUSTOMER_NOTICES_PER_CASE_PER_DAY = 100
    build_world(time_machine, language="en", with_manager=True, customer_kind="plain")
    staff_world(time_machine)
    offers = Notification.objects.filter(template="cases/email/handoff_offered")
    by_manager = [n for n in offers if n.context["offered_by_name"] != n.context["sender_name"]]
    assert by_manager
    for n in by_manager:
        mail = render_email(template=n.template, context=n.context)
        offerer = re.search(r"\] (.+) offers you a case", mail.subject).group(1)
        assert offerer == n.context["offered_by_name"]
        assert f"{offerer} offers you case" in mail.text
        assert f"{offerer} offers you case" in re.sub(r"\s+", " ", mail.html)
