"""A small known history for the report figures, written straight to the tables with
explicit times (the figures read rows; how the services write them is tested elsewhere).

The window is the two UTC weeks starting Monday 2 and Monday 9 March 2026; "now" is
Wednesday 11 March 2026, 10:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cases.models import Handoff, HandoffReview
from commitments.models import Commitment
from tests.factories import CaseFactory, TeamFactory, make_agent, make_manager

NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
WEEK1 = datetime(2026, 3, 2, tzinfo=UTC)
WEEK2 = datetime(2026, 3, 9, tzinfo=UTC)


def at(base: datetime, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return base + timedelta(days=days, hours=hours, seconds=seconds)


def promise(case, owner, *, status: str, due: datetime, ended: datetime | None, **kw) -> Commitment:
    successor = None
    if status == "renegotiated":
        successor = promise(case, owner, status="open", due=due + timedelta(days=30), ended=None)
    return Commitment.objects.create(
        case=case,
        team_id=case.team_id,
        owner=owner,
        made_by=owner,
        description=kw.pop("description", "Call back"),
        kind=kw.pop("kind", "callback"),
        due_at=due,
        made_at=due - timedelta(days=2),
        at_risk_from=due - timedelta(hours=1),
        status=status,
        ended_at=ended,
        end_reason="" if status in ("open", "kept", "missed") else "A reason",
        successor=successor,
        **kw,
    )


def handoff(case, sender, receiver, *, offered: datetime, status: str, seconds=None, **kw):
    return Handoff.objects.create(
        case=case,
        team_id=case.team_id,
        from_agent=sender,
        to_agent=receiver,
        offered_by=sender,
        reason="workload",
        customer_needs="n",
        actions_taken="a",
        customer_expectations="e",
        next_step="s",
        status=status,
        offered_at=offered,
        decided_at=None if seconds is None else offered + timedelta(seconds=seconds),
        **kw,
    )


def build() -> dict:
    team = TeamFactory(name="Billing", time_zone="Europe/London")
    other = TeamFactory(name="Repairs")
    ada = make_agent(team, display_name="Ada Agent")
    bo = make_agent(team, display_name="Bo Agent")
    manager = make_manager(team)
    other_manager = make_manager(other)

    def case(owner=ada, channel="phone", **kw):
        return CaseFactory(team=team, owner=owner, channel=channel, **kw)

    email = case(channel="email")
    c = case()
    # week 1: 3 kept on time (one of them the email first reply), 1 kept late, 1 renegotiated
    # before due, 1 missed, 1 withdrawn
    due = at(WEEK1, days=2, hours=12)
    promise(email, ada, status="kept", due=due, ended=at(WEEK1, days=1), kind="first_response")
    promise(c, ada, status="kept", due=due, ended=at(WEEK1, days=2))
    promise(c, bo, status="kept", due=due, ended=due)
    promise(c, bo, status="kept", due=due, ended=at(due, hours=1))
    promise(c, ada, status="renegotiated", due=due, ended=at(WEEK1, days=2))
    promise(c, ada, status="missed", due=due, ended=at(due, seconds=1))
    promise(c, bo, status="withdrawn", due=due, ended=at(WEEK1, days=1))
    # week 2: 1 kept on time, 1 missed (the email first reply)
    due2 = at(WEEK2, hours=15)
    promise(c, ada, status="kept", due=due2, ended=at(WEEK2, hours=9))
    promise(
        email, bo, status="missed", due=due2, ended=at(due2, seconds=300), kind="first_response"
    )
    # outside: before the window, and another team's
    promise(c, ada, status="missed", due=at(WEEK1, days=-3), ended=at(WEEK1, seconds=-1))
    promise(CaseFactory(team=other), other_manager, status="kept", due=due, ended=at(WEEK1, days=1))

    # hand-offs, week 1: accepted after 600 s, 1200 s, 3000 s; one declined; one flagged
    h1 = handoff(
        case(),
        ada,
        bo,
        offered=at(WEEK1, hours=9),
        status="accepted",
        seconds=600,
        quality_score=80,
        flags=["back_to_previous_owner"],
    )
    handoff(
        case(),
        ada,
        bo,
        offered=at(WEEK1, hours=10),
        status="accepted",
        seconds=1200,
        quality_score=60,
    )
    handoff(case(), bo, ada, offered=at(WEEK1, days=3), status="accepted", seconds=3000)
    handoff(case(), bo, ada, offered=at(WEEK1, days=4), status="declined", seconds=100)
    reviewer2 = make_manager(team)
    HandoffReview.objects.create(
        handoff=h1,
        reviewer=manager,
        context_complete=5,
        next_step_clear=4,
        commitments_carried=5,
        customer_informed=4,
        reviewed_at=NOW,
    )
    HandoffReview.objects.create(
        handoff=h1,
        reviewer=reviewer2,
        context_complete=3,
        next_step_clear=3,
        commitments_carried=3,
        customer_informed=3,
        reviewed_at=NOW,
    )
    # week 2: accepted after 60 s; one offer waiting for Ada
    handoff(
        case(), bo, ada, offered=at(WEEK2, hours=1), status="accepted", seconds=60, quality_score=90
    )
    handoff(case(), bo, ada, offered=at(WEEK2, days=1), status="offered")
    # another team's hand-off in the window
    o = CaseFactory(team=other)
    handoff(o, o.owner, other_manager, offered=at(WEEK1, hours=9), status="accepted", seconds=5)

    # today: open promises due at 15:00 today and 09:59 tomorrow (within one business day
    # of Wednesday 10:00), 10:30 tomorrow (after it) and yesterday (overdue)
    soon = case(owner=bo)
    promise(soon, bo, status="open", due=at(NOW, hours=5), ended=None)
    promise(soon, bo, status="open", due=at(NOW, hours=23, seconds=59 * 60), ended=None)
    later = case(owner=bo)
    promise(later, bo, status="open", due=at(NOW, days=1, hours=0.5), ended=None)
    promise(later, bo, status="open", due=at(NOW, days=-1), ended=None)
    for held in (soon, later):
        held.next_due_at = held.commitments.filter(status="open").order_by("due_at")[0].due_at
        held.save(update_fields=["next_due_at"])
    return {
        "team": team,
        "other": other,
        "ada": ada,
        "bo": bo,
        "manager": manager,
        "other_manager": other_manager,
    }
