"""Intake: a case opened for a customer (existing, or new and checked for duplicates) in a
team the caller works in, with the owner given or chosen by the team's rule, and the contact
it was opened for. The pages and the API both open cases through ``case_intake``.

The opening contact is what first response is measured from (``reports.first_response``):
on a live channel (a call, a chat, a visit: the team's live threshold) the case is opened
while talking to the customer, so the conversation is recorded as a contact to them, by the
person who opened the case; on any other channel the customer's own message (the
description, else the subject) is recorded as a contact from them, at the time they sent it
(``contact_at``, default now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from caseowner.types import User
from cases import selectors
from cases.conversations.services import NewContact, contact_record
from cases.customers.checks import customer_existing, customer_exists_error, phone_or_error
from cases.customers.services import customer_create
from cases.errors import CaseRuleError
from cases.models import (
    CONTACT_BODY_MAX,
    CONTACT_SUMMARY_MAX,
    Case,
    Contact,
    ContactDirection,
    Customer,
    Priority,
    Team,
)
from cases.permissions import is_team_manager, is_team_member, visible_customers
from cases.services import case_open


@dataclass(frozen=True)
class NewCustomer:
    """A customer met at intake, as they want to be addressed."""

    full_name: str = ""
    given_name: str = ""
    family_name: str = ""
    title: str = ""
    addressed_as: str = ""
    email: str = ""
    phone: str = ""
    time_zone: str = "UTC"
    language: str = "en"
    # None: the channel the case came in on.
    preferred_channel: str | None = None
    # True: the caller says this is not the customer on file with the same email or phone.
    different_person: bool = False


@dataclass(frozen=True)
class CaseIntake:
    """A new case as the intake page and the API receive it: customer, team and owner by id
    (or a new customer)."""

    channel: str
    subject: str
    customer_id: int | None = None
    new_customer: NewCustomer | None = None
    # None: the caller's team, when they work in or manage exactly one.
    team_id: int | None = None
    # None: the team's assignment rule chooses.
    owner_id: int | None = None
    description: str = ""
    priority: str = Priority.NORMAL
    # When the customer wrote (not on a live channel); None: now.
    contact_at: datetime | None = None


def _intake_team(*, by: User, team_id: int | None) -> Team:
    if team_id is None:
        team_id = selectors.intake_default_team_id(user=by)
    if team_id is None:
        raise CaseRuleError(
            "team_required",
            "Say which team the case belongs to.",
            fields={"team": ["This field is required."]},
        )
    team = selectors.intake_teams(user=by).filter(pk=team_id).first()
    if team is None:
        raise CaseRuleError(
            "team_not_found", "No such team among yours.", fields={"team": ["Not found."]}
        )
    return team


def _intake_customer(intake: CaseIntake, *, by: User, team: Team) -> Customer:
    new, customer_id = intake.new_customer, intake.customer_id
    if new is not None and customer_id is None:
        phone = phone_or_error(new.phone, region=team.phone_region)
        if not new.different_person:
            existing = customer_existing(user=by, email=new.email, phone=phone)
            if existing is not None:
                raise customer_exists_error(existing, email=new.email)
        return customer_create(
            phone_region=team.phone_region,
            full_name=new.full_name,
            given_name=new.given_name,
            family_name=new.family_name,
            title=new.title,
            addressed_as=new.addressed_as,
            email=new.email,
            phone=new.phone,
            time_zone=new.time_zone,
            language=new.language,
            preferred_channel=new.preferred_channel or intake.channel,
        )
    if customer_id is not None and new is None:
        customer = visible_customers(by).filter(pk=customer_id).first()
        # A record merged into another opens the case for the survivor.
        for _ in range(5):
            if customer is None or customer.merged_into_id is None:
                break
            customer = Customer.objects.filter(pk=customer.merged_into_id).first()
        if customer is None:
            raise CaseRuleError(
                "customer_not_found", "No such customer.", fields={"customer": ["Not found."]}
            )
        return customer
    raise CaseRuleError(
        "customer_required",
        "Give exactly one of an existing customer or a new customer.",
        fields={"customer": ["Give exactly one of customer (an id) or new_customer."]},
    )


@transaction.atomic
def case_intake(*, intake: CaseIntake, by: User) -> Case:
    """Open a case as a person asked for it: the team (given, else the caller's only team,
    among the teams they may open cases for), the customer (existing, or created in the same
    transaction), the owner (given, else the team's rule); then ``case_open``."""
    team = _intake_team(by=by, team_id=intake.team_id)
    customer = _intake_customer(intake, by=by, team=team)
    owner = None
    if intake.owner_id is not None:
        owner = selectors.user_by_id(
            intake.owner_id,
            field="owner",
            code="owner_not_in_team",
            message="The owner must be an active agent of the case's team.",
        )
    case = case_open(
        customer=customer,
        team=team,
        channel=intake.channel,
        subject=intake.subject,
        description=intake.description,
        priority=intake.priority,
        owner=owner,
        by=by,
    )
    opening_contact_record(case=case, by=by, contact_at=intake.contact_at)
    return case


def opening_contact_record(*, case: Case, by: User, contact_at: datetime | None) -> Contact:
    """The contact the case was opened for (see the module's docstring)."""
    summary = case.subject[:CONTACT_SUMMARY_MAX]
    body = case.description[:CONTACT_BODY_MAX]  # the whole of it stays on the case
    if case.team.first_response_is_live(case.channel):
        in_team = by.is_active and (is_team_member(by, case.team) or is_team_manager(by, case.team))
        contact = NewContact(
            direction=ContactDirection.TO_CUSTOMER,
            channel=case.channel,
            summary=summary,
            body=body,
            at=case.created_at,
            agent=by if in_team else case.owner,
            opening=True,
        )
    else:
        at = case.created_at if contact_at is None else min(contact_at, case.created_at)
        contact = NewContact(
            direction=ContactDirection.FROM_CUSTOMER,
            channel=case.channel,
            summary=summary,
            body=body,
            at=at,
            opening=True,
        )
    return contact_record(case=case, contact=contact, by=None).contact
