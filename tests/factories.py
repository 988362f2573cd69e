"""factory_boy factories for every model. Use these, never fixture files."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import AgentProfile, Case, Customer, Team


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
    def team(self, create, extracted, **kwargs):  # noqa: ANN001
        if create and extracted is not None:
            teams = extracted if isinstance(extracted, list | tuple) else [extracted]
            self.teams.add(*teams)


def make_agent(team: Team | None = None, **kwargs):  # noqa: ANN201
    """The agent's user (what cases point at), with a profile in ``team``."""
    return AgentFactory(team=team, **kwargs).user


def make_manager(team: Team, **kwargs):  # noqa: ANN201
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
    phone = "+44 7700 900123"
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
