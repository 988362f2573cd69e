"""The demo organisation's people, customers and words: three teams, ten agents, three
managers, forty customers, the subjects they write about, the promises agents make and the
hand-off summaries they write (a good one and a hurried one)."""

from __future__ import annotations

from cases.handoffs.gate import HandoffSummary
from cases.models import CaseStatus, Channel
from commitments.models import CommitmentKind

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
    # whole name, given name, family name (as the customer gave them), title, address as
    ("Margaret Okafor", "Margaret", "Okafor", "Mrs", "Mrs Okafor"),
    ("James Whitfield", "James", "Whitfield", "Mr", ""),
    ("Anika Sharma", "Anika", "Sharma", "Dr", "Dr Sharma"),
    ("Samira Haddad", "Samira", "Haddad", "Ms", "Samira"),
    ("Tom Eriksen", "Tom", "Eriksen", "Mr", "Tom"),
    ("Chloé Martin", "Chloé", "Martin", "Ms", ""),
    ("Robert Lowe", "Robert", "Lowe", "Mr", ""),
    ("Alex Morgan", "Alex", "Morgan", "Mx", "Alex"),
    ("Fiona MacLeod", "Fiona", "MacLeod", "Miss", ""),
    ("Kenji Watanabe", "Kenji", "Watanabe", "Prof", "Professor Watanabe"),
    ("Lucy Adeyemi", "Lucy", "Adeyemi", "Ms", ""),
    ("Hannah Schulz", "Hannah", "Schulz", "Ms", "Frau Schulz"),
    ("David Cohen", "David", "Cohen", "Mr", ""),
    ("Isabel Navarro", "Isabel", "Navarro", "Mrs", ""),
    ("Ethan Clarke", "Ethan", "Clarke", "Mr", "Ethan"),
    ("Nora Lindqvist", "Nora", "Lindqvist", "Ms", ""),
    ("Patrick O'Brien", "Patrick", "O'Brien", "Mr", ""),
    ("Mei Chen", "Mei", "Chen", "Dr", "Dr Chen"),
    ("George Adams", "George", "Adams", "Mr", ""),
    ("Zara Hussain", "Zara", "Hussain", "Mrs", ""),
    ("Oscar Dubois", "Oscar", "Dubois", "Mr", ""),
    ("Ruth Campbell", "Ruth", "Campbell", "Mrs", "Ruth"),
    ("Viktor Novak", "Viktor", "Novak", "Mr", ""),
    ("Aoife Byrne", "Aoife", "Byrne", "Ms", ""),
    ("Daniel Mensah", "Daniel", "Mensah", "Mr", ""),
    ("Emily Turner", "Emily", "Turner", "Miss", "Emily"),
    ("Carlos Mendes", "Carlos", "Mendes", "Mr", ""),
    ("Ingrid Johansson", "Ingrid", "Johansson", "Mrs", ""),
    ("Kwame Asante", "Kwame", "Asante", "Mr", ""),
    ("Sophie Laurent", "Sophie", "Laurent", "Ms", ""),
    ("William Grant", "William", "Grant", "Mr", "Bill"),
    ("Yasmin Farah", "Yasmin", "Farah", "Ms", ""),
    ("Peter Novotný", "Peter", "Novotný", "Mr", ""),
    ("Laura Bianchi", "Laura", "Bianchi", "Mrs", ""),
    ("Henry Walsh", "Henry", "Walsh", "Mr", ""),
    ("Olga Petrova", "Olga", "Petrova", "Dr", "Dr Petrova"),
    ("Ben Richardson", "Ben", "Richardson", "Mr", ""),
    ("Amara Nwosu", "Amara", "Nwosu", "Ms", "Amara"),
    ("Lars Nilsson", "Lars", "Nilsson", "Mr", ""),
    ("Charlotte Evans", "Charlotte", "Evans", "Mrs", "Mrs Evans"),
    ("Wang Wei", "Wei", "Wang", "Mr", ""),
    ("Anna van der Berg", "Anna", "van der Berg", "Mrs", ""),
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
# A hurried hand-off: each field just past the gate's minimum, so the automatic score is low.
WEAK_SUMMARY = HandoffSummary(
    customer_needs="Customer is unhappy about {subject} and wants it fixed.",
    actions_taken="Looked at the account, nothing obvious found so far.",
    customer_expectations="Expects someone to get back to them about it soon.",
    next_step="Pick it up and call them when you have a moment today.",
)
# The next step of the two offers waiting for Amelia this morning (the gate refuses a summary
# that repeats the case's previous hand-off word for word).
WAITING_OFFER_NEXT_STEP = (
    "Call the customer this morning: they expect to hear from their new owner today. Confirm "
    "the plan with them and record the promise with its date."
)
