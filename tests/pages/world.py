"""A small seeded world for the whole-page checks (the accessibility audit, the keyboard
walks, the phone checks and ``make screenshots``): one team with an owner who has a case
handed to her (the customer has yet to acknowledge it), an offer waiting for her, a
colleague who is away, a manager; everything opened through the services. Each page of
``PAGES`` is one row: its name, who opens it (``None``: nobody signed in) and its address.

Playwright's sync API runs an event loop in the calling thread; the ORM calls made here are
synchronous and safe (``DJANGO_ALLOW_ASYNC_UNSAFE``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.test import override_settings
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@dataclass(frozen=True)
class Page:
    name: str
    who: str | None  # a key of the world ("owner", "manager"), None for nobody signed in
    path: Callable[[dict[str, Any]], str]


# Every page a person uses, one row each: a page added later is one more line here.
PAGES = [
    Page("login", None, lambda w: "/accounts/login/"),
    Page("queue", "owner", lambda w: "/queue/"),
    Page("case", "owner", lambda w: f"/cases/{w['case'].ref}/"),
    Page("new-case", "owner", lambda w: "/cases/new/"),
    Page("customer-record", "owner", lambda w: f"/customers/{w['customer'].pk}/"),
    Page("search", "owner", lambda w: "/search/?q=Hopper"),
    Page("availability", "owner", lambda w: "/me/availability/"),
    Page("customer-page", None, lambda w: f"/c/{w['token']}/"),
    Page("customer-callback", None, lambda w: f"/c/{w['token']}/callback/"),
    Page("case-callback", "owner", lambda w: f"/cases/{w['case'].ref}/callback/"),
    Page("satisfaction", None, lambda w: f"/satisfaction/{w['satisfaction_token']}/"),
    Page("dashboard", "manager", lambda w: "/manage/"),
    Page("agents", "manager", lambda w: "/manage/agents/"),
    Page("cover-for", "manager", lambda w: f"/manage/agents/{w['away'].pk}/cover-for/"),
    Page("team-cover", "manager", lambda w: f"/manage/teams/{w['team'].pk}/cover/"),
    Page("first-response", "manager", lambda w: "/manage/first-response/"),
    Page("promises", "manager", lambda w: "/manage/promises/"),
    Page("open-cases", "manager", lambda w: "/manage/open-cases/"),
    Page("settings", "manager", lambda w: "/manage/settings/"),
    Page("audit", "manager", lambda w: "/manage/handoffs/"),
    Page("inbound", "manager", lambda w: "/manage/inbound/"),
]


def seed_world() -> dict[str, Any]:
    from cases.availability.services import agent_set_away
    from cases.customers.links import make_customer_token
    from cases.handoffs.services import handoff_accept
    from cases.models import SatisfactionAnswer
    from cases.satisfaction.services import answer_token
    from cases.services import case_add_note, case_change_status, case_open
    from commitments.services import commitment_create
    from tests.factories import (
        CaseFactory,
        CustomerFactory,
        TeamFactory,
        make_agent,
        make_manager,
        offer,
    )

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        team = TeamFactory(name="Billing", time_zone="Europe/London")
        owner = make_agent(
            team,
            display_name="Ada Owner",
            job_title="Billing Specialist",
            direct_email="ada.owner@example.com",
            direct_phone="+44 20 7946 0018",
        )
        colleague = make_agent(team, display_name="Cole League")
        away = make_agent(team, display_name="Bea Away")
        manager = make_manager(team, first_name="Mona", last_name="Manager")
    customer = CustomerFactory(
        full_name="Grace Hopper", title="Dr", addressed_as="Dr Hopper", time_zone="Europe/London"
    )
    case = case_open(
        customer=customer,
        team=team,
        channel="email",
        subject="Charged twice for March",
        description="Two identical charges on the March invoice.",
        owner=colleague,
        by=colleague,
    )
    commitment_create(
        case=case,
        by=colleague,
        description="I will call you back with the refund reference.",
        kind="callback",
        due=timezone.now() + timedelta(days=3),
    )
    case_add_note(case=case, by=colleague, text="Spoke to billing; refund request RF-88 raised.")
    handoff_accept(handoff=offer(case, to=owner), by=owner)
    case.refresh_from_db()
    waiting = case_open(
        customer=CustomerFactory(full_name="Alan Turing"),
        team=team,
        channel="phone",
        subject="Meter reading disputed",
        owner=colleague,
        by=colleague,
    )
    offer(waiting, to=owner)
    own = case_open(
        customer=customer,
        team=team,
        channel="web",
        subject="Address change not applied",
        owner=owner,
        by=owner,
    )
    case_open(
        customer=CustomerFactory(full_name="Ada Lovelace"),
        team=team,
        channel="email",
        subject="Refund for a cancelled order",
        owner=away,
        by=away,
    )
    agent_set_away(agent=away, by=away, away=True, note="Unwell")
    # a closed case: its customer is asked one question
    closed = CaseFactory(
        team=team,
        owner=owner,
        customer=CustomerFactory(full_name="Mary Jackson"),
        subject="Parcel tracking number",
    )
    case_change_status(case=closed, status="closed", by=owner)
    return {
        "team": team,
        "owner": owner,
        "colleague": colleague,
        "away": away,
        "manager": manager,
        "customer": customer,
        "case": case,
        "own_case": own,
        "token": make_customer_token(case_id=case.pk, generation=case.link_generation),
        "satisfaction_token": answer_token(SatisfactionAnswer.objects.get(case=closed).pk),
    }


def session_cookie(user, base: str) -> dict[str, Any]:
    """A signed-in session for ``user`` as a browser cookie: no login form, no password,
    none of the login signals' work."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}


@contextmanager
def served_world(django_db_blocker) -> Iterator[tuple[str, dict[str, Any]]]:
    """A live server of its own (not pytest-django's ``live_server``, which empties the
    database after every test) and the world, for a whole module; the database is emptied
    at the end, as a transactional test leaves it."""
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer("localhost")
        try:
            with override_settings(ALLOWED_HOSTS=["*"]):
                world = seed_world()
                # Signed in now, outside any test's transaction, so the server sees the session.
                world["sessions"] = {
                    who: session_cookie(world[who], server.url) for who in ("owner", "manager")
                }
                yield server.url, world
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            connections.close_all()


def require_chromium(*, axe: bool = False) -> None:
    """Skip with a reason without Chromium (or axe-core), except in CI: a failure there."""
    import pytest

    from tests.conftest import IN_CI

    missing = [] if Path(CHROMIUM).exists() else [f"Chromium at {CHROMIUM}"]
    if axe and not AXE.exists():
        missing.append(f"axe-core at {AXE} (make install)")
    try:
        import playwright  # noqa: F401
    except ImportError:  # pragma: no cover - a dev dependency
        missing.append("the playwright package")
    if missing:
        reason = "needs " + ", ".join(missing) + " (never downloaded by the tests)"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # The ORM calls made while Playwright's loop was current ran on a connection of
            # their own: close it here, or the test database cannot be dropped.
            connections.close_all()


@contextmanager
def signed_in(
    browser, world: dict[str, Any], who: str | None, **context_options: Any
) -> Iterator[Any]:
    """A page of a fresh browser context, signed in as the world's ``who`` (or nobody)."""
    context = browser.new_context(**context_options)
    if who is not None:
        context.add_cookies([world["sessions"][who]])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
