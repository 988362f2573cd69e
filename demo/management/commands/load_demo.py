"""Load a believable small organisation: 3 teams, 10 agents, 40 customers, 120 cases.

Everything goes through the same services the API uses: owners are chosen by the teams'
rules, first replies are promised and kept, agents make, keep and renegotiate promises, hand
cases over with a summary, and managers review hand-offs. Customers are notified as in
production (the outbox is delivered to the console before the server starts). Running it
twice does nothing the second time.
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from cases import handoff_services, hooks, services
from cases.handoff_gate import HandoffRubric, HandoffSummary
from cases.hooks import PromiseBrief
from cases.models import AgentProfile, Case, CaseStatus, Channel, Priority, Team
from commitments import services as commitment_services
from commitments.models import Commitment, CommitmentKind, CommitmentStatus
from notifications.services import outbox_in_flight, outbox_sweep

DEMO_PASSWORD = "caseowner-demo"

TEAMS = [
    ("Billing", "Europe/London", "Mon–Fri 08:00–18:00 (London)"),
    ("Technical Support", "Europe/Berlin", "Mon–Fri 09:00–17:00 (Berlin)"),
    ("Deliveries & Returns", "America/New_York", "Mon–Sat 08:00–20:00 (New York)"),
]

# (username, display name, job title, team index)
AGENTS = [
    ("amelia", "Amelia Hart", "Senior Billing Specialist", 0),
    ("oliver", "Oliver Bennett", "Billing Specialist", 0),
    ("priya", "Priya Raman", "Accounts Advisor", 0),
    ("jonas", "Jonas Weber", "Technical Support Engineer", 1),
    ("lena", "Lena Fischer", "Senior Support Engineer", 1),
    ("mateo", "Mateo García", "Support Engineer", 1),
    ("aisha", "Aisha Bello", "Network Specialist", 1),
    ("grace", "Grace Kim", "Delivery Coordinator", 2),
    ("marcus", "Marcus Johnson", "Returns Specialist", 2),
    ("sofia", "Sofia Rossi", "Customer Care Lead", 2),
]
MANAGERS = [
    ("helen", "Helen Marsh", "Billing Team Manager", 0),
    ("stefan", "Stefan Braun", "Support Team Manager", 1),
    ("denise", "Denise Carter", "Logistics Team Manager", 2),
]

CUSTOMERS = [
    ("Margaret Okafor", "Mrs", "Mrs Okafor"),
    ("James Whitfield", "Mr", ""),
    ("Dr Anika Sharma", "Dr", "Dr Sharma"),
    ("Samira Haddad", "Ms", "Samira"),
    ("Tom Eriksen", "Mr", "Tom"),
    ("Chloé Martin", "Ms", ""),
    ("Robert Lowe", "Mr", ""),
    ("Alex Morgan", "Mx", "Alex"),
    ("Fiona MacLeod", "Miss", ""),
    ("Prof. Kenji Watanabe", "Prof", "Professor Watanabe"),
    ("Lucy Adeyemi", "Ms", ""),
    ("Hannah Schulz", "Ms", "Frau Schulz"),
    ("David Cohen", "Mr", ""),
    ("Isabel Navarro", "Mrs", ""),
    ("Ethan Clarke", "Mr", "Ethan"),
    ("Nora Lindqvist", "Ms", ""),
    ("Patrick O'Brien", "Mr", ""),
    ("Mei Chen", "Dr", "Dr Chen"),
    ("George Adams", "Mr", ""),
    ("Zara Hussain", "Mrs", ""),
    ("Oscar Dubois", "Mr", ""),
    ("Ruth Campbell", "Mrs", "Ruth"),
    ("Viktor Novak", "Mr", ""),
    ("Aoife Byrne", "Ms", ""),
    ("Daniel Mensah", "Mr", ""),
    ("Emily Turner", "Miss", "Emily"),
    ("Carlos Mendes", "Mr", ""),
    ("Ingrid Johansson", "Mrs", ""),
    ("Kwame Asante", "Mr", ""),
    ("Sophie Laurent", "Ms", ""),
    ("William Grant", "Mr", "Bill"),
    ("Yasmin Farah", "Ms", ""),
    ("Peter Novotný", "Mr", ""),
    ("Laura Bianchi", "Mrs", ""),
    ("Henry Walsh", "Mr", ""),
    ("Olga Petrova", "Dr", "Dr Petrova"),
    ("Ben Richardson", "Mr", ""),
    ("Amara Nwosu", "Ms", "Amara"),
    ("Lars Nilsson", "Mr", ""),
    ("Charlotte Evans", "Mrs", "Mrs Evans"),
]
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Europe/Dublin", "Europe/Paris"]

SUBJECTS = {
    0: [
        "Charged twice for the March invoice",
        "Refund for cancelled subscription not received",
        "Direct debit failed after bank change",
        "VAT missing from company invoice",
        "Price went up without notice",
        "Credit note requested for outage days",
    ],
    1: [
        "Router drops connection every evening",
        "Cannot log in after password reset",
        "App crashes when uploading photos",
        "Slow broadband since engineer visit",
        "Email sync stopped on phone",
        "Two-factor codes not arriving",
    ],
    2: [
        "Parcel marked delivered but not received",
        "Wrong size sent, need exchange",
        "Return label not working",
        "Delivery slot missed twice",
        "Damaged item on arrival",
        "Collection from workplace instead of home",
    ],
}
CHANNELS = [
    Channel.EMAIL,
    Channel.EMAIL,
    Channel.PHONE,
    Channel.CHAT,
    Channel.SOCIAL,
    Channel.WEB,
    Channel.IN_PERSON,
]
# 120 cases: mostly open, the rest waiting, resolved or closed.
STATUS_PLAN: list[str] = (
    [CaseStatus.OPEN.value] * 60
    + [CaseStatus.WAITING.value] * 20
    + [CaseStatus.RESOLVED.value] * 15
    + [CaseStatus.CLOSED.value] * 25
)


PROMISES = [
    (
        "I will call you back tomorrow before noon with what I find.",
        CommitmentKind.CALLBACK,
        "1 business days",
    ),
    (
        "You will have an update from me by the end of today.",
        CommitmentKind.UPDATE,
        "4 business hours",
    ),
    (
        "The refund will be on its way to your card within two working days.",
        CommitmentKind.REFUND,
        "2 business days",
    ),
    (
        "A replacement will be dispatched and you will get the tracking number.",
        CommitmentKind.DELIVERY,
        "3 business days",
    ),
    (
        "I will confirm the fix with our engineers and write to you.",
        CommitmentKind.RESOLUTION,
        "2 business days",
    ),
]

SUMMARY = HandoffSummary(
    customer_needs=(
        '{name} needs help with "{subject}"; they have explained it once and expect us to '
        "carry it through."
    ),
    actions_taken=(
        "Checked the account history, reproduced the problem and noted every detail on the "
        "timeline; nothing has been changed on the account yet."
    ),
    customer_expectations=(
        "They were promised a proper answer and are patient but tired of being passed around; "
        "in their words: 'please just tell me who is dealing with it'."
    ),
    next_step=(
        "Call the customer at the time they prefer, confirm the plan, then record the promise "
        "with its date so reminders go out."
    ),
)


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent), deliver its emails and print the logins."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "load_demo refuses to run with production settings (CASEOWNER_PRODUCTION=true): "
                f"it creates users with the published password {DEMO_PASSWORD!r}."
            )
        if Team.objects.filter(name=TEAMS[0][0]).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            self._load()
            self._deliver_backlog()
        self._print_logins()

    @transaction.atomic
    def _load(self) -> None:
        rng = random.Random(20261125)
        User = get_user_model()
        teams = [Team.objects.create(name=n, time_zone=tz) for n, tz, _ in TEAMS]

        def person(username: str, name: str, job: str, team_i: int) -> Any:
            first, last = name.split(" ", 1)
            user = User.objects.create_user(
                username=username,
                email=f"{username}@caseowner.test",
                password=DEMO_PASSWORD,
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
        admin = User.objects.create_superuser(
            username="admin", email="admin@caseowner.test", password=DEMO_PASSWORD
        )
        for user in [*agents, *managers, admin]:
            Token.objects.get_or_create(user=user)

        customers = []
        for i, (name, title, addressed_as) in enumerate(CUSTOMERS):
            ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
            slug = ascii_name.lower().replace("dr ", "").replace("prof. ", "").replace("'", "")
            customers.append(
                services.customer_create(
                    full_name=name,
                    title=title,
                    addressed_as=addressed_as,
                    email=f"{slug.replace(' ', '.')}@example.org",
                    phone=f"+44 7700 900{i:03d}",
                    preferred_channel=rng.choice([Channel.EMAIL, Channel.PHONE, Channel.CHAT]),
                    time_zone=rng.choice(ZONES),
                )
            )

        plan = STATUS_PLAN[:]
        rng.shuffle(plan)
        cases: list[tuple[Case, str]] = []  # (case, the status it ends in)
        for i, target in enumerate(plan):
            team_i = i % 3
            case = services.case_open(
                customer=customers[(i * 7) % len(customers)],
                team=teams[team_i],
                channel=rng.choice(CHANNELS),
                subject=rng.choice(SUBJECTS[team_i]),
                description="Customer contacted us; details in the first note.",
                priority=rng.choice(
                    [Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.LOW, Priority.URGENT]
                ),
                by=managers[team_i],
            )
            # The owner answers: the first-reply promise is kept (fast channels always).
            first = Commitment.objects.get(case=case, kind=CommitmentKind.FIRST_RESPONSE)
            if case.channel not in (Channel.EMAIL, Channel.WEB) or rng.random() < 0.7:
                commitment_services.commitment_mark_kept(commitment=first, by=case.owner)
            services.case_add_note(
                case=case,
                by=case.owner,
                text="Spoke to the customer, confirmed account details and the problem.",
            )
            cases.append((case, target))

        self._promises(rng, cases)
        self._handoffs(rng, cases, teams, managers)
        for case, target in cases:
            if target != CaseStatus.OPEN:
                case.refresh_from_db()
                self._end_open_promises(case)
                services.case_change_status(case=case, status=target, by=case.owner)

    def _promises(self, rng: random.Random, cases: list[tuple[Case, str]]) -> None:
        for n, (case, _target) in enumerate(cases):
            if n % 5 == 4:
                continue  # some cases carry only their first-reply promise
            description, kind, within = PROMISES[n % len(PROMISES)]
            commitment = commitment_services.commitment_create(
                case=case, by=case.owner, description=description, kind=kind, due=within
            )
            if n % 9 == 0:
                commitment_services.commitment_renegotiate(
                    commitment=commitment,
                    by=case.owner,
                    due="5 business days",
                    reason="The supplier needs two more days to confirm; I did not want you "
                    "to find out on the day.",
                )
            elif n % 7 == 0:
                commitment_services.commitment_mark_kept(commitment=commitment, by=case.owner)

    def _handoffs(
        self,
        rng: random.Random,
        cases: list[tuple[Case, str]],
        teams: list[Team],
        managers: list[Any],
    ) -> None:
        """Accepted hand-offs (some acknowledged and reviewed), one declined, and offers
        waiting for Amelia so her queue shows them."""
        amelia = get_user_model().objects.get(username="amelia")
        done = waiting_for_amelia = 0
        for case, target in cases:
            if target != CaseStatus.OPEN:
                continue
            case.refresh_from_db()
            colleagues = list(
                AgentProfile.objects.filter(teams=case.team)
                .exclude(user=case.owner)
                .exclude(user__in=managers)
                .values_list("user", flat=True)
            )
            to_amelia = amelia.pk in colleagues and waiting_for_amelia < 2
            receiver = get_user_model().objects.get(pk=amelia.pk if to_amelia else colleagues[0])
            briefed = [c.id for c in _open_brief(case)]
            summary = HandoffSummary(
                customer_needs=SUMMARY.customer_needs.format(
                    name=case.customer.salutation_name, subject=case.subject
                ),
                actions_taken=SUMMARY.actions_taken,
                customer_expectations=SUMMARY.customer_expectations,
                next_step=SUMMARY.next_step,
            )
            offer = handoff_services.handoff_offer(
                case=case,
                by=case.owner,
                to=receiver,
                summary=summary,
                reason=rng.choice(["shift_end", "expertise", "workload"]),
                briefed_commitments=briefed,
            )
            if to_amelia:
                waiting_for_amelia += 1
                continue  # left waiting in Amelia's queue
            done += 1
            if done == 1:
                handoff_services.handoff_decline(
                    handoff=offer,
                    by=receiver,
                    reason="I am on leave from tomorrow; please offer it to someone on shift.",
                )
                continue
            handoff_services.handoff_accept(handoff=offer, by=receiver)
            if done % 2:
                case.refresh_from_db()
                handoff_services.handoff_customer_acknowledge(case=case)
            if done % 3 == 0:
                offer.refresh_from_db()
                manager = case.team.managers.first()
                handoff_services.handoff_review(
                    handoff=offer,
                    by=manager,
                    rubric=HandoffRubric(
                        context_complete=5,
                        next_step_clear=4,
                        commitments_carried=5,
                        customer_informed=4 if done % 2 else 3,
                    ),
                    comment="Clear brief; the customer knew who to call next.",
                )
            if done >= 14:
                break

    def _end_open_promises(self, case: Case) -> None:
        """Before a case is resolved, its owner keeps the promises still open."""
        for commitment in Commitment.objects.filter(case=case, status=CommitmentStatus.OPEN):
            if commitment.made_by_id is not None:
                commitment_services.commitment_mark_kept(commitment=commitment, by=case.owner)

    def _deliver_backlog(self) -> None:
        """Send what the story queued (to the console by default) before the server starts."""
        for _ in range(100):
            if not outbox_sweep().claimed and not outbox_in_flight():
                break

    def _print_logins(self) -> None:
        token = Token.objects.filter(user__username=AGENTS[0][0]).first()
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "caseowner demo — http://127.0.0.1:8000/",
                    f"  agents:   amelia, oliver, jonas, lena, grace … password {DEMO_PASSWORD}",
                    f"  managers: helen (Billing), stefan (Support), denise (Deliveries) "
                    f"password {DEMO_PASSWORD}",
                    f"  admin:    admin / {DEMO_PASSWORD}  → http://127.0.0.1:8000/admin/",
                    f"  API:      curl -H 'Authorization: Token {token.key if token else '…'}' "
                    "http://127.0.0.1:8000/api/v1/queue/",
                    "  API docs: http://127.0.0.1:8000/api/docs/",
                    "",
                ]
            )
        )


def _open_brief(case: Case) -> list[PromiseBrief]:
    return hooks.collect_open_commitments(case)
