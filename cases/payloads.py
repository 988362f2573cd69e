"""Read payloads built from ``.values()`` rows with plain functions, for the hot read paths.

A page of the agent queue through DRF's serializers spent most of its time in field
machinery and in parsing datetimes of joined rows it never shows. These functions build the
same JSON from the columns the response uses and nothing else; the serializers in
``cases.api`` stay the documented shape (drf-spectacular reads them) and a test holds the two
equal for the same rows.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cases import hooks
from cases.customers.phones import national
from cases.models import Case, format_ref
from cases.overdue import is_overdue
from cases.recipients import display_name

# The columns a queue row shows (``QueueRowOut``), and the two its flags need.
QUEUE_COLUMNS = (
    "id",
    "status",
    "priority",
    "channel",
    "subject",
    "customer_id",
    "customer__full_name",
    "customer__given_name",
    "customer__family_name",
    "customer__title",
    "customer__addressed_as",
    "customer__email",
    "customer__phone",
    "customer__time_zone",
    "customer__language",
    "team_id",
    "team__name",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "owner__agent_profile__display_name",
    "owner_since",
    "owner_count",
    "next_due_at",
    "created_at",
    "updated_at",
    "closed_at",
    "awaiting_reply_since",
)


def iso(value: datetime | None, tz: tzinfo | None = None) -> str | None:
    """An instant as DRF's ``DateTimeField`` writes it: in the current time zone (``tz``,
    when the caller has already read it for a page of rows), ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def person_name(display: str | None, first: str, last: str, username: str) -> str:
    """``cases.recipients.display_name`` from columns: the profile's name, else the full name,
    else the username."""
    if display:
        return display
    return f"{first} {last}".strip() or username


def queue_values(cases: QuerySet[Case]) -> QuerySet[Any]:
    """The queue's cases as rows of exactly the columns a queue row shows (and the queue's
    ``covering_now`` hint)."""
    return cases.values(
        *QUEUE_COLUMNS,
        *(a for a in ("covering_now", "notice_undelivered") if a in cases.query.annotations),
    )


class QueueRows:
    """The queue for a paginator: sliced as rows of ``QUEUE_COLUMNS``, counted on the cases
    alone (a count of the rows kept their joins: customer, team and owner for every case)."""

    def __init__(self, cases: QuerySet[Case]) -> None:
        self._cases = cases
        self._rows = queue_values(cases)
        self.ordered = True

    def count(self) -> int:
        return self._cases.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: Any) -> Any:
        return self._rows[key]


def case_row_payload(row: dict[str, Any], tz: tzinfo | None = None) -> dict[str, Any]:
    """A case as ``CaseOut`` represents it, from a row of ``QUEUE_COLUMNS``."""
    tz = tz or timezone.get_current_timezone()
    return {
        "ref": format_ref(row["id"]),
        "status": row["status"],
        "priority": row["priority"],
        "channel": row["channel"],
        "subject": row["subject"],
        "customer": {
            "id": row["customer_id"],
            "name": row["customer__full_name"],
            "given_name": row["customer__given_name"],
            "family_name": row["customer__family_name"],
            "title": row["customer__title"],
            "addressed_as": row["customer__addressed_as"],
            "email": row["customer__email"],
            "phone": row["customer__phone"],
            "phone_national": national(row["customer__phone"]),
            "time_zone": row["customer__time_zone"],
            "language": row["customer__language"],
        },
        "team": {"id": row["team_id"], "name": row["team__name"]},
        "owner": {
            "id": row["owner_id"],
            "name": person_name(
                row["owner__agent_profile__display_name"],
                row["owner__first_name"],
                row["owner__last_name"],
                row["owner__username"],
            ),
        },
        "owner_since": iso(row["owner_since"], tz),
        "owner_count": row["owner_count"],
        "next_due_at": iso(row["next_due_at"], tz),
        "created_at": iso(row["created_at"], tz),
        "updated_at": iso(row["updated_at"], tz),
        "closed_at": iso(row["closed_at"], tz),
    }


def case_detail_of(case: Case) -> dict[str, Any]:
    """A case as ``CaseDetailOut`` represents it, from the case read with its customer, team,
    owner and the owner's profile (``selectors.case_get``)."""
    tz = timezone.get_current_timezone()
    customer, owner = case.customer, case.owner
    return {
        "ref": case.ref,
        "status": case.status,
        "priority": case.priority,
        "channel": case.channel,
        "subject": case.subject,
        "customer": {
            "id": customer.pk,
            "name": customer.full_name,
            "given_name": customer.given_name,
            "family_name": customer.family_name,
            "title": customer.title,
            "addressed_as": customer.addressed_as,
            "email": customer.email,
            "phone": customer.phone,
            "phone_national": customer.phone_national,
            "time_zone": customer.time_zone,
            "language": customer.language,
        },
        "team": {"id": case.team.pk, "name": case.team.name},
        "owner": None if owner is None else {"id": owner.pk, "name": display_name(owner)},
        "owner_since": iso(case.owner_since, tz),
        "owner_count": case.owner_count,
        "next_due_at": iso(case.next_due_at, tz),
        "created_at": iso(case.created_at, tz),
        "updated_at": iso(case.updated_at, tz),
        "closed_at": iso(case.closed_at, tz),
        "description": case.description,
    }


def queue_payload(rows: list[dict[str, Any]], *, now: datetime | None = None) -> list[dict]:
    """A page of the queue as ``QueueRowOut`` represents it, flags by ``selectors.queue_rows``'
    rule: the apps in ``hooks.queue_flags`` answer (one query), else overdue when the next
    promise is past due."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    answered = hooks.collect_queue_flags([r["id"] for r in rows], now)
    out = []
    for row in rows:
        flags = answered.get(row["id"]) or hooks.QueueFlags(
            overdue=is_overdue(row["next_due_at"], now)
        )
        payload = case_row_payload(row, tz)
        payload["overdue"] = flags.overdue
        payload["at_risk"] = flags.at_risk
        payload["customer_replied"] = row["awaiting_reply_since"] is not None
        payload["notice_undelivered"] = bool(row.get("notice_undelivered"))
        out.append(payload)
    return out


# The columns an offer waiting shows (``queue_api.OfferWaitingOut``): four tables, where the
# documented serialiser's rows joined ten (planning the join cost more than running it).
OFFER_COLUMNS = (
    "id",
    "case_id",
    "case__subject",
    "from_agent_id",
    "from_agent__username",
    "from_agent__first_name",
    "from_agent__last_name",
    "from_agent__agent_profile__display_name",
    "reason",
    "offered_at",
)


def covering_payload(sections: list[Any]) -> list[dict[str, Any]]:
    """``selectors.queue_covering``'s sections as ``queue_api.CoveringOut`` documents them."""
    tz = timezone.get_current_timezone()
    now = timezone.now()
    return [
        {
            "owner": {"id": section.owner.pk, "name": section.owner_name},
            "count": len(section.cases),
            "cases": [
                {
                    "ref": case.ref,
                    "subject": case.subject,
                    "customer": case.customer.full_name,
                    "status": case.status,
                    "next_due_at": iso(case.next_due_at, tz),
                    "overdue": is_overdue(case.next_due_at, now),
                    "customer_replied": case.awaiting_reply_since is not None,
                }
                for case in section.cases
            ],
        }
        for section in sections
    ]


def offers_waiting_payload(offers: QuerySet[Any]) -> list[dict[str, Any]]:
    """Offers waiting as ``OfferWaitingOut`` represents them, from rows of ``OFFER_COLUMNS``."""
    return offer_rows_payload(list(offers.values(*OFFER_COLUMNS)))


def offer_rows_payload(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``offers_waiting_payload`` of rows read already."""
    tz = timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "case": format_ref(row["case_id"]),
            "subject": row["case__subject"],
            "from_agent": {
                "id": row["from_agent_id"],
                "name": person_name(
                    row["from_agent__agent_profile__display_name"],
                    row["from_agent__first_name"],
                    row["from_agent__last_name"],
                    row["from_agent__username"],
                ),
            },
            "reason": row["reason"],
            "offered_at": iso(row["offered_at"], tz),
        }
        for row in rows
    ]


OPEN_TASK_COLUMNS = ("id", "case_id", "text", "reason", "source_template", "created_at")


def open_tasks_payload(tasks: QuerySet[Any]) -> list[dict[str, Any]]:
    """Open owner tasks as ``OwnerTaskOut`` represents them; an open task has no ``done_at``,
    ``done_by`` or contact (``ownertask_done_by_whom``), so no person is joined."""
    return task_rows_payload(list(tasks.filter(done_at__isnull=True).values(*OPEN_TASK_COLUMNS)))


def task_rows_payload(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``open_tasks_payload`` of rows of ``OPEN_TASK_COLUMNS`` read already."""
    tz = timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "case": format_ref(row["case_id"]),
            "text": row["text"],
            "reason": row["reason"],
            "source_template": row["source_template"],
            "created_at": iso(row["created_at"], tz),
            "done_at": None,
            "done_by": None,
            "contact": None,
        }
        for row in rows
    ]


# --- the case's detail (the API): its timeline, hand-offs and the customer's history --------


def _person_columns(prefix: str) -> tuple[str, ...]:
    return (
        f"{prefix}_id",
        f"{prefix}__username",
        f"{prefix}__first_name",
        f"{prefix}__last_name",
        f"{prefix}__agent_profile__display_name",
    )


def _person(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    """``PersonOut`` from a row of ``_person_columns(prefix)``; None for no one."""
    if row[f"{prefix}_id"] is None:
        return None
    return {
        "id": row[f"{prefix}_id"],
        "name": person_name(
            row[f"{prefix}__agent_profile__display_name"],
            row[f"{prefix}__first_name"],
            row[f"{prefix}__last_name"],
            row[f"{prefix}__username"],
        ),
    }


TIMELINE_COLUMNS = ("id", "kind", "at", "data", *_person_columns("actor"))
HANDOFF_COLUMNS = (
    "id",
    "status",
    "reason",
    "offered_at",
    "decided_at",
    *_person_columns("from_agent"),
    *_person_columns("to_agent"),
)


def timeline_payload(events: QuerySet[Any]) -> list[dict[str, Any]]:
    """Events as ``EventOut`` represents them (the queryset ordered and sliced)."""
    return timeline_rows_payload(list(events.values(*TIMELINE_COLUMNS)))


def timeline_rows_payload(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``timeline_payload`` of rows of ``TIMELINE_COLUMNS`` read already."""
    tz = timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "kind": row["kind"],
            "at": iso(row["at"], tz),
            "actor": _person(row, "actor"),
            "data": row["data"],
        }
        for row in rows
    ]


def handoffs_payload(handoffs: QuerySet[Any]) -> list[dict[str, Any]]:
    """Hand-offs as ``HandoffBriefOut`` represents them."""
    return handoff_rows_payload(list(handoffs.values(*HANDOFF_COLUMNS)))


def handoff_rows_payload(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``handoffs_payload`` of rows of ``HANDOFF_COLUMNS`` read already."""
    tz = timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "from_agent": _person(row, "from_agent"),
            "to_agent": _person(row, "to_agent"),
            "status": row["status"],
            "reason": row["reason"],
            "offered_at": iso(row["offered_at"], tz),
            "decided_at": iso(row["decided_at"], tz),
        }
        for row in rows
    ]


def history_rows(cases: QuerySet[Case]) -> list[dict[str, Any]]:
    """The customer's other cases as rows of what ``HistoryOut`` shows."""
    columns = ("id", "subject", "status", "channel", "created_at", "team_id")
    return list(cases.values(*columns, *_person_columns("owner")))


def history_payload(rows: list[dict[str, Any]], team_ids: set[int]) -> list[dict[str, Any]]:
    """``HistoryOut``: the owner only for the reader's own teams' cases."""
    tz = timezone.get_current_timezone()
    return [
        {
            "ref": format_ref(row["id"]),
            "subject": row["subject"],
            "status": row["status"],
            "channel": row["channel"],
            "created_at": iso(row["created_at"], tz),
            "owner": _person(row, "owner") if row["team_id"] in team_ids else None,
        }
        for row in rows
    ]
