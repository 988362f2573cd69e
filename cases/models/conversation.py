"""The conversation with the customer: every contact on a case, and the raw inbound email
it may have come from (kept whole, matched to a case or waiting for staff to route)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case
from cases.models.people import Channel

# Bounds of what a contact holds (the raw email is kept apart, whole).
CONTACT_BODY_MAX = 10_000
CONTACT_SUMMARY_MAX = 300
CONTACT_EXTERNAL_ID_MAX = 200


class ContactDirection(models.TextChoices):
    TO_CUSTOMER = "to_customer", _("To the customer")
    FROM_CUSTOMER = "from_customer", _("From the customer")


class Contact(models.Model):
    """One exchange with the customer: a reply, a call, a chat, an email received."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    direction = models.CharField(max_length=16, choices=ContactDirection.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    at = models.DateTimeField()
    # The agent who spoke or wrote; None when the customer did (or an unknown sender).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    summary = models.CharField(max_length=CONTACT_SUMMARY_MAX, blank=True)
    body = models.TextField(blank=True)
    # The caller's id for the exchange (a chat transcript id, a call id, a Message-ID):
    # the same id twice on a case is one contact.
    external_id = models.CharField(max_length=CONTACT_EXTERNAL_ID_MAX, blank=True)
    # An email's Message-ID (ours for a reply sent, the sender's for one received): the
    # thread headers of later mail are matched against it.
    message_id = models.CharField(max_length=255, blank=True)
    # The raw email a received contact came from.
    inbound = models.ForeignKey(
        "cases.InboundMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    # RFC 3834 auto-reply or a bounce: recorded, but it changes nothing on the case.
    auto_submitted = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # a case's contacts, newest first (API list, first-response figures)
            models.Index(fields=["case", "-at", "-id"], name="contact_case_at"),
            # first-response figures: a case's first contact each way, automatic ones aside
            models.Index(
                fields=["case", "direction", "at", "id"],
                condition=Q(auto_submitted=False),
                name="contact_case_first",
            ),
            # inbound matching: the case of a Message-ID named in In-Reply-To/References
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="contact_message_id"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_once",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=[d.value for d in ContactDirection]),
                name="contact_direction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} by {self.channel} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def to_customer(self) -> bool:
        return self.direction == ContactDirection.TO_CUSTOMER


class InboundStatus(models.TextChoices):
    MATCHED = "matched", _("Matched to its case")
    UNMATCHED = "unmatched", _("Waiting for staff to route")
    ATTACHED = "attached", _("Attached to a case by staff")


class InboundMessage(models.Model):
    """An email as it arrived, kept whole: the record behind a received contact, and the
    message staff route when it matched no case (never dropped)."""

    # A digest of the Message-ID and the content
    # (``cases.conversations.mime.inbound_dedupe_key``): a second delivery is the same row,
    # a different message reusing an id is a new one.
    dedupe_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=255, blank=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    # "smtp" or "http": how it came in.
    via = models.CharField(max_length=10)
    mail_from = models.CharField(max_length=320, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # The new text (quoted history cut off), as plain text; HTML only ever sanitised.
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    # Why it is automatic ("auto-submitted: auto-replied", "delivery status"…); empty: a person.
    auto_reason = models.CharField(max_length=100, blank=True)
    # Why the message could not be read ("MIME parts nested deeper than 50 levels"); empty: it
    # was. Such a message matches no case and waits for staff, its raw bytes kept.
    problem = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=InboundStatus.choices)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="inbound_messages"
    )
    # "reply_address", "thread", "subject" or "staff".
    matched_by = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField()
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes = [
            # staff's list of mail waiting to be routed, oldest first
            models.Index(
                fields=["received_at"], condition=Q(status="unmatched"), name="inbound_unmatched"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in InboundStatus]),
                name="inbound_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="unmatched") | Q(case__isnull=False),
                name="inbound_routed_has_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"

    @property
    def is_auto(self) -> bool:
        return bool(self.auto_reason)
