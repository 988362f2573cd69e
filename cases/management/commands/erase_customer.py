"""``manage.py erase_customer <id> --by <username>``: a customer's right to erasure, through
``cases.customers.erasure.customer_erase`` (the same service as the admin action)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.customers.erasure import customer_erase
from cases.errors import CaseRuleError
from cases.models import Customer


class Command(BaseCommand):
    help = (
        "Erase a customer's personal data (record, cases, notes, timeline, hand-off "
        "summaries, mail, promises, notifications); figures and the audit trail stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer_id", type=int, help="The customer record's id.")
        parser.add_argument(
            "--by", required=True, help="Username of the staff member the erasure is recorded as."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        try:
            by = users.objects.get(**{users.USERNAME_FIELD: options["by"]})
        except users.DoesNotExist as exc:
            raise CommandError(f"No user {options['by']!r}.") from exc
        try:
            customer = Customer.objects.get(pk=options["customer_id"])
        except Customer.DoesNotExist as exc:
            raise CommandError(f"No customer {options['customer_id']}.") from exc
        try:
            customer_erase(customer=customer, by=by)
        except CaseRuleError as err:
            raise CommandError(f"{err.code}: {err.message}") from err
        self.stdout.write(f"Customer {customer.pk}: personal data erased.")
