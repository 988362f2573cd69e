"""The development mailbox (/dev/mail/): what the demo sends is kept in the database and read
as the customer would read it, never printed; it exists only in development."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

import caseowner
from commitments.models import CommitmentKind
from commitments.services import commitment_create
from notifications.services import notification_deliver, outbox_claim_batch

pytestmark = [
    pytest.mark.skipif(
        not apps.is_installed("demo"), reason="the demo app is installed only with DEBUG on"
    ),
]

SETTINGS_FILE = Path(caseowner.__file__).parent / "settings.py"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
MAILBOX = "demo.mailbox.MailboxBackend"


@pytest.fixture
def mailbox(settings):
    settings.EMAIL_BACKEND = MAILBOX


def _send(subject: str, *, html: str | None = None, ics: str | None = None) -> None:
    message = EmailMultiAlternatives(
        subject=subject, body=f"{subject} in plain text", to=["ada@example.org"]
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    if ics is not None:
        message.attach("promise.ics", ics, "text/calendar")
    message.send()


@pytest.fixture
def promise_mail(world, mailbox, _celery_eager):
    """A promise recorded on the case and its notice delivered: the customer's email, with
    its text, its HTML and the promise's .ics."""
    with time_machine.travel(NOW, tick=False):
        commitment_create(
            case=world["case"],
            by=world["owner"],
            description="I will call you back on Friday about the refund.",
            kind=CommitmentKind.CALLBACK,
            due="2 business days",
        )
        for claim in outbox_claim_batch():
            notification_deliver(notification_id=claim.notification_id, attempt=claim.attempt)
    from demo.models import DevMail

    return DevMail.objects.get(raw__contains="text/calendar")


def test_development_keeps_email_for_the_mailbox_without_email_url(monkeypatch):
    for name in ("DEBUG", "CASEOWNER_PRODUCTION", "EMAIL_URL"):
        monkeypatch.delenv(name, raising=False)
    assert runpy.run_path(str(SETTINGS_FILE))["EMAIL_BACKEND"] == MAILBOX


def test_an_email_url_in_development_is_used_as_given(monkeypatch):
    monkeypatch.delenv("CASEOWNER_PRODUCTION", raising=False)
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("EMAIL_URL", "consolemail://")
    backend = runpy.run_path(str(SETTINGS_FILE))["EMAIL_BACKEND"]
    assert backend == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
def test_the_mailbox_keeps_each_message_instead_of_sending_it(mailbox):
    from demo.models import DevMail

    _send("Your refund")
    assert mail.outbox == []
    kept = DevMail.objects.get()
    assert (kept.subject, kept.to) == ("Your refund", "ada@example.org")


@pytest.mark.django_db
def test_the_list_shows_the_newest_email_first(mailbox):
    _send("The first email")
    _send("The second email")
    page = Client().get("/dev/mail/").content.decode()
    assert page.index("The second email") < page.index("The first email")


@pytest.mark.django_db
def test_the_list_pages_through_many_emails(mailbox, django_assert_max_num_queries):
    for n in range(60):
        _send(f"Email number {n}")
    with django_assert_max_num_queries(3):
        response = Client().get("/dev/mail/", {"page": 2})
    page = response.content.decode()
    assert "Email number 9<" in page and "Email number 10<" not in page
    assert "Page 2 of 2" in page


def test_an_email_shows_its_text_and_html_as_the_customer_gets_them(promise_mail):
    client = Client()
    detail = client.get(f"/dev/mail/{promise_mail.pk}/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "I will call you back on Friday about the refund." in page  # the text part
    assert f"/dev/mail/{promise_mail.pk}/html/" in page
    html = client.get(f"/dev/mail/{promise_mail.pk}/html/")
    assert html["Content-Type"].startswith("text/html")
    assert "I will call you back on Friday about the refund." in html.content.decode()
    # framed by the detail page, so framing from the same origin is allowed
    assert html["X-Frame-Options"] == "SAMEORIGIN"


def test_an_email_offers_its_calendar_entry(promise_mail):
    client = Client()
    page = client.get(f"/dev/mail/{promise_mail.pk}/").content.decode()
    assert "BEGIN:VCALENDAR" in page
    ics = client.get(f"/dev/mail/{promise_mail.pk}/attachments/1/")
    assert ics["Content-Type"].startswith("text/calendar")
    assert ics["Content-Disposition"].startswith("attachment; filename=")
    assert b"BEGIN:VEVENT" in ics.content


@pytest.mark.django_db
def test_a_missing_email_or_part_is_not_found(mailbox):
    from demo.models import DevMail

    _send("Only text")
    kept = DevMail.objects.get()
    client = Client()
    assert client.get(f"/dev/mail/{kept.pk + 1}/").status_code == 404
    assert client.get(f"/dev/mail/{kept.pk}/html/").status_code == 404
    assert client.get(f"/dev/mail/{kept.pk}/attachments/1/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/dev/mail/", "/dev/mail/1/", "/dev/mail/1/html/"])
def test_the_mailbox_is_not_found_with_production_settings(settings, mailbox, path):
    _send("Your refund", html="<p>Your refund</p>")
    settings.PRODUCTION = True
    assert Client().get(path).status_code == 404


def test_production_settings_mount_no_mailbox(monkeypatch):
    from tests.test_demo import PRODUCTION_ENV

    for name in ("DEBUG", *PRODUCTION_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    production = runpy.run_path(str(SETTINGS_FILE))
    assert "demo" not in production["INSTALLED_APPS"]
    assert production["EMAIL_BACKEND"] != MAILBOX


@pytest.mark.django_db
def test_a_page_refuses_writes(mailbox):
    assert Client().post("/dev/mail/").status_code == 405
