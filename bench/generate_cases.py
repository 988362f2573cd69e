"""The base part of the generated data: users, teams, customers, cases, hand-offs and the
case timelines."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps

from bench.generate_rows import YEARS, Counts, Table, _log, _reset_sequences

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
