"""The data generator: a contact centre with years of history, written with COPY.

At scale 1: 20 teams, 500 agents, 200,000 customers, 1,000,000 cases (80 % closed) with their
timelines, 300,000 hand-offs, 2,000,000 commitments (10 % open) and 2,000,000 notifications
(1 % pending). Every count scales linearly (at least one of each); one "hot" agent owns 300
open cases (fewer below scale 0.01). Rows are written in generation order with explicit
primary keys, so references need no lookups; sequences are moved past them afterwards.

Each part is recorded in the marker table when it is complete, so a later run at the same
scale reuses it, and a part whose model appears later (an app still being built) is added
on the next run.
"""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Model

from bench.db import marker_get, marker_set

SEED = 20261125
YEARS = 3
HOT_OPEN_CASES = 300


@dataclass(frozen=True)
class Counts:
    scale: float
    teams: int
    agents: int
    customers: int
    cases: int
    handoffs: int
    commitments: int
    notifications: int
    hot_open: int

    @classmethod
    def for_scale(cls, scale: float) -> Counts:
        def n(full: int, minimum: int = 1) -> int:
            return max(minimum, round(full * scale))

        teams = n(20)
        return cls(
            scale=scale,
            teams=teams,
            # every team needs two agents besides the hot one, so hand-offs have a receiver
            agents=max(n(500), 2 * teams + 1),
            customers=n(200_000),
            cases=n(1_000_000, 10),
            handoffs=n(300_000),
            commitments=n(2_000_000),
            notifications=n(2_000_000),
            hot_open=max(1, round(HOT_OPEN_CASES * min(1.0, scale / 0.01))),
        )


# --- writing rows ---------------------------------------------------------------------------


def _adapt(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if hasattr(value, "value") and type(value).__module__ != "builtins":  # TextChoices
        return value.value
    return value


@dataclass
class Table:
    """The columns a generator fills; every other column gets its model default."""

    model: type[Model]
    columns: Sequence[str]
    extra_columns: list[str] = field(default_factory=list)
    extra_values: tuple = ()

    def __post_init__(self) -> None:
        fields = {f.column: f for f in self.model._meta.local_concrete_fields}
        unknown = [c for c in self.columns if c not in fields]
        if unknown:
            raise RuntimeError(f"{self.model.__name__} has no column(s) {unknown}")
        extra_cols, extra_vals = [], []
        for column, f in fields.items():
            if column in self.columns or f.db_default is not NOT_PROVIDED:
                continue
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.empty_strings_allowed and f.blank:
                value = ""
            else:
                raise RuntimeError(
                    f"the generator does not fill {self.model.__name__}.{f.name}, a required "
                    "column without a default: add it to bench/generate.py"
                )
            extra_cols.append(column)
            extra_vals.append(_adapt(value))
        self.extra_columns = extra_cols
        self.extra_values = tuple(extra_vals)

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def copy(self, rows: Iterable[tuple]) -> int:
        """COPY the rows in; secondary indexes are dropped first and built once at the end
        (a sorted build is several times faster than a million index insertions)."""
        cols = ", ".join(f'"{c}"' for c in [*self.columns, *self.extra_columns])
        extra = self.extra_values
        count = 0
        with connection.cursor() as cur:
            rebuild = _drop_secondary_indexes(cur, self.name)
            raw = cur.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f'COPY "{self.name}" ({cols}) FROM STDIN') as copy:
                write = copy.write_row
                for row in rows:
                    write(row + extra)
                    count += 1
            for definition in rebuild:
                cur.execute(definition)
        return count


def _drop_secondary_indexes(cur, table: str) -> list[str]:  # a DB-API cursor
    """Drop the table's indexes that no constraint owns; return their definitions."""
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [f'"{table}"'],
    )
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _, definition in found]


def _reset_sequences(models: Iterable[type[Model]]) -> None:
    with connection.cursor() as cur:
        for model in models:
            table, pk = model._meta.db_table, model._meta.pk.column
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                f'COALESCE((SELECT max("{pk}") FROM "{table}"), 0) + 1, false)',
                [table, pk],
            )


def _fast_session() -> None:
    """Bulk loading: no per-row foreign-key triggers (superuser only), no fsync wait."""
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        # planning a million cases in Python takes longer than the app's idle limit
        cur.execute("SET idle_in_transaction_session_timeout = 0")
        cur.execute("SET maintenance_work_mem = '512MB'")
        try:
            with transaction.atomic():
                cur.execute("SET session_replication_role = replica")
        except Exception:  # not a superuser: foreign keys are checked as usual
            pass


def _normal_session() -> None:
    with connection.cursor() as cur:
        try:
            cur.execute("SET session_replication_role = DEFAULT")
        except Exception:
            pass


def _model(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _log(message: str) -> None:
    print(f"  generate: {message}", flush=True)


# --- the parts ------------------------------------------------------------------------------

FIRST = ["Sam", "Alex", "Priya", "Chen", "Maria", "Olu", "Noor", "Jonas", "Aiko", "Liam"]
LAST = ["Okafor", "Smith", "Garcia", "Nguyen", "Kowalski", "Haddad", "Berg", "Tanaka", "Ito"]
SUBJECTS = [
    "Refund not received",
    "Delivery missing",
    "Wrong item sent",
    "Cannot log in",
    "Invoice question",
    "Change of address",
    "Broken on arrival",
    "Cancel subscription",
]
CHANNELS = ["email", "phone", "chat", "social", "web", "email", "email", "phone"]
PRIORITIES = ["normal"] * 6 + ["low", "high", "high", "urgent"]
HANDOFF_REASONS = ["shift_end", "expertise", "escalation", "workload", "absence"]
NOTE = "Called the customer, explained the next step and agreed to follow up."


@dataclass
class World:
    """What later parts need to know about the base part, read back from the database."""

    agent_ids: list[int]
    manager_ids: list[int]
    team_ids: list[int]
    hot_agent_id: int


def generate_base(counts: Counts, now: datetime, rng: random.Random) -> None:
    """Users, teams, agents, customers, cases, hand-offs and the case timelines."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    Team = apps.get_model("cases.Team")
    AgentProfile = apps.get_model("cases.AgentProfile")
    Customer = apps.get_model("cases.Customer")
    Case = apps.get_model("cases.Case")
    CaseEvent = apps.get_model("cases.CaseEvent")
    Handoff = apps.get_model("cases.Handoff")
    start = now - timedelta(days=365 * YEARS)
    span = (now - start).total_seconds()

    # users: agents 1..A (1 is the hot agent), then one manager per team
    t0 = time.monotonic()
    n_agents, n_teams = counts.agents, counts.teams
    agent_ids = list(range(1, n_agents + 1))
    manager_ids = list(range(n_agents + 1, n_agents + n_teams + 1))
    team_ids = list(range(1, n_teams + 1))

    def users() -> Iterator[tuple]:
        for uid in agent_ids + manager_ids:
            role = "agent" if uid <= n_agents else "manager"
            first, last = FIRST[uid % len(FIRST)], LAST[uid % len(LAST)]
            yield (
                uid,
                f"bench-{role}-{uid}",
                first,
                last,
                f"{role}{uid}@staff.example.com",
                "!",  # unusable password: the benchmark logs in with force_login and tokens
                False,
                False,
                True,
                start,
            )

    Table(
        User,
        [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "password",
            "is_superuser",
            "is_staff",
            "is_active",
            "date_joined",
        ],
    ).copy(users())
    Table(Team, ["id", "name", "time_zone"]).copy(
        (tid, f"Team {tid:02d}", "Europe/London") for tid in team_ids
    )
    managers_through = Team.managers.through
    Table(managers_through, ["id", "team_id", "user_id"]).copy(
        (i, tid, manager_ids[i - 1]) for i, tid in enumerate(team_ids, start=1)
    )

    def profiles() -> Iterator[tuple]:
        for uid in agent_ids + manager_ids:
            first, last = FIRST[uid % len(FIRST)], LAST[uid % len(LAST)]
            yield (
                uid,
                uid,
                f"{first} {last}",
                "Team Manager" if uid > n_agents else "Customer Care Specialist",
                f"direct{uid}@staff.example.com",
                f"+44 20 7946 {uid % 10000:04d}",
                "Mon–Fri 09:00–17:00 (London)",
            )

    Table(
        AgentProfile,
        [
            "id",
            "user_id",
            "display_name",
            "job_title",
            "direct_email",
            "direct_phone",
            "working_hours",
        ],
    ).copy(profiles())

    def team_of(uid: int) -> int:
        # agent 1 (hot) is in team 1; the rest round robin over teams
        return team_ids[(uid - 1) % n_teams]

    profile_teams = AgentProfile.teams.through
    Table(profile_teams, ["id", "agentprofile_id", "team_id"]).copy(
        (uid, uid, team_of(uid)) for uid in agent_ids
    )
    hot = agent_ids[0]
    members: dict[int, list[int]] = {tid: [] for tid in team_ids}
    for uid in agent_ids[1:]:
        members[team_of(uid)].append(uid)
    _log(f"{len(agent_ids)} agents, {len(manager_ids)} managers, {n_teams} teams")

    def customers() -> Iterator[tuple]:
        titles = ["", "", "Mr", "Ms", "Mrs", "Dr", "Mx"]
        for cid in range(1, counts.customers + 1):
            first, last = FIRST[cid % len(FIRST)], LAST[(cid // 7) % len(LAST)]
            yield (
                cid,
                f"{first} {last} {cid}",
                titles[cid % len(titles)],
                "",
                f"customer{cid}@example.com",
                f"+447700{cid % 1000000:06d}",  # E.164, as the services store it
                "email",
                "Europe/London",
                "en",
                start + timedelta(seconds=span * cid / counts.customers / 2),
            )

    n = Table(
        Customer,
        [
            "id",
            "full_name",
            "title",
            "addressed_as",
            "email",
            "phone",
            "preferred_channel",
            "time_zone",
            "language",
            "created_at",
        ],
    ).copy(customers())
    _log(f"{n} customers ({time.monotonic() - t0:.1f}s)")

    # cases: decide team and open/closed first, so the hot agent's open cases can be chosen
    n_cases = counts.cases
    teams_of_case = [team_ids[rng.randrange(n_teams)] for _ in range(n_cases)]
    split = int(n_cases * 0.6)
    is_open = [
        rng.random() < (0.05 if i < split else 0.425) for i in range(n_cases)
    ]  # 20 % open overall, most of them recent
    hot_team = team_of(hot)
    open_in_hot_team = [i for i in range(n_cases) if is_open[i] and teams_of_case[i] == hot_team]
    hot_open = set(rng.sample(open_in_hot_team, min(counts.hot_open, len(open_in_hot_team))))
    closed_in_hot_team = [
        i for i in range(n_cases) if not is_open[i] and teams_of_case[i] == hot_team
    ]
    hot_closed = set(
        rng.sample(closed_in_hot_team, min(len(closed_in_hot_team), 3 * counts.hot_open))
    )
    # hand-offs per case, about counts.handoffs in all
    case_rows: list[tuple] = []
    handoff_rows: list[tuple] = []
    event_rows: list[tuple] = []
    handoff_id = 0
    event_id = 0
    step = span / n_cases
    for i in range(n_cases):
        cid = i + 1
        team = teams_of_case[i]
        pool = members[team]
        created = start + timedelta(seconds=step * i + rng.random() * step)
        opened = is_open[i]
        if opened:
            age = min((now - created).total_seconds(), 60 * 86400.0)
            life = timedelta(seconds=age)
        else:
            life = timedelta(hours=rng.uniform(1, 24 * 21))
        end = created + life
        if end > now:
            end = now - timedelta(minutes=1)
        final_hot = i in hot_open or i in hot_closed
        r = rng.random()
        k = 1 if r < 0.17 else 2 if r < 0.215 else 3 if r < 0.225 else 0
        owner = hot if (final_hot and k == 0) else rng.choice(pool)
        event_id += 1
        event_rows.append(
            (
                event_id,
                cid,
                "opened",
                owner,
                created,
                json.dumps({"owner_id": owner, "channel": CHANNELS[i % len(CHANNELS)]}),
            )
        )
        owner_count = 1
        previous = 0
        owner_since = created
        when = created
        for h in range(k):
            last = h == k - 1
            when = when + (end - when) * rng.uniform(0.1, 0.6)
            status = rng.choices(["accepted", "declined", "cancelled", "expired"], [88, 8, 3, 1])[0]
            if final_hot and last:
                status = "accepted"
            if opened and last and not final_hot and rng.random() < 0.03:
                status = "offered"
            to = hot if (final_hot and last) else rng.choice(pool)
            if to == owner:
                to = pool[(pool.index(owner) + 1) % len(pool)] if owner in pool else pool[0]
                if to == owner:
                    continue
            decided = (
                None
                if status == "offered"
                else min(end, when + timedelta(minutes=rng.randint(2, 240)))
            )
            handoff_id += 1
            handoff_rows.append(
                (
                    handoff_id,
                    cid,
                    team,
                    owner,
                    to,
                    owner,
                    HANDOFF_REASONS[handoff_id % len(HANDOFF_REASONS)],
                    "Wants the refund for order 4471 confirmed in writing.",
                    "Checked the order; refund approved by billing on the 3rd.",
                    "Was promised an email confirmation by Friday.",
                    "Send the confirmation and call if the bank has not credited it.",
                    status,
                    "Not my area; billing should take it." if status == "declined" else "",
                    when,
                    decided,
                    rng.randint(35, 100) if status != "offered" else None,
                    json.dumps(["back_to_previous_owner"] if to == previous else []),
                    decided if status == "accepted" and rng.random() < 0.5 else None,
                )
            )
            event_id += 1
            event_rows.append(
                (
                    event_id,
                    cid,
                    "handoff_offered",
                    owner,
                    when,
                    json.dumps({"handoff_id": handoff_id, "to": to}),
                )
            )
            if decided is not None and status in ("accepted", "declined"):
                event_id += 1
                event_rows.append(
                    (
                        event_id,
                        cid,
                        f"handoff_{status}",
                        to,
                        decided,
                        json.dumps({"handoff_id": handoff_id}),
                    )
                )
            if status == "accepted":
                previous = owner
                owner = to
                owner_count += 1
                owner_since = decided or when
                when = decided or when
        for _ in range(rng.choice((0, 1, 1, 2))):
            event_id += 1
            event_rows.append(
                (
                    event_id,
                    cid,
                    "note",
                    owner,
                    created + (end - created) * rng.random(),
                    json.dumps({"text": NOTE}),
                )
            )
        if opened:
            status = "waiting_on_customer" if rng.random() < 0.15 else "open"
            closed_at = None
            next_due = now + timedelta(minutes=rng.randint(-2 * 24 * 60, 14 * 24 * 60))
            if rng.random() < 0.1 and i not in hot_open:
                next_due = None  # no open promise (to be set by the commitments part)
            updated = end
        else:
            status = "closed" if rng.random() < 0.94 else "resolved"
            closed_at = end if status == "closed" else None
            next_due = None
            updated = end
            event_id += 1
            event_rows.append(
                (
                    event_id,
                    cid,
                    "status_changed",
                    owner,
                    end,
                    json.dumps({"from": "open", "to": status}),
                )
            )
        case_rows.append(
            (
                cid,
                rng.randint(1, counts.customers),
                team,
                CHANNELS[i % len(CHANNELS)],
                f"{SUBJECTS[i % len(SUBJECTS)]} (order {100000 + cid})",
                "The customer wrote in about their order.",
                PRIORITIES[i % len(PRIORITIES)],
                status,
                owner,
                owner_since,
                owner_count,
                next_due,
                1,
                created,
                updated,
                closed_at,
            )
        )
    _log(f"planned {n_cases} cases in {time.monotonic() - t0:.1f}s")
    n = Table(
        Case,
        [
            "id",
            "customer_id",
            "team_id",
            "channel",
            "subject",
            "description",
            "priority",
            "status",
            "owner_id",
            "owner_since",
            "owner_count",
            "next_due_at",
            "link_generation",
            "created_at",
            "updated_at",
            "closed_at",
        ],
    ).copy(iter(case_rows))
    _log(f"{n} cases ({time.monotonic() - t0:.1f}s)")
    del case_rows
    n = Table(
        Handoff,
        [
            "id",
            "case_id",
            "team_id",
            "from_agent_id",
            "to_agent_id",
            "offered_by_id",
            "reason",
            "customer_needs",
            "actions_taken",
            "customer_expectations",
            "next_step",
            "status",
            "decline_reason",
            "offered_at",
            "decided_at",
            "quality_score",
            "flags",
            "customer_acknowledged_at",
        ],
    ).copy(iter(handoff_rows))
    _log(f"{n} hand-offs ({time.monotonic() - t0:.1f}s)")
    del handoff_rows
    n = Table(CaseEvent, ["id", "case_id", "kind", "actor_id", "at", "data"]).copy(iter(event_rows))
    _log(f"{n} timeline events ({time.monotonic() - t0:.1f}s)")
    del event_rows
    _reset_sequences(
        [
            User,
            Team,
            managers_through,
            AgentProfile,
            profile_teams,
            Customer,
            Case,
            Handoff,
            CaseEvent,
        ]
    )


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


# Parts in order: (marker key, model that must exist, generator).
PARTS: list[tuple[str, str, Callable[[Counts, datetime, random.Random], None]]] = [
    ("base", "cases.Case", generate_base),
    ("notifications", "notifications.Notification", generate_notifications),
    ("commitments", "commitments.Commitment", generate_commitments),
    ("contacts", "cases.Contact", generate_contacts),
    ("satisfaction", "cases.SatisfactionAnswer", generate_satisfaction),
]


def _truncate_all() -> None:
    """Empty every app table (only ever called on a marked benchmark database)."""
    tables = [
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ("cases", "commitments", "notifications", "auth", "authtoken")
        and not m._meta.proxy
        and m._meta.managed
    ]
    tables = [t for t in tables if t not in ("auth_permission", "auth_group")]
    if tables:
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )


def ensure_data(scale: float, *, skip: bool = False) -> dict[str, Any]:
    """Generate whatever is missing at this scale; return what the database holds."""
    counts = Counts.for_scale(scale)
    timings: dict[str, float] = {}
    with connection.cursor() as cur:
        stored_scale = marker_get(cur, "scale")
    if stored_scale is not None and float(stored_scale) != scale:
        raise RuntimeError(
            f"the benchmark database holds scale {stored_scale}, not {scale}; run with --regenerate"
        )
    with connection.cursor() as cur:
        done = {key for key, _, _ in PARTS if marker_get(cur, f"part:{key}") == "done"}
    missing = [p for p in PARTS if p[0] not in done and _model(p[1]) is not None]
    if missing and skip:
        _log(
            "--skip-generate: not generating "
            + ", ".join(p[0] for p in missing)
            + " (measurements that need them may fail)"
        )
        missing = []
    if missing:
        with connection.cursor() as cur:
            generated_at = marker_get(cur, "generated_at")
        now = datetime.fromisoformat(generated_at) if generated_at else datetime.now(UTC)
        _fast_session()
        # millions of small tuples: the cyclic collector would rescan them again and again
        gc.disable()
        try:
            for key, _label, gen in missing:
                t0 = time.monotonic()
                _log(f"{key} at scale {scale:g} …")
                with transaction.atomic():
                    if key == "base":
                        _truncate_all()
                        with connection.cursor() as cur:
                            marker_set(cur, "scale", f"{scale:g}")
                            marker_set(cur, "generated_at", now.isoformat())
                    gen(counts, now, random.Random(f"{SEED}:{key}"))
                    with connection.cursor() as cur:
                        marker_set(cur, f"part:{key}", "done")
                timings[key] = round(time.monotonic() - t0, 1)
                _log(f"{key} done in {timings[key]:.1f}s")
        finally:
            gc.enable()
            _normal_session()
        t0 = time.monotonic()
        with connection.cursor() as cur:
            # VACUUM as well: a production database has been through autovacuum, so its
            # visibility map lets counts read indexes alone; rows fresh from COPY have none.
            # (Inside a transaction, as in the tests, only ANALYZE can run.)
            cur.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        timings["analyze"] = round(time.monotonic() - t0, 1)
        _log(f"VACUUM (ANALYZE) in {timings['analyze']:.1f}s")
    return {"counts": table_counts(), "generate_seconds": timings}


def table_counts() -> dict[str, int]:
    """Exact row counts (a second or so at scale 1; statistics can be stale)."""
    labels = {
        "teams": "cases.Team",
        "agents": "cases.AgentProfile",
        "customers": "cases.Customer",
        "cases": "cases.Case",
        "case_events": "cases.CaseEvent",
        "handoffs": "cases.Handoff",
        "contacts": "cases.Contact",
        "commitments": "commitments.Commitment",
        "notifications": "notifications.Notification",
        "delivery_log": "notifications.DeliveryLog",
    }
    out: dict[str, int] = {}
    with connection.cursor() as cur:
        for key, label in labels.items():
            model = _model(label)
            if model is None:
                continue
            cur.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
            out[key] = int(cur.fetchone()[0])
    return out
