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

import random
import unicodedata
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cases.availability import services as away_services
from cases.availability.backups import team_cover_update
from cases.customers import services as customer_services
from cases.handoffs import services as handoff_services
from cases.handoffs.gate import HandoffSummary
from cases.models import (
    Absence,
    AgentProfile,
    Case,
    CaseStatus,
    Channel,
    Customer,
    SatisfactionAnswer,
    Team,
)
from cases.recipients import display_name
from cases.satisfaction.services import answer_token, satisfaction_answer
from demo.data import (
    AGENTS,
    CUSTOMERS,
    MANAGERS,
    STATUS_PLAN,
    SUMMARY,
    TEAMS,
    WAITING_OFFER_NEXT_STEP,
    ZONES,
)
from demo.story import Story, case_story, clock, hourly, open_brief, quietly
from notifications.models import DeliveryLog, Notification, NotificationChannel
from notifications.services import outbox_in_flight, outbox_sweep

DEMO_PASSWORD = "caseowner-demo"
HISTORY_WEEKS = 8
# What a few customers write beside their score.
ANSWER_COMMENTS = (
    "Quick and clear, thank you.",
    "I had to explain everything again after the hand-over.",
    "The call back came a day later than promised.",
    "Sorted in the end, but it took a while.",
)


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
            started = monotonic()
            with quietly():
                self._load()
                self._deliver_backlog()
            self._print_summary(monotonic() - started)
        self._print_logins()

    @transaction.atomic
    def _load(self) -> None:
        rng = random.Random(20261125)
        now = timezone.now().replace(microsecond=0)
        monday = (now - timedelta(days=now.weekday())).date()
        start = datetime.combine(
            monday - timedelta(weeks=HISTORY_WEEKS - 1), time(6), tzinfo=now.tzinfo
        )
        with clock(start - timedelta(days=3)):
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
                case_story(
                    rng,
                    story,
                    n=i,
                    target=target,
                    team=teams[team_i],
                    # every customer in turn, their cases weeks apart (a stride of 7
                    # over 42 customers reached only 6 of them)
                    customer=customers[i % len(customers)],
                    manager=managers[team_i],
                    progress=lambda at: min(max((at - start) / (now - start), 0.0), 1.0),
                ),
            )
        # the due-promise sweep, as production runs it (every few seconds there; hourly here)
        moment = start
        while moment < now:
            story.at(moment, hourly)
            moment += timedelta(hours=1)
        story.run()
        self._answers_at_close(rng, now)
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

    def _answers_at_close(self, rng: random.Random, now: datetime) -> None:
        """Most customers answer the question at close within two days: a little lower when
        their case changed hands or a promise was renegotiated, much lower when one was missed
        (what the dashboard's table asks about); a few add a comment."""
        for answer in SatisfactionAnswer.objects.order_by("pk"):
            at = answer.asked_at + timedelta(hours=rng.uniform(1, 48))
            if rng.random() > 0.8 or at >= now:
                continue
            mean = 4.6 - 0.5 * (answer.handoffs > 0) - 0.4 * (answer.promises_renegotiated > 0)
            mean -= 1.8 * (answer.promises_missed > 0)
            score = min(5, max(1, round(rng.gauss(mean, 0.7))))
            comment = rng.choice(ANSWER_COMMENTS) if rng.random() < 0.25 else ""
            with clock(at):
                satisfaction_answer(token=answer_token(answer.pk), score=score, comment=comment)

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
                briefed_commitments=[c.id for c in open_brief(case)],
            )

    def _oliver_on_a_course(self, helen: Any) -> None:
        """Oliver (Billing, backed up by Amelia) is on a course today and the next two
        working days: Amelia's queue shows the cases she covers for him, his customers are
        pointed to her, and the dashboard's "away" lists him, his cover and the promises due
        meanwhile, with a link to "cover for"."""
        User = get_user_model()
        oliver, amelia = User.objects.get(username="oliver"), User.objects.get(username="amelia")
        billing = Team.objects.get(name=TEAMS[0][0])
        team_cover_update(
            team=billing, by=helen, on_duty=billing.on_duty_id, backups={oliver.pk: amelia.pk}
        )
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
