"""Rule: what integrators hear of a case. Every webhook event of a case is one of its timeline
events (``case_event_record`` calls ``case_event_webhooks``), plus ``notice.failed`` when a
customer notice cannot be delivered.

Events go through the outbox in the caller's transaction (signed, retried) to the endpoints
of the case's team (scope ``team:<id>``), in the order they happened for each case
(``order=case:<id>``). ``sequence`` in every payload is the timeline event's id: it only
grows within a case, so a receiver can also order or drop stale events itself.

``EVENTS`` is the catalogue: each event's description and its own payload fields (beside
``COMMON_FIELDS``), as the OpenAPI document and the endpoints API show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, EventKind
from cases.recipients import display_name
from notifications.models import WebhookEndpoint
from notifications.webhooks import webhook_emit, webhook_endpoints_active

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass(frozen=True)
class Field:
    """One payload field: its OpenAPI type, what it says, and the timeline data it comes from."""

    type: str
    description: str
    source: str = ""
    nullable: bool = False


@dataclass(frozen=True)
class EventSpec:
    description: str
    fields: dict[str, Field] = field(default_factory=dict)


_STATUS = {
    "from": Field("string", "The status before.", "from"),
    "to": Field("string", "The status now.", "to"),
    "reason": Field("string", "Why, when someone said (may be empty).", "reason"),
}
_HANDOFF = {
    "handoff": Field("integer", "The hand-off's id.", "handoff_id"),
    "to_agent": Field("integer", "The receiver's user id.", "to_agent_id"),
}
_CONTACT = {
    "contact": Field("integer", "The contact's id.", "contact_id"),
    "direction": Field("string", "to_customer or from_customer.", "direction"),
    "channel": Field("string", "The contact's channel.", "channel"),
    "summary": Field("string", "The summary given (may be empty).", "summary"),
    "excerpt": Field("string", "The start of the text.", "excerpt"),
    "truncated": Field("boolean", "Whether the excerpt is shorter than the text.", "truncated"),
}
_TASK = {
    "task": Field("integer", "The task's id.", "task_id"),
    "text": Field("string", "What the owner is to do.", "text"),
}

# Timeline-backed events, then the ones that are not (``notice.failed``) or that other
# parts emit (``case.owner_changed``, ``commitment.*``), listed for the documentation.
EVENTS: dict[str, EventSpec] = {
    "case.opened": EventSpec(
        "A case was opened (the API, a page, inbound mail).",
        {
            "assigned_by_rule": Field(
                "boolean", "The owner was chosen by the team's rule.", "assigned_by_rule"
            )
        },
    ),
    "case.status_changed": EventSpec(
        "The status moved between open and waiting (a customer's reply too).", _STATUS
    ),
    "case.resolved": EventSpec("The case was resolved.", _STATUS),
    "case.closed": EventSpec("The case was closed.", _STATUS),
    "case.reopened": EventSpec("A resolved or closed case is open again.", _STATUS),
    "handoff.offered": EventSpec(
        "The owner (or a manager) offered the case to another agent.",
        {
            **_HANDOFF,
            "from_agent": Field("integer", "The offering owner's user id.", "from_agent_id"),
            "reason": Field("string", "Why: shift_end, expertise, escalation, …", "reason"),
            "to_team": Field("integer", "The team that takes the case.", "to_team_id", True),
        },
    ),
    "handoff.accepted": EventSpec(
        "The receiver accepted: ownership moved (``case.owner_changed`` follows).",
        {
            **_HANDOFF,
            "from_agent": Field("integer", "The previous owner's user id.", "from_agent_id"),
            "to_team": Field("integer", "The team that took the case.", "to_team_id", True),
        },
    ),
    "handoff.declined": EventSpec(
        "The receiver declined; the owner keeps the case.",
        {**_HANDOFF, "reason": Field("string", "The receiver's reason.", "reason")},
    ),
    "handoff.cancelled": EventSpec("The offer was withdrawn; the owner keeps the case.", _HANDOFF),
    "handoff.expired": EventSpec(
        "The offer ended unanswered (its case closed, or it ran out).", _HANDOFF
    ),
    "contact.recorded": EventSpec(
        "A contact with the customer was recorded, either way, on any channel.",
        {**_CONTACT, "automatic": Field("boolean", "An auto-reply or bounce.", "")},
    ),
    "customer.replied": EventSpec(
        "The customer got in touch (sent with ``contact.recorded``).", _CONTACT
    ),
    "task.created": EventSpec(
        "A notice had no route to the customer: the owner has a call to make.",
        {**_TASK, "reason": Field("string", "Why the notice had no route.", "reason")},
    ),
    "task.done": EventSpec(
        "The owner made the call.",
        {**_TASK, "call": Field("integer", "The contact that did it.", "call_id")},
    ),
    "notice.failed": EventSpec(
        "A notice to the customer could not be delivered (no address, refused, given up).",
        {
            "notice": Field("integer", "The notice's delivery id.", "notice"),
            "template": Field("string", "Which notice.", "template"),
            "reason": Field("string", "no_route: … or delivery_failed.", "reason"),
        },
    ),
    "case.owner_changed": EventSpec(
        "Ownership moved by an accepted hand-off (payload: case ref, handoff, from_agent, "
        "owner{id,name}, owner_since, team; no common fields)."
    ),
}
for _name in ("made", "kept", "renegotiated", "withdrawn", "missed"):
    EVENTS[f"commitment.{_name}"] = EventSpec(
        f"A promise was {_name} (payload: the commitment as the API names its fields; no "
        "common fields)."
    )

COMMON_FIELDS: dict[str, Field] = {
    "case": Field("object", "ref, status, priority, channel, subject, team, owner{id,name}"),
    "sequence": Field("integer", "The timeline event's id: grows within a case."),
    "at": Field("string", "When it happened (ISO 8601, UTC)."),
    "actor": Field("integer", "Who did it (user id); null for the product itself.", "", True),
}

_BY_KIND: dict[str, list[str]] = {
    EventKind.OPENED: ["case.opened"],
    EventKind.REOPENED: ["case.reopened"],
    EventKind.HANDOFF_OFFERED: ["handoff.offered"],
    EventKind.HANDOFF_ACCEPTED: ["handoff.accepted"],
    EventKind.HANDOFF_DECLINED: ["handoff.declined"],
    EventKind.HANDOFF_CANCELLED: ["handoff.cancelled"],
    EventKind.HANDOFF_EXPIRED: ["handoff.expired"],
    EventKind.CONTACT_TO_CUSTOMER: ["contact.recorded"],
    EventKind.CONTACT_FROM_CUSTOMER: ["contact.recorded", "customer.replied"],
    EventKind.CONTACT_AUTOMATIC: ["contact.recorded"],
    EventKind.OWNER_TASK_CREATED: ["task.created"],
    EventKind.OWNER_TASK_DONE: ["task.done"],
}


def webhook_events_of(event: CaseEvent) -> list[str]:
    """The webhook events a timeline event is (none for notes, priorities, covers …)."""
    if event.kind == EventKind.STATUS_CHANGED:
        to = event.data.get("to")
        if to == CaseStatus.CLOSED:
            return ["case.closed"]
        if to == CaseStatus.RESOLVED:
            return ["case.resolved"]
        return ["case.status_changed"]
    return _BY_KIND.get(event.kind, [])


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def case_summary(case: Case) -> dict[str, Any]:
    """The case as every event names it (the API's field names)."""
    return {
        "ref": case.ref,
        "status": case.status,
        "priority": case.priority,
        "channel": case.channel,
        "subject": case.subject,
        "team": case.team_id,
        "owner": {"id": case.owner_id, "name": display_name(case.owner)},
    }


def _emit(
    *,
    case: Case,
    name: str,
    key: str,
    build: Any,
    sequence: int,
    at: datetime,
    actor: int | None,
    listening: list[WebhookEndpoint] | None = None,
) -> None:
    def payload() -> dict[str, Any]:
        return {
            "case": case_summary(case),
            "sequence": sequence,
            "at": _iso(at),
            "actor": actor,
            **build(),
        }

    webhook_emit(
        scope=f"team:{case.team_id}",
        event=name,
        payload=payload,
        dedupe_key=key,
        order=f"case:{case.pk}",
        tags=[f"case:{case.pk}"],
        listening=listening,
    )


def case_event_webhooks(event: CaseEvent) -> None:
    """Queue the webhook events of a timeline event just recorded, in its transaction: one
    query when nobody listens."""
    names = webhook_events_of(event)
    if not names:
        return
    listening = webhook_endpoints_active(f"team:{event.case.team_id}")
    if not listening:
        return
    for name in names:
        spec = EVENTS[name]

        def build(spec: EventSpec = spec) -> dict[str, Any]:
            data = event.data
            out = {
                k: data.get(f.source, "" if f.type == "string" else None)
                for k, f in spec.fields.items()
                if f.source
            }
            if "automatic" in spec.fields:
                out["automatic"] = event.kind == EventKind.CONTACT_AUTOMATIC
            return out

        _emit(
            case=event.case,
            name=name,
            key=f"case-event:{event.pk}:{name}",
            build=build,
            sequence=event.pk,
            at=event.at,
            actor=event.actor_id,
            listening=listening,
        )


def notice_failed_emit(*, case: Case, notice_id: int, template: str, reason: str) -> None:
    """``notice.failed``, in the caller's transaction; its sequence is the case's latest
    timeline event's."""
    latest = CaseEvent.objects.filter(case_id=case.pk).order_by("-id").values_list("id", flat=True)
    _emit(
        case=case,
        name="notice.failed",
        key=f"notice:{notice_id}:failed",
        build=lambda: {"notice": notice_id, "template": template, "reason": reason},
        sequence=latest.first() or 0,
        at=timezone.now(),
        actor=None,
    )


def notice_delivery_failed(*, notification: Notification) -> None:
    """A ``notifications.hooks.delivery_failed`` handler: a customer notice of a case that
    failed for good is ``notice.failed`` (messages to staff and webhooks are not)."""
    if notification.recipient_kind != "customer":
        return
    case_ids = [int(t[5:]) for t in notification.tags if t[5:].isdigit() and t[:5] == "case:"]
    case = Case.objects.select_related("owner").filter(pk__in=case_ids[:1]).first()
    if case is None:
        return
    notice_failed_emit(
        case=case,
        notice_id=notification.pk,
        template=notification.template,
        reason="delivery_failed",
    )
