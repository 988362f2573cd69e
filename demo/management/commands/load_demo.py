"""Load a believable small organisation: 3 teams, 10 agents, 40 customers, 120 cases.

Cases are opened and moved through the same services the API uses, so owners are chosen by
the teams' rules, timelines are written and customers are notified. Running it twice does
nothing the second time.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from cases import services
from cases.models import AgentProfile, CaseStatus, Channel, Customer, Priority, Team

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
STATUS_PLAN = (
    [CaseStatus.OPEN] * 60
    + [CaseStatus.WAITING] * 20
    + [CaseStatus.RESOLVED] * 15
    + [CaseStatus.CLOSED] * 25
)


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent) and print the logins."

    def handle(self, *args: object, **options: object) -> None:
        if Team.objects.filter(name=TEAMS[0][0]).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            self._load()
        self._print_logins()

    @transaction.atomic
    def _load(self) -> None:
        rng = random.Random(20261125)
        User = get_user_model()
        teams = [Team.objects.create(name=n, time_zone=tz) for n, tz, _ in TEAMS]

        def person(username: str, name: str, job: str, team_i: int) -> object:
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
        for spec in MANAGERS:
            manager = person(*spec)
            teams[spec[3]].managers.add(manager)
            AgentProfile.objects.filter(user=manager).update(accepts_new_cases=False)
        admin = User.objects.create_superuser(
            username="admin", email="admin@caseowner.test", password=DEMO_PASSWORD
        )
        Token.objects.get_or_create(user=agents[0])
        Token.objects.get_or_create(user=admin)

        customers = []
        for i, (name, title, addressed_as) in enumerate(CUSTOMERS):
            slug = name.lower().replace("dr ", "").replace("prof. ", "").replace("'", "")
            customers.append(
                Customer.objects.create(
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
                by=User.objects.get(username=MANAGERS[team_i][0]),
            )
            services.case_add_note(
                case=case,
                by=case.owner,
                text="Spoke to the customer, confirmed account details and the problem.",
            )
            if target != CaseStatus.OPEN:
                services.case_change_status(case=case, status=target, by=case.owner)

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
