"""The demo's story machinery: events in time order with the clock set to each one's moment,
and the life of one case from intake to its end, told through the same services the API uses.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from cases import hooks, services
from cases.conversations.services import NewContact, contact_record
from cases.handoffs import outcomes as handoff_outcomes
from cases.handoffs import services as handoff_services
from cases.handoffs.gate import HandoffRubric, HandoffSummary
from cases.hooks import PromiseBrief
from cases.models import (
    AgentProfile,
    Case,
    CaseStatus,
    ContactDirection,
    Handoff,
    Priority,
    Team,
)
from commitments import callbacks
from commitments import services as commitment_services
from commitments.callback_slots import callback_slots
from commitments.models import OWNER_KINDS, Commitment, CommitmentKind, CommitmentStatus
from commitments.sweep import commitments_sweep_due
from demo.data import CHANNELS, PROMISES, SUBJECTS, SUMMARY, TEAMS, WEAK_SUMMARY

Action = Callable[[datetime], None]


class Story:
    """Events in time order: each runs with the clock set to its moment and may schedule
    later ones; nothing at or after ``until`` (the real now) happens."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        self._events: list[tuple[datetime, int, Action]] = []
        self._seq = 0

    def at(self, moment: datetime, action: Action) -> None:
        if moment < self.until:
            self._seq += 1
            heapq.heappush(self._events, (moment, self._seq, action))

    def run(self) -> None:
        import time_machine

        while self._events:
            moment, _seq, action = heapq.heappop(self._events)
            with time_machine.travel(moment, tick=False):
                action(moment)


@contextmanager
def quietly() -> Iterator[None]:
    """Thousands of services run and emails go out: their info lines (each delivery, each
    task) would bury the summary, and with DEBUG on every query would be kept in memory."""
    logging.disable(logging.INFO)
    try:
        with override_settings(DEBUG=False):
            yield
    finally:
        logging.disable(logging.NOTSET)


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


def case_story(
    rng: random.Random,
    story: Story,
    *,
    n: int,
    target: str,
    team: Team,
    customer: Any,
    manager: Any,
    progress: Callable[[datetime], float],
) -> Action:
    """One case from intake to its end: first reply, a promise kept, renegotiated or
    missed, perhaps a hand-off (accepted faster and better briefed as weeks pass) and a
    review, then resolution for the cases that end resolved or closed. ``progress(at)``
    runs from 0 to 1 over the history: the team gets better."""
    team_i = [t[0] for t in TEAMS].index(team.name)

    def opened(at: datetime) -> None:
        case = services.case_open(
            customer=customer,
            team=team,
            channel=rng.choice(CHANNELS),
            subject=rng.choice(SUBJECTS[team_i]),
            description="Customer contacted us; details in the first note.",
            priority=rng.choice(
                [Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.LOW, Priority.URGENT]
            ),
            by=manager,
        )
        first = Commitment.objects.filter(case=case, kind=CommitmentKind.FIRST_RESPONSE).first()
        if first is None:
            # a live channel: no promise, the first response is measured from the
            # contacts; most are answered within the minute, more as the team improves
            slowest = 60 + int(120 * (1 - progress(at)))
            reply: timedelta | None = timedelta(seconds=rng.randint(10, slowest))
        elif rng.random() < 0.65 + 0.3 * progress(at):
            reply = (first.due_at - at) * rng.uniform(0.1, 0.9)
        else:
            reply = None  # not answered in time: the sweep marks the promise missed
        if reply is not None:
            story.at(at + reply, answered(case.pk))
        story.at(at + timedelta(minutes=rng.randint(20, 50)), noted(case.pk))
        if n % 5 != 4:
            story.at(at + timedelta(hours=1), promised(case.pk))
        if n % 9 == 4:
            # the customer books a call back from their page (a few move it later)
            story.at(at + timedelta(minutes=45), callback_booked(case.pk))
        if rng.random() < 0.6:
            story.at(at + timedelta(hours=rng.uniform(2, 30)), handed_over(case.pk))
        if target != CaseStatus.OPEN:
            story.at(at + timedelta(days=rng.uniform(4, 9)), ended(case.pk))

    def answered(case_id: int) -> Action:
        """The owner's first reply, a contact to the customer: it keeps the first-response
        promise where there is one, and is what the first-response report measures."""

        def run(at: datetime) -> None:
            case = Case.objects.get(pk=case_id)
            if not case.is_open:
                return
            contact_record(
                case=case,
                contact=NewContact(
                    direction=ContactDirection.TO_CUSTOMER,
                    channel=case.channel,
                    summary="First reply: confirmed we have the request and the next step.",
                ),
                by=case.owner,
            )

        return run

    def noted(case_id: int) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.get(pk=case_id)
            services.case_add_note(
                case=case,
                by=case.owner,
                text="Spoke to the customer, confirmed account details and the problem.",
            )

        return run

    def callback_booked(case_id: int, *, move: bool = False) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.select_related("customer", "team", "owner__agent_profile").get(
                pk=case_id
            )
            slots = callback_slots(case=case, now=at) if case.is_open else []
            if not slots:
                return
            # a stream of its own: the story's other choices stay as they were
            # an open case's customer books days ahead, so some calls are still to come
            choices = slots[-40:] if target == CaseStatus.OPEN else slots[:12]
            start = choices[random.Random(n * 31 + move).randrange(len(choices))].starts_at
            if move:
                booked = callbacks.callback_of(case)
                if booked is None or booked.starts_at <= at:
                    return  # the call was made already
                booking = callbacks.callback_move(case=case, starts_at=start, by=None)
            else:
                booking = callbacks.callback_book(case=case, starts_at=start, by=None)
                if n % 27 == 4:
                    story.at(at + timedelta(hours=3), callback_booked(case_id, move=True))
            # the owner calls at the booked time
            story.at(booking.starts_at + timedelta(minutes=10), keep(booking.commitment_id))

        return run

    def keep(commitment_id: int, *, then_promise: bool = False) -> Action:
        def run(at: datetime) -> None:
            commitment = Commitment.objects.select_related("case").get(pk=commitment_id)
            if commitment.status == CommitmentStatus.OPEN:
                commitment_services.commitment_mark_kept(
                    commitment=commitment, by=commitment.case.owner
                )
                if then_promise and target == CaseStatus.OPEN and rng.random() < 0.95:
                    # the case goes on: the owner promises the next step
                    story.at(at + timedelta(hours=rng.uniform(1, 24)), promised(case_id(at)))

        def case_id(at: datetime) -> int:
            return Commitment.objects.values_list("case_id", flat=True).get(pk=commitment_id)

        return run

    def promised(case_id: int) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.get(pk=case_id)
            if not case.is_open:
                return
            description, kind, within = PROMISES[n % len(PROMISES)]
            commitment = commitment_services.commitment_create(
                case=case, by=case.owner, description=description, kind=kind, due=within
            )
            span = commitment.due_at - at
            luck, missed, renegotiate = (
                rng.random(),
                0.3 - 0.25 * progress(at),
                0.06 + 0.1 * progress(at),
            )
            if luck < missed:
                # missed: the sweep finds it due; the owner promises again after the call
                if target == CaseStatus.OPEN:
                    story.at(commitment.due_at + timedelta(days=1), promised(case_id))
                return
            if luck < missed + renegotiate:
                story.at(at + span * rng.uniform(0.5, 0.9), renegotiated(commitment.pk))
            else:
                story.at(at + span * rng.uniform(0.2, 0.95), keep(commitment.pk, then_promise=True))

        return run

    def renegotiated(commitment_id: int) -> Action:
        def run(at: datetime) -> None:
            commitment = Commitment.objects.select_related("case").get(pk=commitment_id)
            if commitment.status != CommitmentStatus.OPEN:
                return
            successor = commitment_services.commitment_renegotiate(
                commitment=commitment,
                by=commitment.case.owner,
                due="3 business days",
                reason="The supplier needs two more days to confirm; I did not want you "
                "to find out on the day.",
            )
            new = Commitment.objects.get(pk=successor.pk) if successor else None
            if new is not None and new.is_open:
                story.at(
                    at + (new.due_at - at) * rng.uniform(0.3, 0.9),
                    keep(new.pk, then_promise=True),
                )

        return run

    def handed_over(case_id: int) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.select_related("customer", "team").get(pk=case_id)
            if not case.is_open or case.handoffs.filter(status="offered").exists():
                return
            colleagues = list(
                AgentProfile.objects.filter(teams=case.team, accepts_new_cases=True)
                .exclude(user=case.owner)
                .values_list("user", flat=True)
            )
            weak = rng.random() < 0.6 - 0.45 * progress(at)
            base = WEAK_SUMMARY if weak else SUMMARY
            summary = HandoffSummary(
                customer_needs=base.customer_needs.format(
                    name=case.customer.salutation_name, subject=case.subject
                ),
                actions_taken=base.actions_taken,
                customer_expectations=base.customer_expectations,
                next_step=base.next_step,
            )
            offer = handoff_services.handoff_offer(
                case=case,
                by=case.owner,
                to=get_user_model().objects.get(pk=rng.choice(colleagues)),
                summary=summary,
                reason=rng.choice(["shift_end", "expertise", "workload"]),
                briefed_commitments=[c.id for c in open_brief(case)],
            )
            if rng.random() < 0.12:
                story.at(at + timedelta(minutes=rng.randint(10, 90)), declined(offer.pk))
                return
            # minutes to accept: slow and scattered at first, quicker as weeks pass
            wait = rng.lognormvariate(0, 0.8) * (200 - 170 * progress(at))
            story.at(at + timedelta(minutes=wait), accepted(offer.pk, weak))

        return run

    def declined(handoff_id: int) -> Action:
        def run(at: datetime) -> None:
            offer = Handoff.objects.get(pk=handoff_id)
            if offer.status == "offered":
                handoff_services.handoff_decline(
                    handoff=offer,
                    by=offer.to_agent,
                    reason="I am on leave from tomorrow; please offer it to someone on shift.",
                )

        return run

    def accepted(handoff_id: int, weak: bool) -> Action:
        def run(at: datetime) -> None:
            offer = Handoff.objects.get(pk=handoff_id)
            if offer.status != "offered":
                return
            handoff_services.handoff_accept(handoff=offer, by=offer.to_agent)
            if rng.random() < 0.6:
                story.at(at + timedelta(hours=rng.uniform(1, 20)), acknowledged(offer.case_id))
            if rng.random() < 0.6:
                story.at(at + timedelta(days=rng.uniform(1, 3)), reviewed(handoff_id, weak))

        return run

    def acknowledged(case_id: int) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.get(pk=case_id)
            handoff_outcomes.handoff_customer_acknowledge(case=case)

        return run

    def reviewed(handoff_id: int, weak: bool) -> Action:
        def run(at: datetime) -> None:
            offer = Handoff.objects.get(pk=handoff_id)
            low = 2 if weak else 4
            handoff_outcomes.handoff_review(
                handoff=offer,
                by=manager,
                rubric=HandoffRubric(
                    context_complete=rng.randint(low, low + 1),
                    next_step_clear=rng.randint(low - 1, low + 1),
                    commitments_carried=rng.randint(low, low + 1),
                    customer_informed=rng.randint(low - 1, low + 1),
                ),
                comment="Thin brief: the customer had to repeat themselves."
                if weak
                else "Clear brief; the customer knew who to call next.",
            )

        return run

    def ended(case_id: int) -> Action:
        def run(at: datetime) -> None:
            case = Case.objects.get(pk=case_id)
            if not case.is_open or case.handoffs.filter(status="offered").exists():
                return
            end_open_promises(case)
            services.case_change_status(case=case, status=target, by=case.owner)

        return run

    return opened


def hourly(at: datetime) -> None:
    """Owners do the follow-ups the product set them (the check after a hand-off, the
    recovery call after a miss) a few hours on; then the sweep marks what is due missed."""
    follow_ups = Commitment.objects.filter(
        status=CommitmentStatus.OPEN,
        kind__in=OWNER_KINDS,
        made_at__lte=at - timedelta(hours=3),
    )
    for commitment in follow_ups.select_related("case__owner"):
        commitment_services.commitment_mark_kept(commitment=commitment, by=commitment.case.owner)
    commitments_sweep_due(now=at)


def end_open_promises(case: Case) -> None:
    """Before a case is resolved, its owner keeps the promises still open."""
    for commitment in Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN):
        if commitment.made_by_id is not None:
            commitment_services.commitment_mark_kept(commitment=commitment, by=case.owner)


def open_brief(case: Case) -> list[PromiseBrief]:
    return hooks.collect_open_commitments(case)
