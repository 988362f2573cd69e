"""The parts generated after the base: the outbox with its history, promises, contacts and
the question at close."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.apps import apps
from django.db import connection
from django.db.models import Model

from bench.generate_rows import YEARS, Counts, Table, _log, _model, _reset_sequences


def generate_notifications(counts: Counts, now: datetime, rng: random.Random) -> None:
    """The outbox with its history: 1 % pending (half of them due), 1 % failed, the rest
    finished. Finished rows live in the delivery log when the outbox has one (the hot table
    keeps only live work), otherwise in the outbox itself."""
    Notification = apps.get_model("notifications.Notification")
    DeliveryLog = _model("notifications.DeliveryLog")
    NotificationTag = _model("notifications.NotificationTag")
    start = now - timedelta(days=365 * YEARS)
    total = counts.notifications
    step = (now - start).total_seconds() / total
    pending = max(1, round(total * 0.01))
    templates = ["cases/email/case_opened", "cases/email/handoff_introduction"]
    live: list[tuple] = []
    finished: list[tuple] = []
    tags: list[tuple] = []
    for nid in range(1, total + 1):
        case_id = rng.randint(1, counts.cases)
        cust = rng.randint(1, counts.customers)
        if nid > total - pending:
            status = "pending"
            # half due in the last hour, half due over the next two weeks
            if nid % 2:
                send_after = now - timedelta(seconds=rng.randint(1, 3600))
            else:
                send_after = now + timedelta(minutes=rng.randint(5, 14 * 24 * 60))
            sent_at, attempts = None, 0
        else:
            send_after = start + timedelta(seconds=step * nid)
            r = rng.random()
            status = "sent" if r < 0.98 else ("failed" if r < 0.99 else "cancelled")
            sent_at = send_after + timedelta(seconds=2) if status == "sent" else None
            attempts = 1 if status != "cancelled" else 0
        tag = f"case:{case_id}"
        common = (
            nid,
            "email",
            f"customer{cust}@example.com",
            f"Customer {cust}",
            "customer",
            templates[nid % len(templates)],
            f"bench:{nid}",
            json.dumps([tag]),
            status,
            attempts,
            send_after,
            sent_at,
            send_after,
        )
        if DeliveryLog is not None and status in ("sent", "cancelled"):
            finished.append((*common, sent_at or send_after, ""))
        else:
            context = {"case_ref": f"CASE-{case_id:06d}", "customer_name": f"Customer {cust}"}
            live.append(
                (
                    *common,
                    json.dumps(context),
                    "[]",
                    "550 mailbox unavailable" if status == "failed" else "",
                )
            )
            if status == "pending":
                tags.append((len(tags) + 1, nid, tag))
    common_cols = [
        "id",
        "channel",
        "recipient_address",
        "recipient_name",
        "recipient_kind",
        "template",
        "dedupe_key",
        "tags",
        "status",
        "attempts",
        "send_after",
        "sent_at",
        "created_at",
    ]
    n = Table(Notification, [*common_cols, "context", "attachments", "last_error"]).copy(iter(live))
    _log(f"{n} notifications in the outbox")
    models: list[type[Model]] = [Notification]
    if DeliveryLog is not None:
        n = Table(DeliveryLog, [*common_cols, "finished_at", "provider_message_id"]).copy(
            iter(finished)
        )
        _log(f"{n} finished notifications in the delivery log")
    if NotificationTag is not None:
        Table(NotificationTag, ["id", "notification_id", "tag"]).copy(iter(tags))
        models.append(NotificationTag)
    _reset_sequences(models)


KINDS = ["callback", "update", "refund", "delivery", "resolution", "callback", "update"]
PROMISES = {
    "first_response": "We will reply to your message",
    "callback": "Call you back before noon on Friday",
    "update": "Send you an update on the courier's answer",
    "refund": "Confirm the refund in writing",
    "delivery": "Make sure the replacement is delivered",
    "resolution": "Have this sorted out",
}


def generate_commitments(counts: Counts, now: datetime, rng: random.Random) -> None:
    """Promises: every open case's earliest open promise is due at its ``next_due_at`` (so
    the queue order and the commitments agree); about 10 % of all promises are open, the
    rest ended (mostly kept; some missed, withdrawn or renegotiated into a successor)."""
    Commitment = apps.get_model("commitments.Commitment")
    BusinessCalendar = _model("commitments.BusinessCalendar")
    Team = apps.get_model("cases.Team")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, owner_id, status, next_due_at, created_at, closed_at, updated_at, team_id "
            'FROM "cases_case" ORDER BY id'
        )
        cases = cur.fetchall()
    n_cases = len(cases)
    n_open_cases = sum(1 for c in cases if c[2] in ("open", "waiting_on_customer"))
    n_closed = n_cases - n_open_cases
    target_open = round(counts.commitments * 0.10)
    with_due = sum(1 for c in cases if c[3] is not None)
    second_share = max(0.0, min(1.0, (target_open - with_due) / max(with_due, 1)))
    # ended promises: closed cases take twice the share of open ones
    ended_target = counts.commitments - target_open
    per_open = ended_target / max(n_closed * 2 + n_open_cases, 1)
    per_closed = 2 * per_open
    hour = timedelta(hours=1)

    def ended_count(mean: float) -> int:
        whole = int(mean)
        return whole + (1 if rng.random() < mean - whole else 0)

    # promises the measured writes made on an earlier run stay; new ids start after them
    with connection.cursor() as cur:
        cur.execute('SELECT COALESCE(max(id), 0) FROM "commitments_commitment"')
        first_id = int(cur.fetchone()[0])

    def rows() -> Iterator[tuple]:
        cid = first_id
        for case_id, owner, status, next_due, created, closed_at, updated, team in cases:
            is_open = status in ("open", "waiting_on_customer")
            last = min(now, closed_at or updated or now)
            k = ended_count(per_open if is_open else per_closed)
            when = created
            for j in range(k):
                kind = "first_response" if j == 0 else KINDS[(case_id + j) % len(KINDS)]
                made = when + (last - when) * rng.uniform(0.0, 0.3)
                due = made + timedelta(minutes=rng.randint(30, 3 * 24 * 60))
                r = rng.random()
                renegotiable = j < k - 1
                if r < 0.06:
                    st, ended, reason, succ = "missed", due + timedelta(minutes=1), "", None
                elif r < 0.10:
                    st, ended, reason, succ = (
                        "withdrawn",
                        made + (due - made) / 2,
                        "The customer cancelled the order, so this is no longer needed.",
                        None,
                    )
                elif r < 0.15 and renegotiable:
                    st, ended, reason, succ = (
                        "renegotiated",
                        made + (due - made) / 2,
                        "The courier needs two more days; we told the customer.",
                        cid + 2,
                    )
                else:
                    late = rng.random() < 0.1
                    st = "kept"
                    ended = due + hour if late else made + (due - made) * rng.uniform(0.2, 0.95)
                    reason, succ = "", None
                ended = min(ended, now - timedelta(minutes=1))
                if ended < made:
                    ended = made
                cid += 1
                yield (
                    cid,
                    case_id,
                    team,
                    None if kind == "first_response" else owner,
                    owner,
                    PROMISES.get(kind, "Get back to you"),
                    kind,
                    due,
                    made,
                    due - hour,
                    st,
                    ended,
                    None if st == "missed" else owner,
                    reason,
                    succ,
                )
                when = max(when, ended)
            if is_open and next_due is not None:
                dues = [next_due]
                if rng.random() < second_share:
                    dues.append(next_due + timedelta(hours=rng.randint(2, 96)))
                for due in dues:
                    made = max(created, min(now, due) - timedelta(hours=rng.randint(1, 72)))
                    kind = KINDS[(case_id + len(dues)) % len(KINDS)]
                    cid += 1
                    yield (
                        cid,
                        case_id,
                        team,
                        owner,
                        owner,
                        PROMISES.get(kind, "Get back to you"),
                        kind,
                        due,
                        made,
                        due - hour,
                        "open",
                        None,
                        None,
                        "",
                        None,
                    )

    n = Table(
        Commitment,
        [
            "id",
            "case_id",
            "team_id",
            "made_by_id",
            "owner_id",
            "description",
            "kind",
            "due_at",
            "made_at",
            "at_risk_from",
            "status",
            "ended_at",
            "ended_by_id",
            "end_reason",
            "successor_id",
        ],
    ).copy(rows())
    models: list[type[Model]] = [Commitment]
    if BusinessCalendar is not None:
        team_ids = list(Team.objects.filter(calendar__isnull=True).values_list("id", flat=True))
        with connection.cursor() as cur:
            cur.execute(f'SELECT COALESCE(max(id), 0) FROM "{BusinessCalendar._meta.db_table}"')
            first_cal = int(cur.fetchone()[0])
        Table(BusinessCalendar, ["id", "team_id", "holiday_country"]).copy(
            (first_cal + i, tid, "GB") for i, tid in enumerate(team_ids, start=1)
        )
        models.append(BusinessCalendar)
    _reset_sequences(models)
    _log(f"{n} commitments for {n_cases} cases")


def generate_contacts(counts: Counts, now: datetime, rng: random.Random) -> None:
    """Exchanges with the customer, what first-response figures are measured from: most
    cases open with the customer's own contact (their email, call or chat) and get the
    owner's first reply minutes to a day later; a case still new may be unanswered."""
    Contact = apps.get_model("cases.Contact")
    with connection.cursor() as cur:
        cur.execute(
            'SELECT id, channel, owner_id, created_at FROM "cases_case" ORDER BY id',
        )
        cases = cur.fetchall()
    with connection.cursor() as cur:
        cur.execute('SELECT COALESCE(max(id), 0) FROM "cases_contact"')
        first_id = int(cur.fetchone()[0])
    live = {"phone": 3 * 60, "chat": 5 * 60}

    def rows() -> Iterator[tuple]:
        cid = first_id
        for case_id, channel, owner, created in cases:
            if rng.random() < 0.7:
                cid += 1
                at = created - timedelta(seconds=rng.randint(0, 600))
                yield (cid, case_id, "from_customer", channel, at, None, at)
            wait = rng.randint(10, live[channel]) if channel in live else rng.randint(300, 86400)
            replied = created + timedelta(seconds=wait)
            if replied < now and rng.random() < 0.95:
                cid += 1
                yield (cid, case_id, "to_customer", channel, replied, owner, replied)

    n = Table(
        Contact, ["id", "case_id", "direction", "channel", "at", "agent_id", "created_at"]
    ).copy(rows())
    _reset_sequences([Contact])
    _log(f"{n} contacts for {len(cases)} cases")


def generate_satisfaction(counts: Counts, now: datetime, rng: random.Random) -> None:
    """The question at close for cases closed in the last 26 weeks, three in four answered
    within two days (lower after a hand-off), each counted for its final owner: what the
    dashboard's satisfaction figures and the reports' satisfaction API read."""
    Answer = apps.get_model("cases.SatisfactionAnswer")
    Holder = apps.get_model("cases.SatisfactionHolder")
    with connection.cursor() as cur:
        cur.execute(
            'SELECT id, team_id, owner_id, closed_at, owner_count FROM "cases_case" '
            "WHERE closed_at >= %s ORDER BY id",
            [now - timedelta(weeks=26)],
        )
        cases = cur.fetchall()
    answers: list[tuple] = []
    holders: list[tuple] = []
    for aid, (case_id, team, owner, closed_at, owner_count) in enumerate(cases, start=1):
        handoffs = max(owner_count - 1, 0)
        missed = 1 if rng.random() < 0.06 else 0
        answered = closed_at + timedelta(hours=rng.uniform(1, 48))
        score = answered_at = None
        if rng.random() < 0.75 and answered < now:
            mean = 4.5 - 0.5 * (handoffs > 0) - 1.8 * missed
            score, answered_at = min(5, max(1, round(rng.gauss(mean, 0.8)))), answered
        answers.append(
            (aid, case_id, team, owner, closed_at, handoffs, 1, 0, missed, score,
             answered_at, answered_at)
        )  # fmt: skip
        holders.append((aid, aid, owner, True))
    n = Table(
        Answer,
        ["id", "case_id", "team_id", "final_owner_id", "asked_at", "handoffs", "promises_kept",
         "promises_renegotiated", "promises_missed", "score", "answered_at",
         "first_answered_at"],
    ).copy(answers)  # fmt: skip
    Table(Holder, ["id", "answer_id", "agent_id", "final"]).copy(holders)
    _reset_sequences([Answer, Holder])
    _log(f"{n} questions at close, {sum(1 for a in answers if a[9])} answered")
