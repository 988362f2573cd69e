"""Fixtures for commitments: a London team on English bank holidays, its agent and manager."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import hooks
from cases.services import case_open
from commitments.models import BusinessCalendar, CommitmentKind
from commitments.services import commitment_create
from notifications.models import Notification, NotificationStatus
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager

LONDON = ZoneInfo("Europe/London")


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


@pytest.fixture
def team(db):
    team = TeamFactory(time_zone="Europe/London")
    BusinessCalendar.objects.create(team=team, holiday_country="GB", holiday_subdivision="ENG")
    return team


@pytest.fixture
def agent(team):
    return make_agent(team)


@pytest.fixture
def manager(team):
    return make_manager(team)


@pytest.fixture
def open_case(team, agent, manager):
    """Open a case through the service (so the first-response promise exists) at the
    current (frozen) time."""

    def _open(**kwargs):
        customer = kwargs.pop("customer", None) or CustomerFactory(time_zone="America/New_York")
        return case_open(
            customer=customer,
            team=team,
            channel=kwargs.pop("channel", "email"),
            subject=kwargs.pop("subject", "The kettle leaks"),
            by=agent,
            owner=kwargs.pop("owner", agent),
        )

    return _open


@pytest.fixture
def client_for():
    """An API client authenticated as the given user."""

    def _client(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _client


def pending(prefix: str = "commitment:", **filters):
    return Notification.objects.filter(
        dedupe_key__startswith=prefix, status=NotificationStatus.PENDING, **filters
    ).order_by("send_after", "pk")


def notices(template: str, **filters):
    return Notification.objects.filter(template=f"commitments/email/{template}", **filters)


def promise(case, by, due="2 business days", kind=CommitmentKind.CALLBACK, **kwargs):
    """A callback promise recorded through the service."""
    return commitment_create(
        case=case, by=by, description="Call you back about the refund", kind=kind, due=due, **kwargs
    )


def reminder_times(commitment):
    """The owner's pending reminders of a promise: (template, send_after), soonest first."""
    return [
        (n.template.rsplit("/", 1)[-1], n.send_after)
        for n in pending(f"commitment:{commitment.pk}:due:")
    ]


def queue_flags(case_ids):
    """The queue's flags for these cases now, as ``cases`` collects them from its hooks."""
    return hooks.collect_queue_flags(list(case_ids), timezone.now())
