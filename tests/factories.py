"""factory_boy factories for every model. Use these, never fixture files."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases import hooks
from cases.handoffs.gate import HandoffSummary
from cases.handoffs.services import handoff_offer
from cases.models import AgentProfile, Case, Customer, Handoff, HandoffReason, HandoffStatus, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@staff.example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw-for-tests-only")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    time_zone = "Europe/London"


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent: a user with a contact profile in one team (``team=``)."""

    class Meta:
        model = AgentProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda p: f"{p.user.first_name} {p.user.last_name}")
    job_title = "Customer Care Specialist"
    direct_email = factory.LazyAttribute(lambda p: f"{p.user.username}@direct.example.com")
    direct_phone = factory.Sequence(lambda n: f"+44 20 7946 {n % 10000:04d}")
    working_hours = "Mon–Fri 09:00–17:00 (London)"

    @factory.post_generation
    def team(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not None:
            teams = extracted if isinstance(extracted, list | tuple) else [extracted]
            self.teams.add(*teams)


def make_agent(team: Team | None = None, **kwargs: Any) -> Any:
    """The agent's user (what cases point at), with a profile in ``team``."""
    return AgentFactory(team=team, **kwargs).user


def make_manager(team: Team, **kwargs: Any) -> Any:
    user = UserFactory(**kwargs)
    AgentProfile.objects.create(
        user=user, display_name=user.get_full_name(), job_title="Team Manager"
    )
    team.managers.add(user)
    return user


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    full_name = factory.Faker("name")
    title = "Ms"
    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    phone = "+447700900123"
    time_zone = "Europe/London"


class CaseFactory(factory.django.DjangoModelFactory):
    """A case written directly (no services, no notifications): for reads and permissions."""

    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    channel = "email"
    subject = factory.Faker("sentence", nb_words=5)
    owner = factory.LazyAttribute(lambda c: make_agent(c.team))
    owner_since = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


# --- hand-offs: a summary that passes the gate, offers made through the service, and rows
# written directly for reads and reports.


def good_summary(**overrides: str) -> HandoffSummary:
    fields = {
        "customer_needs": "A refund of the duplicate charge of 42.50 on the March invoice.",
        "actions_taken": "Confirmed both charges with billing; refund request RF-88 raised today.",
        "customer_expectations": (
            "Promised the money back within five days; she is annoyed: 'I have asked twice'."
        ),
        "next_step": "Check RF-88 is approved on Thursday and tell the customer by phone.",
    }
    fields.update(overrides)
    return HandoffSummary(**fields)


def offer(case, *, by=None, to=None, reason=HandoffReason.SHIFT_END, **kwargs) -> Handoff:
    """An offer through the service (gate, flags, timing) from the case's owner by default,
    with every open commitment ticked as briefed unless the test says otherwise."""
    kwargs.setdefault("briefed_commitments", [c.id for c in hooks.collect_open_commitments(case)])
    # A case handed on again gets a summary of its own (the gate refuses the last one's copy).
    again = {"actions_taken": f"Hand-off {case.owner_count}: " + good_summary().actions_taken}
    return handoff_offer(
        case=case,
        by=by or case.owner,
        to=to or make_agent(case.team),
        summary=kwargs.pop("summary", None)
        or (good_summary(**again) if case.owner_count > 1 else good_summary()),
        reason=reason,
        **kwargs,
    )


class HandoffFactory(factory.django.DjangoModelFactory):
    """A hand-off row written directly (no gate, no timeline): for reads and reports."""

    class Meta:
        model = Handoff

    case = factory.SubFactory(CaseFactory)
    team = factory.LazyAttribute(lambda h: h.case.team)
    from_agent = factory.LazyAttribute(lambda h: h.case.owner)
    to_agent = factory.LazyAttribute(lambda h: make_agent(h.case.team))
    offered_by = factory.LazyAttribute(lambda h: h.from_agent)
    reason = HandoffReason.SHIFT_END
    customer_needs = factory.LazyFunction(lambda: good_summary().customer_needs)
    actions_taken = factory.LazyFunction(lambda: good_summary().actions_taken)
    customer_expectations = factory.LazyFunction(lambda: good_summary().customer_expectations)
    next_step = factory.LazyFunction(lambda: good_summary().next_step)
    status = HandoffStatus.ACCEPTED
    offered_at = factory.LazyFunction(timezone.now)
    decided_at = factory.LazyAttribute(
        lambda h: h.offered_at if h.status != HandoffStatus.OFFERED else None
    )
