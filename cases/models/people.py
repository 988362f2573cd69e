"""Who the case is about and who works on it: customers, teams, agents' profiles."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now, Upper
from django.utils.translation import gettext_lazy as _

from caseowner import text


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social message")
    WEB = "web", _("Web form")
    IN_PERSON = "in_person", _("In person")


# First-response targets by channel, in seconds (the industry benchmarks the product uses).
DEFAULT_FIRST_RESPONSE_SECONDS: dict[str, int] = {
    Channel.EMAIL: 6 * 3600,
    Channel.SOCIAL: 2 * 3600,
    Channel.CHAT: 60,
    Channel.PHONE: 60,
    Channel.WEB: 6 * 3600,
    Channel.IN_PERSON: 60,
}


# A first-response target under this is a live channel's service level, measured from the
# contacts and never promised to the customer (per team: ``Team.live_response_threshold_seconds``).
DEFAULT_LIVE_RESPONSE_THRESHOLD_SECONDS = 15 * 60
# The share of a live channel's cases answered within target a team aims for (80 % in 60 s).
DEFAULT_FIRST_RESPONSE_GOAL_PERCENT = 80


class Title(models.TextChoices):
    NONE = "", _("(none)")
    MR = "Mr", _("Mr")
    MRS = "Mrs", _("Mrs")
    MS = "Ms", _("Ms")
    MISS = "Miss", _("Miss")
    MX = "Mx", _("Mx")
    DR = "Dr", _("Dr")
    PROF = "Prof", _("Prof")


class Customer(models.Model):
    # The whole name as the customer writes it ("Wang Wei", "Anna van der Berg", "Madonna").
    full_name = models.CharField(max_length=text.NAME_MAX, validators=[text.single_line])
    # The parts the customer gave, when they gave them: a title is used with the family name
    # only ("Mr Wang", "Mr van der Berg"), never with a guess from the last word.
    given_name = models.CharField(
        max_length=text.NAME_MAX, blank=True, validators=[text.single_line]
    )
    family_name = models.CharField(
        max_length=text.NAME_MAX, blank=True, validators=[text.single_line]
    )
    title = models.CharField(max_length=10, choices=Title.choices, blank=True)
    # How the customer asked to be addressed, in their words ("Sam", "Dr Okafor").
    addressed_as = models.CharField(
        max_length=text.NAME_MAX, blank=True, validators=[text.single_line]
    )
    email = models.EmailField(blank=True)
    # E.164 ("+447700900021"), checked by the services (``cases.customers.phones``); shown
    # nationally.
    phone = models.CharField(max_length=40, blank=True)
    preferred_channel = models.CharField(
        max_length=20, choices=Channel.choices, default=Channel.EMAIL
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(db_default=Now())
    # A record merged into another is kept as a tombstone pointing at the survivor
    # (``customer_merge``; ``customer_unmerge`` clears it).
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    # When the customer's personal data was erased (``cases.customers.erasure.customer_erase``); the
    # record stays, as "Erased customer", so their cases keep their figures.
    erased_at = models.DateTimeField(null=True, blank=True)

    # What names or reaches the person: an erasure blanks every one of these, the admin lists
    # them. A field added to Customer is either here or among the settings that are not
    # personal (a test holds every field to one side or the other).
    PERSONAL_FIELDS = (
        "full_name",
        "given_name",
        "family_name",
        "title",
        "addressed_as",
        "email",
        "phone",
    )

    class Meta:
        indexes = [
            # customer search by email in the back office and intake de-duplication
            models.Index(fields=["email"], name="customer_email"),
            # search and intake de-duplication by email, any case (``email__iexact``)
            models.Index(Upper("email"), name="customer_email_upper"),
            # search and intake de-duplication by phone (E.164), live records only
            models.Index(
                fields=["phone"],
                condition=Q(merged_into__isnull=True) & ~Q(phone=""),
                name="customer_phone_live",
            ),
        ]
        # (PostgreSQL also has ``customer_name_trgm``, a GIN trigram index on the folded
        # name, made by migration 0006: name search in ``cases.customers.search``.)

    def __str__(self) -> str:
        return self.full_name

    @property
    def phone_national(self) -> str:
        from cases.customers.phones import national

        return national(self.phone)

    @property
    def salutation_name(self) -> str:
        """The name a letter opens with: their own words first, then title and family name
        (as given, never guessed from the whole name), else the whole name."""
        if self.addressed_as:
            return self.addressed_as
        if self.title and self.family_name:
            return f"{self.title} {self.family_name}"
        return self.full_name


class AssignmentRule(models.TextChoices):
    LEAST_OPEN = "least_open", _("Fewest open cases, ties by round robin")
    ROUND_ROBIN = "round_robin", _("Round robin")


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # ISO 3166 region in which the team's agents type phone numbers without a country code.
    phone_region = models.CharField(max_length=2, default="GB")
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True
    )
    assignment_rule = models.CharField(
        max_length=20, choices=AssignmentRule.choices, default=AssignmentRule.LEAST_OPEN
    )
    # The agent who got the last case by rule; the next tie goes to the one after.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Per-channel overrides of DEFAULT_FIRST_RESPONSE_SECONDS: {"email": 3600, ...}.
    first_response_seconds = models.JSONField(default=dict, blank=True)
    # A channel whose target is under this many seconds is live (chat, phone, in person by
    # default): its first response is measured, never promised to the customer.
    live_response_threshold_seconds = models.PositiveIntegerField(
        default=DEFAULT_LIVE_RESPONSE_THRESHOLD_SECONDS
    )
    # Measure live first responses in the team's business time instead of clock time.
    first_response_business_time = models.BooleanField(default=False)
    # The share of live cases to answer within target, in percent (the "80" of 80/60).
    first_response_goal_percent = models.PositiveSmallIntegerField(
        default=DEFAULT_FIRST_RESPONSE_GOAL_PERCENT
    )
    # How long (business minutes) a hand-off offer may wait before the receiver is reminded;
    # twice that escalates to the managers.
    handoff_accept_minutes = models.PositiveIntegerField(default=120)
    # Days a customer link keeps working after its case is closed; checked when the link is
    # opened (no sweep), so changing it applies at once to every closed case of the team.
    customer_link_grace_days = models.PositiveIntegerField(default=14)
    # A customer's email to a resolved or closed case reopens it within this many days of its
    # resolution; later it opens a follow-up case with the same owner (a new matter, counted
    # as one, while the old case keeps its record).
    follow_up_after_days = models.PositiveIntegerField(default=14)
    # Who the customer reaches when an owner and their backup are both away.
    on_duty = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="on_duty_for",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_goal_percent__gte=1)
                & Q(first_response_goal_percent__lte=100),
                name="team_first_response_goal_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def first_response_target(self, channel: str) -> timedelta:
        seconds = self.first_response_seconds.get(channel)
        if seconds is None:
            seconds = DEFAULT_FIRST_RESPONSE_SECONDS.get(channel, 6 * 3600)
        return timedelta(seconds=int(seconds))

    def first_response_is_live(self, channel: str) -> bool:
        """A live channel's first response is a service level measured from the contacts;
        any other's is a promise to the customer, kept by the first reply."""
        target = self.first_response_target(channel)
        return target < timedelta(seconds=self.live_response_threshold_seconds)


class StaffLanguage(models.TextChoices):
    """The languages of the staff pages; each language is named in itself."""

    BROWSER = "", _("The browser's language")
    ENGLISH = "en-gb", _("English")
    GERMAN = "de", _("Deutsch")


class AgentProfile(models.Model):
    """What a customer sees of the person who owns their case."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent_profile"
    )
    display_name = models.CharField(max_length=120)
    job_title = models.CharField(max_length=120, blank=True)
    direct_email = models.EmailField(blank=True)
    direct_phone = models.CharField(max_length=40, blank=True)
    # Shown to customers as written, e.g. "Mon–Fri 08:00–16:00 (London)".
    working_hours = models.CharField(max_length=200, blank=True)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    backup_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backing_up",
    )
    # An agent on leave keeps their cases but gets none by rule.
    accepts_new_cases = models.BooleanField(default=True)
    # Their own zone and weekly hours ({"0": [["08:00", "16:00"]], …}, Monday "0"); blank:
    # their first team's calendar and zone.
    time_zone = models.CharField(max_length=64, blank=True)
    weekly_hours = models.JSONField(default=dict, blank=True)
    # The "away now" switch for the unplanned: set while away, None when back.
    away_since = models.DateTimeField(null=True, blank=True)
    away_note = models.CharField(max_length=200, blank=True)
    # The language of their pages (``caseowner.language``); blank: the browser's.
    language = models.CharField(
        max_length=16, choices=StaffLanguage.choices, blank=True, default=StaffLanguage.BROWSER
    )

    def __str__(self) -> str:
        return self.display_name
