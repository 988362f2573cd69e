"""`make demo`'s load, as `make demo` runs it (autocommit, so on-commit work happens; no
broker; the development mailbox; here on another port). The load takes a while, so one test
reads everything the demo promises from it: what it prints, where its emails go, that every
link follows the port, the day it shows (Oliver away today, Amelia covering), that every
customer was made through the service, and the manager's dashboard of it in Chromium."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from cases.availability.hours import owner_cover
from cases.customers import services as customer_services
from cases.models import Customer, SatisfactionAnswer, Team
from tests.pages.test_browser import browser_page  # noqa: F401 (fixture)
from tests.reports.test_dashboard_browser import read_the_demo_dashboard

SITE = "http://127.0.0.1:8001"


@pytest.mark.skipif(
    not apps.is_installed("demo"), reason="the demo app is installed only with DEBUG on"
)
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_demo_loads_as_make_demo_shows_it(
    monkeypatch,
    settings,
    _celery_eager,
    live_server,
    browser_page,  # noqa: F811
):
    from demo.models import DevMail

    created: list[Customer] = []
    customer_create = customer_services.customer_create

    def spy(**fields):
        created.append(customer_create(**fields))
        return created[-1]

    monkeypatch.setattr(customer_services, "customer_create", spy)
    settings.EMAIL_BACKEND = "demo.mailbox.MailboxBackend"
    settings.SITE_URL = SITE
    out = StringIO()
    call_command("load_demo", stdout=out)
    output = out.getvalue()

    # a short summary, never the emails
    lines = output.splitlines()
    assert len(lines) < 100
    assert any(line.startswith("Demo loaded in ") for line in lines)
    assert "Subject:" not in output
    # the emails are kept for /dev/mail/, and the summary says where
    assert DevMail.objects.count() > 100
    assert f"{SITE}/dev/mail/" in output
    # every link follows the port
    assert f"caseowner demo — {SITE}/" in output
    assert "127.0.0.1:8000" not in output
    assert DevMail.objects.filter(raw__contains=f"{SITE}/c/").exists()
    assert not DevMail.objects.filter(raw__contains="127.0.0.1:8000").exists()
    # Oliver is away today, Amelia covers his open cases
    User = get_user_model()
    oliver, amelia = User.objects.get(username="oliver"), User.objects.get(username="amelia")
    cover = owner_cover(owner=oliver, team=Team.objects.get(name="Billing"), at=timezone.now())
    assert cover is not None and cover.agent == amelia
    assert oliver.owned_cases.exclude(status__in=["resolved", "closed"]).exists()
    # every customer through the service
    assert len(created) == Customer.objects.count() > 0
    # customers answered the question at close through the weeks
    answered = SatisfactionAnswer.objects.filter(score__isnull=False)
    assert len({a.answered_at.isocalendar()[:2] for a in answered}) >= 5

    # and its manager reads eight weeks of history on the dashboard
    read_the_demo_dashboard(browser_page, live_server.url)
