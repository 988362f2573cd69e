"""The right to erasure: a customer's personal data goes, every figure stays.

``customer_erase`` replaces what a person could be recognised by — their name and contact
details, what their cases say (subject, description, notes, contacts, mail received, hand-off
summaries, promises in their words, the owner's tasks to call them, their comment on the
question at close) and what messages about
them said and to whom (the outbox and its delivery log) — with a neutral placeholder. Ids,
statuses, dates, counts, scores and flags stay as recorded, so reports and audits give the
same figures after an erasure; the erasure itself is recorded (the customer's ``erased_at``
and a timeline event on each case: who and when).

The timeline is append-only; this is its one exception. On PostgreSQL the trigger lets an
UPDATE of ``cases_caseevent`` through only while the transaction has ``caseowner.redaction``
set (``SET LOCAL``, here only, and set back at once) and only if ``data`` alone changes; on
SQLite, while the transaction holds the ``redaction`` row of ``cases_caseevent_unlock``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from caseowner.types import User
from cases import hooks
from cases.errors import CaseRuleError
from cases.models import (
    Case,
    CaseEvent,
    CaseStatus,
    ClosedAs,
    Contact,
    Customer,
    EventKind,
    Handoff,
    HandoffReason,
    HandoffReview,
    InboundMessage,
    OwnerTask,
    Priority,
)
from notifications.redaction import notifications_concerning_count, notifications_redact

ERASED_NAME = "Erased customer"
ERASED_TEXT = "[erased]"

# Keys whose values are codes, counts or labels of the product, never a person's words.
_KEPT_KEYS = frozenset(
    {
        "id",
        "kind",
        "channel",
        "direction",
        "flags",
        "generation",
        "owner_count",
        "truncated",
        "assigned_by_rule",
        "within",
        "auto_reason",
        "event",
        "scope",
        "key",
        "case_ref",
    }
)
# Keys that hold a code in some events ("from": "open") and free text in others ("reason":
# "The customer moved house", "from": a former email address): kept only when a code.
_CODE_KEYS = frozenset({"from", "to", "reason", "status", "closed_as"})
_CODES = frozenset(
    [
        *CaseStatus.values,
        *Priority.values,
        *HandoffReason.values,
        *ClosedAs.values,
        "The customer replied.",
    ]
)


def _kept(key: str | None, value: str) -> bool:
    if key is None:
        return False
    if key in _KEPT_KEYS or key.endswith(("_id", "_ids", "_at")):
        return True
    return key in _CODE_KEYS and value in _CODES


def redact_json(value: Any, key: str | None = None) -> Any:
    """``value`` with every string a person may have written replaced by the placeholder;
    numbers, booleans, ids, dates and codes stay (a list's items are judged by its key)."""
    if isinstance(value, dict):
        return {k: redact_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, key) for v in value]
    if isinstance(value, str) and value and not _kept(key, value):
        return ERASED_TEXT
    return value


@contextmanager
def _timeline_redaction() -> Iterator[None]:
    """Open the trigger's redaction path for the statements inside, in this transaction."""
    if connection.vendor == "sqlite":
        # No session settings there: a row the transaction removes again (migration 0022).
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO cases_caseevent_unlock (purpose) VALUES ('redaction')")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM cases_caseevent_unlock WHERE purpose = 'redaction'")
        return
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL caseowner.redaction = 'on'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL caseowner.redaction = 'off'")


def _records_of(customer: Customer, *, lock: bool = True) -> list[Customer]:
    """The customer and every record merged into them (the same person), locked unless
    only looked at."""
    records = [customer]
    frontier = [customer.pk]
    rows = Customer.objects.select_for_update() if lock else Customer.objects.all()
    while frontier:
        found = list(rows.filter(merged_into_id__in=frontier).order_by("pk"))
        records.extend(found)
        frontier = [r.pk for r in found]
    return records


def _addresses(records: list[Customer], case_ids: list[int]) -> list[str]:
    """Their email addresses now and before a correction (notices went to each)."""
    found = [r.email for r in records if r.email]
    corrections = CaseEvent.objects.filter(case_id__in=case_ids, kind=EventKind.CUSTOMER_UPDATED)
    for data in corrections.values_list("data", flat=True):
        change = (data or {}).get("changes", {}).get("email", {})
        found.extend(v for v in (change.get("from"), change.get("to")) if isinstance(v, str) and v)
    return list(dict.fromkeys(found))


def _redact_timeline(case_ids: list[int]) -> int:
    events = list(CaseEvent.objects.filter(case_id__in=case_ids).only("id", "data").order_by("pk"))
    changed = []
    for event in events:
        redacted = redact_json(event.data)
        if redacted != event.data:
            event.data = redacted
            changed.append(event)
    with _timeline_redaction():
        CaseEvent.objects.bulk_update(changed, ["data"], batch_size=500)
    return len(changed)


def _redact_handoffs(case_ids: list[int]) -> list[str]:
    """The summaries, decline reasons, briefs and review comments; the tags of the offer
    notices that quote them."""
    handoffs = Handoff.objects.filter(case_id__in=case_ids)
    handoffs.update(
        customer_needs=ERASED_TEXT,
        actions_taken=ERASED_TEXT,
        customer_expectations=ERASED_TEXT,
        next_step=ERASED_TEXT,
    )
    handoffs.exclude(decline_reason="").update(decline_reason=ERASED_TEXT)
    briefed = list(handoffs.exclude(briefed_commitments=[]).only("id", "briefed_commitments"))
    for handoff in briefed:
        handoff.briefed_commitments = redact_json(handoff.briefed_commitments)
    Handoff.objects.bulk_update(briefed, ["briefed_commitments"], batch_size=500)
    HandoffReview.objects.filter(handoff__case_id__in=case_ids).exclude(comment="").update(
        comment=ERASED_TEXT
    )
    return [f"handoff:{pk}" for pk in handoffs.order_by("pk").values_list("pk", flat=True)]


def _redact_conversation(case_ids: list[int], addresses: list[str]) -> None:
    contacts = Contact.objects.filter(case_id__in=case_ids)
    contacts.exclude(summary="").update(summary=ERASED_TEXT)
    contacts.exclude(body="").update(body=ERASED_TEXT)
    mail = InboundMessage.objects.filter(case_id__in=case_ids)
    for address in addresses:
        mail = mail | InboundMessage.objects.filter(from_address__iexact=address)
    mail.update(
        raw=b"", text="", html="", subject=ERASED_TEXT, from_name="", from_address="", mail_from=""
    )


@dataclass(frozen=True)
class ErasurePreview:
    """What erasing ``customer`` would redact, for a confirmation before it is done;
    ``refusal`` says why it would be refused ("" when it would not)."""

    customer: Customer
    merged_records: int
    cases: int
    notes: int
    contacts: int
    inbound_mail: int
    handoffs: int
    notifications: int
    refusal: str


def customer_erasure_preview(*, customer: Customer) -> ErasurePreview:
    """Count what ``customer_erase`` would redact; reads only, locks nothing."""
    refusal = ""
    if customer.merged_into_id is not None:
        refusal = "merged into another record: erase the surviving record"
    elif customer.erased_at is not None:
        refusal = "already erased"
    records = _records_of(customer, lock=False)
    case_ids = list(
        Case.objects.filter(customer_id__in=[r.pk for r in records]).values_list("pk", flat=True)
    )
    handoff_ids = list(Handoff.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
    tags = [f"case:{pk}" for pk in case_ids] + [f"handoff:{pk}" for pk in handoff_ids]
    return ErasurePreview(
        customer=customer,
        merged_records=len(records) - 1,
        cases=len(case_ids),
        notes=CaseEvent.objects.filter(case_id__in=case_ids, kind=EventKind.NOTE).count(),
        contacts=Contact.objects.filter(case_id__in=case_ids).count(),
        inbound_mail=InboundMessage.objects.filter(case_id__in=case_ids).count(),
        handoffs=len(handoff_ids),
        notifications=notifications_concerning_count(
            addresses=_addresses(records, case_ids), tags=tags
        ),
        refusal=refusal,
    )


@transaction.atomic
def customer_erase(*, customer: Customer, by: User) -> Customer:
    """Erase a customer's personal data (staff only; once): see the module docstring.
    Their customer links stop working; pending notices to them are cancelled."""
    if not getattr(by, "is_staff", False):
        raise CaseRuleError(
            "not_staff", "Only staff can erase a customer's personal data.", status=403
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id is not None:
        raise CaseRuleError(
            "customer_merged",
            "This record was merged into another; erase the surviving record.",
            status=409,
        )
    if customer.erased_at is not None:
        raise CaseRuleError(
            "customer_erased", "This customer's personal data is already erased.", status=409
        )
    now = timezone.now()
    records = _records_of(customer)
    cases = Case.objects.filter(customer_id__in=[r.pk for r in records])
    case_ids = list(cases.select_for_update().order_by("pk").values_list("pk", flat=True))
    addresses = _addresses(records, case_ids)

    _redact_timeline(case_ids)
    Case.objects.filter(pk__in=case_ids).update(
        subject=ERASED_TEXT, description="", link_generation=F("link_generation") + 1
    )
    tags = [f"case:{pk}" for pk in case_ids]
    tags.extend(_redact_handoffs(case_ids))
    _redact_conversation(case_ids, addresses)
    # The owner's calls to make name the customer and their number ("Call Mrs Campbell on
    # 07700 900021: …"); why the task exists is the product's own words and stays.
    OwnerTask.objects.filter(case_id__in=case_ids).update(text=ERASED_TEXT)
    for handler in hooks.customer_erased:
        tags.extend(handler(case_ids=case_ids, placeholder=ERASED_TEXT))
    notifications_redact(addresses=addresses, tags=tags, redact_context=redact_json, now=now)
    for record in records:
        for name in Customer.PERSONAL_FIELDS:
            setattr(record, name, "")
        record.full_name, record.erased_at = ERASED_NAME, now
        record.save(update_fields=[*Customer.PERSONAL_FIELDS, "erased_at"])
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=pk,
                kind=EventKind.CUSTOMER_ERASED,
                actor=by,
                at=now,
                data={"customer_id": customer.pk},
            )
            for pk in case_ids
        ]
    )
    return customer


__all__ = [
    "ERASED_NAME",
    "ERASED_TEXT",
    "ErasurePreview",
    "customer_erase",
    "customer_erasure_preview",
    "redact_json",
]
