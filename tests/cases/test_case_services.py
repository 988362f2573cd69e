"""Case intake, status rules and the timeline, through the services."""

from __future__ import annotations

import pytest
import time_machine
from django.db import IntegrityError

from caseowner.errors import RuleError
from cases import hooks, services
from cases.customers import services as customer_services
from cases.models import Case, CaseEvent, CaseStatus, EventKind
from notifications.models import Notification
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    TeamFactory,
    make_agent,
    make_manager,
)

pytestmark = pytest.mark.django_db


def open_case(team, by, **kwargs):
    return services.case_open(
        customer=kwargs.pop("customer", None) or CustomerFactory(),
        team=team,
        channel=kwargs.pop("channel", "email"),
        subject=kwargs.pop("subject", "Router drops every evening"),
        by=by,
        **kwargs,
    )


def test_it_opens_a_case_with_the_given_owner_and_records_the_event():
    team = TeamFactory()
    agent = make_agent(team)
    case = open_case(team, agent, owner=agent)
    assert case.owner == agent
    assert case.owner_since is not None
    event = CaseEvent.objects.get(case=case, kind=EventKind.OPENED)
    assert event.data["owner_id"] == agent.pk


def test_it_picks_the_agent_with_fewest_open_cases():
    team = TeamFactory()
    busy, free = make_agent(team), make_agent(team)
    CaseFactory(team=team, owner=busy)
    manager = make_manager(team)
    case = open_case(team, manager)
    assert case.owner == free


def test_closed_cases_do_not_count_as_load():
    team = TeamFactory()
    a, b = make_agent(team), make_agent(team)
    CaseFactory(team=team, owner=a, status=CaseStatus.CLOSED)
    CaseFactory(team=team, owner=b)
    assert open_case(team, make_manager(team)).owner == a


def test_ties_are_broken_round_robin():
    team = TeamFactory()
    agents = sorted([make_agent(team) for _ in range(3)], key=lambda u: u.pk)
    manager = make_manager(team)
    owners = []
    for _ in range(3):
        case = open_case(team, manager)
        owners.append(case.owner)
        services.case_change_status(case=case, status=CaseStatus.CLOSED, by=manager)
    assert owners == agents


def test_agents_not_accepting_cases_are_skipped():
    team = TeamFactory()
    away = make_agent(team)
    away.agent_profile.accepts_new_cases = False
    away.agent_profile.save()
    present = make_agent(team)
    assert open_case(team, make_manager(team)).owner == present


def test_a_team_without_agents_refuses_intake_without_owner():
    team = TeamFactory()
    manager = make_manager(team)
    with pytest.raises(RuleError) as exc:
        open_case(team, manager)
    assert exc.value.code == "no_agent_available"
    assert not Case.objects.exists()


def test_owner_must_belong_to_the_team():
    team, other = TeamFactory(), TeamFactory()
    agent = make_agent(team)
    outsider = make_agent(other)
    with pytest.raises(RuleError) as exc:
        open_case(team, agent, owner=outsider)
    assert exc.value.code == "owner_not_in_team"


def test_an_agent_cannot_open_cases_for_another_team():
    team, other = TeamFactory(), TeamFactory()
    make_agent(other)
    with pytest.raises(RuleError) as exc:
        open_case(other, make_agent(team))
    assert exc.value.code == "not_in_team"


def test_the_customer_is_told_who_owns_the_case():
    team = TeamFactory()
    agent = make_agent(team)
    customer = CustomerFactory(title="Mrs", full_name="Margaret Okafor", family_name="Okafor")
    case = open_case(team, agent, owner=agent, customer=customer)
    note = Notification.objects.get(dedupe_key=f"case:{case.pk}:opened")
    assert note.recipient_address == customer.email
    assert note.context["customer_name"] == "Mrs Okafor"
    assert note.context["owner"]["phone"] == agent.agent_profile.direct_phone
    assert note.context["owner"]["email"] == agent.agent_profile.direct_email
    assert note.context["case_ref"] == case.ref


def test_a_failing_hook_rolls_back_the_whole_intake(monkeypatch):
    team = TeamFactory()
    agent = make_agent(team)

    def broken(**kwargs):
        raise RuntimeError("downstream failure")

    monkeypatch.setattr(hooks, "case_opened", [broken])
    with pytest.raises(RuntimeError):
        open_case(team, agent, owner=agent)
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not Notification.objects.exists()


def test_a_closed_case_reopens_only_with_a_reason():
    case = CaseFactory(status=CaseStatus.CLOSED)
    with pytest.raises(RuleError) as exc:
        services.case_change_status(case=case, status=CaseStatus.OPEN, by=case.owner)
    assert exc.value.code == "reopen_reason_required"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED

    services.case_change_status(
        case=case, status=CaseStatus.OPEN, by=case.owner, reason="Fault came back"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    event = case.events.get()
    assert event.kind == EventKind.REOPENED
    assert event.data == {"from": "closed", "to": "open", "reason": "Fault came back"}


def test_closing_stamps_closed_at_and_writes_the_event():
    case = CaseFactory()
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        services.case_change_status(case=case, status=CaseStatus.CLOSED, by=case.owner)
    case.refresh_from_db()
    assert case.closed_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert case.events.get().kind == EventKind.STATUS_CHANGED


def test_only_the_owner_or_a_manager_changes_a_case():
    case = CaseFactory()
    colleague = make_agent(case.team)
    with pytest.raises(RuleError) as exc:
        services.case_change_status(case=case, status=CaseStatus.WAITING, by=colleague)
    assert exc.value.code == "not_case_owner"
    manager = make_manager(case.team)
    services.case_change_status(case=case, status=CaseStatus.WAITING, by=manager)
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING


def test_a_patch_of_status_and_priority_is_all_or_nothing():
    case = CaseFactory(status=CaseStatus.CLOSED)
    with pytest.raises(RuleError):
        # the priority is valid, the reopening is not: neither applies
        services.case_update(case=case, by=case.owner, priority="urgent", status="open")
    case.refresh_from_db()
    assert (case.status, case.priority) == ("closed", "normal")


def test_an_internal_note_is_on_the_timeline():
    case = CaseFactory()
    services.case_add_note(case=case, by=case.owner, text="  Called back, no answer. ")
    assert case.events.get().data == {"text": "Called back, no answer."}


def test_an_empty_note_is_refused():
    case = CaseFactory()
    with pytest.raises(RuleError) as exc:
        services.case_add_note(case=case, by=case.owner, text="   ")
    assert exc.value.code == "note_empty"


def test_a_case_cannot_be_saved_without_an_owner():
    team = TeamFactory()
    with pytest.raises(IntegrityError):
        Case.objects.create(
            customer=CustomerFactory(),
            team=team,
            channel="email",
            subject="x",
            owner_id=None,
            owner_since="2026-01-01T00:00Z",
            created_at="2026-01-01T00:00Z",
            updated_at="2026-01-01T00:00Z",
        )


def test_references_are_formatted_from_the_primary_key():
    from cases.models import format_ref, parse_ref

    assert format_ref(123) == "CASE-000123"
    assert parse_ref("CASE-000123") == 123
    assert parse_ref("case-42") == 42
    assert parse_ref("CASE-12a") is None
    assert parse_ref("") is None


def test_closing_a_case_expires_the_offer_waiting_on_it():
    from django.utils import timezone

    from cases.models import Handoff, HandoffStatus

    case = CaseFactory()
    receiver = make_agent(case.team)
    offer = Handoff.objects.create(
        case=case,
        team_id=case.team_id,
        from_agent=case.owner,
        to_agent=receiver,
        offered_by=case.owner,
        reason="shift_end",
        customer_needs="n",
        actions_taken="a",
        customer_expectations="e",
        next_step="s",
        offered_at=timezone.now(),
    )
    services.case_change_status(case=case, status=CaseStatus.CLOSED, by=case.owner)
    offer.refresh_from_db()
    assert offer.status == HandoffStatus.EXPIRED
    assert case.events.filter(kind=EventKind.HANDOFF_EXPIRED).exists()


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"full_name": "  "}, "name"),
        ({"full_name": "A", "title": "Sir"}, "title"),
        ({"full_name": "A", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"full_name": "A", "preferred_channel": "fax"}, "preferred_channel"),
    ],
)
def test_a_customer_with_invalid_fields_is_refused(kwargs, field):
    from cases.models import Customer

    with pytest.raises(RuleError) as exc:
        customer_services.customer_create(**kwargs)
    assert exc.value.code == "invalid_customer"
    assert field in exc.value.fields
    assert not Customer.objects.exists()


def test_a_customer_is_stored_as_they_want_to_be_addressed():
    customer = customer_services.customer_create(
        full_name=" Margaret Okafor ",
        family_name="Okafor",
        title="Mrs",
        time_zone="Europe/London",
    )
    assert customer.full_name == "Margaret Okafor"
    assert customer.salutation_name == "Mrs Okafor"


@pytest.mark.parametrize(
    ("given", "family", "full", "title", "salutation"),
    [
        ("Wei", "Wang", "Wang Wei", "Mr", "Mr Wang"),
        ("Anna", "van der Berg", "", "Mrs", "Mrs van der Berg"),
        ("Madonna", "", "", "Ms", "Madonna"),  # a single name: no title on its own
        ("", "", "Margaret Okafor", "Mrs", "Margaret Okafor"),  # parts unknown: never guessed
    ],
)
def test_the_salutation_uses_the_name_parts_given(given, family, full, title, salutation):
    customer = customer_services.customer_create(
        full_name=full, given_name=given, family_name=family, title=title
    )
    assert customer.salutation_name == salutation
    assert customer.full_name == (full or " ".join(p for p in (given, family) if p))


def test_name_parts_must_be_parts_of_the_whole_name():
    with pytest.raises(RuleError) as exc:
        customer_services.customer_create(full_name="Wang Wei", family_name="Li", title="Mr")
    assert exc.value.code == "invalid_customer" and "family_name" in exc.value.fields
