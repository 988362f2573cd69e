"""Correcting a customer's record and merging two records of one person.

Each function is one transaction. The timeline stays append-only: a correction or a merge
adds events to the cases concerned, it never changes earlier ones.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseowner import text
from caseowner.preconditions import require_if_match
from caseowner.text import require_clean_text
from caseowner.types import User
from cases import hooks
from cases.customers.checks import can_correct_through, phone_or_error
from cases.errors import CaseRuleError
from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Channel,
    Customer,
    CustomerMerge,
    EventKind,
    Title,
)
from cases.notices import customer_address_changed
from cases.permissions import (
    can_edit_customer,
    manages_any_team,
    phone_region_for,
    visible_customers,
)


def customer_full_name(*, full_name: str, given_name: str, family_name: str) -> str:
    """The whole name: as written, else the parts given (given name first)."""
    return full_name.strip() or " ".join(p for p in (given_name.strip(), family_name.strip()) if p)


def customer_field_errors(
    *,
    full_name: str,
    title: str,
    preferred_channel: str,
    time_zone: str,
    given_name: str = "",
    family_name: str = "",
    language: str | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a customer's details (``customer_create`` and ``customer_update``).
    The parts, when given, are parts of the whole name (in any order: "Wang Wei" has the
    family name Wang); a single name is a given name alone or a family name alone. A
    ``language`` (None: not being set) is one the notices are written in (``LANGUAGES``)."""
    errors: dict[str, list[str]] = {}
    if not full_name.strip():
        errors["name"] = ["Give the customer's name."]
    folded = f" {' '.join(full_name.casefold().split())} "
    for field, part in (("given_name", given_name), ("family_name", family_name)):
        if part.strip() and f" {' '.join(part.casefold().split())} " not in folded:
            errors[field] = [f'Part of the whole name ("{full_name.strip()}"), as written there.']
    if title not in Title.values:
        errors["title"] = [f"One of: {', '.join(v for v in Title.values if v)}."]
    if preferred_channel not in Channel.values:
        errors["preferred_channel"] = ["Unknown channel."]
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Unknown time zone."]
    if language is not None and language not in customer_languages():
        errors["language"] = [f"One of: {', '.join(customer_languages())}."]
    return errors


def customer_languages() -> list[str]:
    """The language codes a customer may read their notices and page in."""
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def customer_create(
    *,
    full_name: str = "",
    given_name: str = "",
    family_name: str = "",
    email: str = "",
    phone: str = "",
    title: str = "",
    addressed_as: str = "",
    preferred_channel: str = Channel.EMAIL,
    time_zone: str = "UTC",
    language: str = "en",
    phone_region: str | None = None,
) -> Customer:
    """A customer as they want to be addressed, reachable by email or phone (stored in E.164,
    read in ``phone_region`` when typed without a country code). The name: whole, or in the
    parts the customer gave (given and family name; either alone for a single name), or both;
    without a family name a title is never used on its own."""
    require_clean_text(
        {
            "name": (full_name, text.NAME_MAX, False),
            "given_name": (given_name, text.NAME_MAX, False),
            "family_name": (family_name, text.NAME_MAX, False),
            "addressed_as": (addressed_as, text.NAME_MAX, False),
            "email": (email, 254, False),
            "phone": (phone, 40, False),
        }
    )
    full_name = customer_full_name(
        full_name=full_name, given_name=given_name, family_name=family_name
    )
    errors = customer_field_errors(
        full_name=full_name,
        title=title,
        preferred_channel=preferred_channel,
        time_zone=time_zone,
        given_name=given_name,
        family_name=family_name,
        language=language or "en",
    )
    if errors:
        raise CaseRuleError("invalid_customer", "The customer has invalid fields.", fields=errors)
    return Customer.objects.create(
        full_name=full_name,
        given_name=" ".join(given_name.split()),
        family_name=" ".join(family_name.split()),
        email=email.strip(),
        phone=phone_or_error(phone, region=phone_region),
        title=title,
        addressed_as=addressed_as.strip(),
        preferred_channel=preferred_channel,
        time_zone=time_zone,
        language=language or "en",
    )


@dataclass(frozen=True)
class CustomerChanges:
    """The details an agent corrects; None leaves a detail as it is."""

    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    title: str | None = None
    addressed_as: str | None = None
    email: str | None = None
    phone: str | None = None
    preferred_channel: str | None = None
    time_zone: str | None = None
    language: str | None = None


def _lock_customer(pk: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=pk)


def _record_on_open_cases(*, customer_id: int, kind: str, by: User, data: dict) -> int:
    """One event per open case of the customer; how many were written."""
    now = timezone.now()
    events = [
        CaseEvent(case_id=pk, kind=kind, actor=by, at=now, data=data)
        for pk in Case.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    CaseEvent.objects.bulk_create(events)
    return len(events)


@transaction.atomic
def customer_update(
    *, customer: Customer, by: User, changes: CustomerChanges, if_match: str | None = None
) -> Customer:
    """Correct a customer's details (agents and managers of a team with a case of theirs).
    Every change is on the timeline of each of their open cases: who, when, before → after.
    A changed email address is told to the old one (``customer_address_changed``). With
    ``if_match`` (the ETag the client read) a record changed since is refused, 412."""
    if customer.merged_into_id is not None:
        raise CaseRuleError(
            "customer_merged",
            "This record was merged into another; correct the surviving record.",
            status=409,
        )
    if not can_edit_customer(by, customer):
        raise CaseRuleError(
            "not_customer_team",
            "Only agents of a team with a case of this customer can correct their details.",
            status=403,
        )
    customer = _lock_customer(customer.pk)
    require_if_match(if_match, customer)
    wanted = {f.name: getattr(changes, f.name) for f in fields(changes)}
    require_clean_text(
        {
            name: (wanted[name], limit, False)
            for name, limit in (
                ("full_name", text.NAME_MAX),
                ("given_name", text.NAME_MAX),
                ("family_name", text.NAME_MAX),
                ("addressed_as", text.NAME_MAX),
                ("email", 254),
                ("phone", 40),
            )
            if wanted.get(name) is not None
        }
    )
    wanted = {k: v.strip() if k != "phone" else v for k, v in wanted.items() if v is not None}
    if "phone" in wanted:
        wanted["phone"] = phone_or_error(wanted["phone"], region=phone_region_for(by))
    after = {f.name: getattr(customer, f.name) for f in fields(changes)} | wanted
    if "full_name" in wanted and not wanted["full_name"]:
        # the whole name from the parts (as corrected)
        wanted["full_name"] = after["full_name"] = customer_full_name(
            full_name="", given_name=after["given_name"], family_name=after["family_name"]
        )
    errors = customer_field_errors(
        full_name=after["full_name"],
        given_name=after["given_name"],
        family_name=after["family_name"],
        title=after["title"],
        preferred_channel=after["preferred_channel"],
        time_zone=after["time_zone"],
        language=wanted.get("language"),
    )
    if errors:
        raise CaseRuleError("invalid_customer", "The customer has invalid fields.", fields=errors)
    diff = {
        name: {"from": getattr(customer, name), "to": value}
        for name, value in wanted.items()
        if getattr(customer, name) != value
    }
    if not diff:
        return customer
    for name, change in diff.items():
        setattr(customer, name, change["to"])
    customer.save(update_fields=list(diff))
    _record_on_open_cases(
        customer_id=customer.pk,
        kind=EventKind.CUSTOMER_UPDATED,
        by=by,
        data={"customer_id": customer.pk, "changes": diff},
    )
    if "email" in diff:
        # the old address is told; a reply to the new one waits for a second person
        customer_address_changed(
            customer=customer,
            old_address=diff["email"]["from"],
            new_address=diff["email"]["to"],
            by=by,
            now=timezone.now(),
        )
    return customer


def _require_manager(by: User) -> None:
    if not manages_any_team(by):
        raise CaseRuleError(
            "not_manager", "Only a team manager can merge customer records.", status=403
        )


def _require_merge_rights(by: User, *records: Customer) -> None:
    """A merge changes whom every case of both records belongs to (and where replies go):
    it needs at least a correction's rights (``can_edit_customer``) on each record."""
    if not all(can_edit_customer(by, record) for record in records):
        raise CaseRuleError(
            "not_customer_team",
            "Only a manager of a team with a case of each customer can merge their records.",
            status=403,
        )


def _refuse_erased(*records: Customer) -> None:
    """An erased record has nothing left to compare, and its cases must never be reached
    again through another record's details."""
    if any(record.erased_at is not None for record in records):
        raise CaseRuleError(
            "customer_erased",
            "This customer's personal data was erased; their record is no longer merged or split.",
            status=409,
        )


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, by: User) -> CustomerMerge:
    """Fold ``merged`` into ``survivor`` (a manager with a correction's rights on both; never
    an erased record): its cases, and what other modules move (``hooks.customer_merge_move``),
    go to the survivor; ``merged`` stays as a tombstone that points at it. Undone by
    ``customer_unmerge`` within ``CUSTOMER_UNMERGE_DAYS``."""
    _require_manager(by)
    if survivor.pk == merged.pk:
        raise CaseRuleError(
            "merge_same_customer",
            "A record cannot be merged into itself.",
            fields={"other": ["Choose another customer."]},
        )
    visible = visible_customers(by)
    if visible.filter(pk__in=[survivor.pk, merged.pk]).count() != 2:
        raise CaseRuleError("customer_not_found", "No such customer.", status=404)
    # Both rows locked, lower id first, so two merges of the same pair take turns.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[survivor.pk, merged.pk])
        .order_by("pk")
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.merged_into_id is not None or merged.merged_into_id is not None:
        raise CaseRuleError(
            "customer_merged",
            "One of these records was already merged into another.",
            status=409,
        )
    _require_merge_rights(by, survivor, merged)
    _refuse_erased(survivor, merged)
    now = timezone.now()
    case_ids = list(
        Case.objects.filter(customer_id=merged.pk).order_by("pk").values_list("pk", flat=True)
    )
    Case.objects.filter(pk__in=case_ids).update(customer_id=survivor.pk, updated_at=now)
    moved: dict[str, list[int]] = {"cases": case_ids}
    for handler in hooks.customer_merge_move:
        moved.update(handler(merged=merged, survivor=survivor))
    merged.merged_into = survivor
    merged.save(update_fields=["merged_into"])
    merge = CustomerMerge.objects.create(
        survivor=survivor, merged=merged, by=by, at=now, moved=moved
    )
    data = {"merge_id": merge.pk, "from_customer": merged.pk, "to_customer": survivor.pk}
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case_id=pk, kind=EventKind.CUSTOMER_MERGED, actor=by, at=now, data=data)
            for pk in case_ids
        ]
    )
    return merge


def customer_unmerge_until(merge: CustomerMerge) -> Any:
    return merge.at + timedelta(days=settings.CUSTOMER_UNMERGE_DAYS)


@transaction.atomic
def customer_unmerge(*, merged: Customer, by: User) -> CustomerMerge:
    """Undo the live merge of ``merged`` (a manager with a correction's rights on both records,
    within ``CUSTOMER_UNMERGE_DAYS``, neither erased): exactly the rows the merge moved and
    still on the survivor go back; the tombstone lives again."""
    _require_manager(by)
    merge = (
        CustomerMerge.objects.select_for_update()
        .select_related("survivor")
        .filter(merged_id=merged.pk, undone_at__isnull=True)
        .first()
    )
    if merge is None:
        raise CaseRuleError(
            "merge_not_found", "This record is not merged into another.", status=404
        )
    if not visible_customers(by).filter(pk=merge.survivor_id).exists():
        raise CaseRuleError("customer_not_found", "No such customer.", status=404)
    # The tombstone has no cases of its own while merged: the rights on it come from the
    # cases the merge moved, the rights on the survivor from the cases it has besides.
    if not (
        can_correct_through(by, Case.objects.filter(pk__in=merge.case_ids))
        and can_correct_through(
            by, Case.objects.filter(customer_id=merge.survivor_id).exclude(pk__in=merge.case_ids)
        )
    ):
        raise CaseRuleError(
            "not_customer_team",
            "Only a manager of a team with a case of each customer can undo their merge.",
            status=403,
        )
    now = timezone.now()
    if now > customer_unmerge_until(merge):
        raise CaseRuleError(
            "merge_too_old",
            f"A merge can be undone for {settings.CUSTOMER_UNMERGE_DAYS} days; this one is older.",
            status=409,
        )
    merged = _lock_customer(merged.pk)
    survivor = _lock_customer(merge.survivor_id)
    if survivor.merged_into_id is not None:
        raise CaseRuleError(
            "customer_merged",
            "The surviving record was itself merged since; undo that merge first.",
            status=409,
        )
    _refuse_erased(merged, survivor)
    back = list(
        Case.objects.filter(pk__in=merge.case_ids, customer_id=survivor.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Case.objects.filter(pk__in=back).update(customer_id=merged.pk, updated_at=now)
    for handler in hooks.customer_unmerge_move:
        handler(moved=merge.moved, merged=merged, survivor=survivor)
    merged.merged_into = None
    merged.save(update_fields=["merged_into"])
    merge.undone_at, merge.undone_by = now, by
    merge.save(update_fields=["undone_at", "undone_by"])
    data = {"merge_id": merge.pk, "from_customer": survivor.pk, "to_customer": merged.pk}
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case_id=pk, kind=EventKind.CUSTOMER_UNMERGED, actor=by, at=now, data=data)
            for pk in back
        ]
    )
    return merge


__all__ = [
    "CustomerChanges",
    "customer_merge",
    "customer_unmerge",
    "customer_update",
]
