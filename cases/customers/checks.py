"""Checks on a customer's details that creating and correcting a record share: the phone
number read into E.164, whether the person is already on file, and who may correct (or
merge) a record."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cases.customers.phones import InvalidPhone, to_e164
from cases.errors import CaseRuleError
from cases.models import Case, Customer
from cases.permissions import team_ids_visible, visible_customers


def phone_or_error(phone: str, *, region: str | None) -> str:
    """The number in E.164, or the ``invalid_phone`` rule error naming the field."""
    try:
        return to_e164(phone, region)
    except InvalidPhone as exc:
        raise CaseRuleError("invalid_phone", str(exc), fields={"phone": [str(exc)]}) from None


def can_correct_through(user: Any, cases: QuerySet[Case]) -> bool:
    """The rights of ``permissions.can_edit_customer`` earned through these cases (a team of
    the user has one of them, or a superuser): for a record whose cases are, for now, on
    another (a merged one)."""
    if getattr(user, "is_superuser", False):
        return True
    return cases.filter(team_id__in=team_ids_visible(user)).exists()


def customer_existing(
    *, user: Any, email: str, phone: str, exclude_pk: int | None = None
) -> Customer | None:
    """A live record the user may see with this email (any case) or phone (E.164), the
    email match first; one query on ``customer_email_upper`` and ``customer_phone_live``."""
    match = Q(pk__in=[])
    if email.strip():
        match |= Q(email__iexact=email.strip())
    if phone:
        match |= Q(phone=phone)
    if not (email.strip() or phone):
        return None
    qs = visible_customers(user).filter(match, merged_into__isnull=True)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    rows = list(qs.order_by("pk")[:10])
    by_email = [c for c in rows if email.strip() and c.email.lower() == email.strip().lower()]
    found = by_email or rows
    return found[0] if found else None


def customer_exists_error(customer: Customer, *, email: str) -> CaseRuleError:
    """409 ``customer_exists`` with the record found (``match``), for intake to offer it."""
    by = "email" if email.strip() and customer.email.lower() == email.strip().lower() else "phone"
    return CaseRuleError(
        "customer_exists",
        f"{customer.full_name} is already a customer with this {by}: open the case for them, "
        "or say this is a different person.",
        fields={f"new_customer.{by}": [f"Already on file for customer {customer.pk}."]},
        status=409,
        extra={"match": customer_match(customer, matched_on=by)},
    )


def customer_match(customer: Customer, *, matched_on: str) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.full_name,
        "email": customer.email,
        "phone": customer.phone,
        "phone_national": customer.phone_national,
        "matched_on": matched_on,
    }
