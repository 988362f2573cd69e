"""Load a believable small organisation with eight weeks of history: 3 teams, 10 agents,
40 customers, 120 cases opened on working days.

Everything goes through the same services the API uses, with a clock that moves
(time-machine, a development dependency): owners are chosen by the teams' rules, first
replies are promised and kept (or missed), agents make, keep, renegotiate and miss promises,
hand cases over with good and weak summaries, managers review hand-offs, and the due-promise
sweep runs through the weeks as it would in production. The team gets better week by week,
so every chart of the dashboard shows a trend. Whatever would happen after the real "now" has
not happened yet: those promises and offers are still open. Oliver is away today, on a
course, and Amelia covers for him. Customers are notified as in production: the outbox is
delivered before the server starts, in development to the mailbox read on /dev/mail/. It
prints a short summary, never the emails. Running it twice does nothing the second time.
"""

from __future__ import annotations

import heapq
import logging
import random
import time as clock
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cases import hooks, services
from cases.availability import services as away_services
from cases.conversations.services import NewContact, contact_record
from cases.customers import services as customer_services
from cases.handoffs import outcomes as handoff_outcomes
from cases.handoffs import services as handoff_services
from cases.handoffs.gate import HandoffRubric, HandoffSummary
from cases.hooks import PromiseBrief
from cases.models import (
    Absence,
    AgentProfile,
    Case,
    CaseStatus,
    Channel,
    ContactDirection,
    Customer,
    Handoff,
    Priority,
    Team,
)
from cases.recipients import display_name
from commitments import services as commitment_services
from commitments.models import OWNER_KINDS, Commitment, CommitmentKind, CommitmentStatus
from commitments.sweep import commitments_sweep_due
from demo.data import (
    AGENTS,
    CHANNELS,
    CUSTOMERS,
    MANAGERS,
    PROMISES,
    STATUS_PLAN,
    SUBJECTS,
    SUMMARY,
    TEAMS,
    WAITING_OFFER_NEXT_STEP,
    WEAK_SUMMARY,
    ZONES,
)
from notifications.models import DeliveryLog, Notification, NotificationChannel
from notifications.services import outbox_in_flight, outbox_sweep

DEMO_PASSWORD = "caseowner-demo"
HISTORY_WEEKS = 8


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
def _quietly() -> Iterator[None]:
    """Thousands of services run and emails go out: their info lines (each delivery, each
    task) would bury the summary, and with DEBUG on every query would be kept in memory."""
    logging.disable(logging.INFO)
    try:
        with override_settings(DEBUG=False):
            yield
    finally:
        logging.disable(logging.NOTSET)


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent), deliver its emails and print the logins."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "load_demo refuses to run with production settings (CASEOWNER_PRODUCTION=true): "
                f"it creates users with the published password {DEMO_PASSWORD!r}."
            )
        try:
            import time_machine  # noqa: F401
        except ImportError:
            raise CommandError(
                "load_demo needs the development dependencies (pip install -e '.[dev]'): it "
                "moves the clock with time-machine to build weeks of history."
            ) from None
        if Team.objects.filter(name=TEAMS[0][0]).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            started = clock.monotonic()
            with _quietly():
                self._load()
                self._deliver_backlog()
            self._print_summary(clock.monotonic() - started)
        self._print_logins()

    @transaction.atomic
    def _load(self) -> None:
        rng = random.Random(20261125)
        now = timezone.now().replace(microsecond=0)
        monday = (now - timedelta(days=now.weekday())).date()
        start = datetime.combine(
            monday - timedelta(weeks=HISTORY_WEEKS - 1), time(6), tzinfo=now.tzinfo
        )
        with _clock(start - timedelta(days=3)):
            teams, agents, managers, customers = self._organisation(rng)
        story = Story(until=now)
        plan = STATUS_PLAN[:]
        rng.shuffle(plan)
        days = [
            start.date() + timedelta(days=d)
            for d in range((now.date() - start.date()).days + 1)
            if (start.date() + timedelta(days=d)).weekday() < 5
        ]
        for i, target in enumerate(plan):
            day = days[min(i * len(days) // len(plan), len(days) - 1)]
            team_i = i % 3
            local = datetime.combine(day, time(9), tzinfo=ZoneInfo(TEAMS[team_i][1]))
            opens = local + timedelta(minutes=rng.randint(0, 420))
            story.at(
                opens,
                self._case_story(
                    rng,
                    story,
                    n=i,
                    target=target,
                    team=teams[team_i],
                    customer=customers[(i * 7) % len(customers)],
                    manager=managers[team_i],
                    progress=lambda at: min(max((at - start) / (now - start), 0.0), 1.0),
                ),
            )
        # the due-promise sweep, as production runs it (every few seconds there; hourly here)
        moment = start
        while moment < now:
            story.at(moment, self._hourly)
            moment += timedelta(hours=1)
        story.run()
        self._offers_waiting_for_amelia(rng, managers)
        self._oliver_on_a_course(managers[0])

    def _organisation(self, rng: random.Random) -> tuple[list, list, list, list]:
        User = get_user_model()
        teams = [Team.objects.create(name=n, time_zone=tz) for n, tz, _ in TEAMS]
        # Everyone has the same published password: hash it once (a hash costs a second of
        # CPU by design), not once per person.
        password = make_password(DEMO_PASSWORD)

        def person(username: str, name: str, job: str, team_i: int) -> Any:
            first, last = name.split(" ", 1)
            user = User.objects.create(
                username=username,
                email=f"{username}@caseowner.test",
                password=password,
                first_name=first,
                last_name=last,
            )
            profile = AgentProfile.objects.create(
                user=user,
                display_name=name,
                job_title=job,
                direct_email=f"{username}.direct@caseowner.test",
                direct_phone=f"+44 20 7946 0{rng.randint(100, 999)}",
                working_hours=TEAMS[team_i][2],
            )
            profile.teams.add(teams[team_i])
            return user

        agents = [person(*a) for a in AGENTS]
        managers = []
        for spec in MANAGERS:
            manager = person(*spec)
            teams[spec[3]].managers.add(manager)
            AgentProfile.objects.filter(user=manager).update(accepts_new_cases=False)
            managers.append(manager)
        admin = User.objects.create(
            username="admin",
            email="admin@caseowner.test",
            password=password,
            is_staff=True,
            is_superuser=True,
        )
        for user in [*agents, *managers, admin]:
            Token.objects.get_or_create(user=user)

        customers = []
        for i, (name, given, family, title, addressed_as) in enumerate(CUSTOMERS):
            ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
            slug = ascii_name.lower().replace("dr ", "").replace("prof. ", "").replace("'", "")
            customers.append(
                customer_services.customer_create(
                    full_name=name,
                    given_name=given,
                    family_name=family,
                    title=title,
                    addressed_as=addressed_as,
                    email=f"{slug.replace(' ', '.')}@example.org",
                    phone=f"+44 7700 900{i:03d}",
                    preferred_channel=rng.choice([Channel.EMAIL, Channel.PHONE, Channel.CHAT]),
                    time_zone=rng.choice(ZONES),
                )
            )
        return teams, agents, managers, customers

    def _case_story(
        self,
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
                    story.at(
                        at + span * rng.uniform(0.2, 0.95), keep(commitment.pk, then_promise=True)
                    )

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
                    briefed_commitments=[c.id for c in _open_brief(case)],
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
                self._end_open_promises(case)
                services.case_change_status(case=case, status=target, by=case.owner)

            return run

        return opened

    def _hourly(self, at: datetime) -> None:
        """Owners do the follow-ups the product set them (the check after a hand-off, the
        recovery call after a miss) a few hours on; then the sweep marks what is due missed."""
        follow_ups = Commitment.objects.filter(
            status=CommitmentStatus.OPEN,
            kind__in=OWNER_KINDS,
            made_at__lte=at - timedelta(hours=3),
        )
        for commitment in follow_ups.select_related("case__owner"):
            commitment_services.commitment_mark_kept(
                commitment=commitment, by=commitment.case.owner
            )
        commitments_sweep_due(now=at)

    def _offers_waiting_for_amelia(self, rng: random.Random, managers: list[Any]) -> None:
        """Two offers made this morning wait in Amelia's queue."""
        amelia = get_user_model().objects.get(username="amelia")
        cases = (
            Case.objects.filter(team__name=TEAMS[0][0], status=CaseStatus.OPEN)
            .exclude(owner=amelia)
            .exclude(handoffs__status="offered")
            .order_by("-created_at")[:2]
        )
        for case in cases:
            handoff_services.handoff_offer(
                case=case,
                by=case.owner,
                to=amelia,
                summary=HandoffSummary(
                    customer_needs=SUMMARY.customer_needs.format(
                        name=case.customer.salutation_name, subject=case.subject
                    ),
                    actions_taken=SUMMARY.actions_taken,
                    customer_expectations=SUMMARY.customer_expectations,
                    # a later offer than the story's: a summary of its own, never a copy
                    next_step=WAITING_OFFER_NEXT_STEP,
                ),
                reason="workload",
                briefed_commitments=[c.id for c in _open_brief(case)],
            )

    def _oliver_on_a_course(self, helen: Any) -> None:
        """Oliver (Billing, backed up by Amelia) is on a course today and the next two
        working days: Amelia's queue shows the cases she covers for him, his customers are
        pointed to her, and the dashboard's "away" lists him, his cover and the promises due
        meanwhile, with a link to "cover for"."""
        User = get_user_model()
        oliver, amelia = User.objects.get(username="oliver"), User.objects.get(username="amelia")
        AgentProfile.objects.filter(user=oliver).update(backup_agent=amelia)
        zone = ZoneInfo(TEAMS[0][1])
        today = timezone.now().astimezone(zone).date()
        back, working_days = today, 0
        while working_days < 3:
            back += timedelta(days=1)
            working_days += back.weekday() < 5
        away_services.absence_record(
            agent=oliver,
            by=helen,
            starts_at=datetime.combine(today, time(0), tzinfo=zone),
            ends_at=datetime.combine(back, time(9), tzinfo=zone),
            note="Training course",
        )

    def _end_open_promises(self, case: Case) -> None:
        """Before a case is resolved, its owner keeps the promises still open."""
        for commitment in Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN):
            if commitment.made_by_id is not None:
                commitment_services.commitment_mark_kept(commitment=commitment, by=case.owner)

    def _deliver_backlog(self) -> None:
        """Send what the story queued before the server starts (in development, to the
        mailbox read on /dev/mail/)."""
        for _ in range(100):
            if not outbox_sweep().claimed and not outbox_in_flight():
                break

    def _print_summary(self, seconds: float) -> None:
        """A few lines on what was built, where the emails went, and who is away."""
        site = settings.SITE_URL
        emails = sum(
            model.objects.filter(channel=NotificationChannel.EMAIL, status="sent").count()
            for model in (Notification, DeliveryLog)
        )
        if settings.EMAIL_BACKEND == "demo.mailbox.MailboxBackend":
            where = f"read them at {site}/dev/mail/"
        else:
            where = f"sent through {settings.EMAIL_BACKEND}"
        oliver = AgentProfile.objects.select_related("backup_agent__agent_profile").get(
            user__username="oliver"
        )
        absence = Absence.objects.filter(agent=oliver.user).order_by("-starts_at").first()
        covered = Case.objects.filter(owner=oliver.user).exclude(
            status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED]
        )
        back = (
            absence.ends_at.astimezone(ZoneInfo(TEAMS[0][1])).strftime("%a %d %b, %H:%M")
            if absence is not None
            else "?"
        )
        cover = display_name(oliver.backup_agent) if oliver.backup_agent else "nobody"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo loaded in {seconds:.0f} s: {Team.objects.count()} teams, "
                    f"{AgentProfile.objects.count()} agents and managers, "
                    f"{Customer.objects.count()} customers, {Case.objects.count()} cases "
                    f"over {HISTORY_WEEKS} weeks.",
                    f"  {emails} emails to customers and staff: {where}",
                    f"  {oliver.display_name} is away today (back {back}); {cover} covers his "
                    f"{covered.count()} open cases.",
                ]
            )
        )

    def _print_logins(self) -> None:
        token = Token.objects.filter(user__username=AGENTS[0][0]).first()
        site = settings.SITE_URL
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"caseowner demo — {site}/",
                    f"  agents:   amelia, oliver, jonas, lena, grace … password {DEMO_PASSWORD}",
                    f"  managers: helen (Billing), stefan (Support), denise (Deliveries) "
                    f"password {DEMO_PASSWORD}",
                    f"  admin:    admin / {DEMO_PASSWORD}  → {site}/admin/",
                    f"  API:      curl -H 'Authorization: Token {token.key if token else '…'}' "
                    f"{site}/api/v1/queue/",
                    f"  API docs: {site}/api/docs/",
                    f"  emails:   {site}/dev/mail/",
                    "",
                ]
            )
        )


def _open_brief(case: Case) -> list[PromiseBrief]:
    return hooks.collect_open_commitments(case)
