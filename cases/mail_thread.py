"""Where a customer's answer to any email of a case goes, and how the case's emails thread.

Every customer email carries the case's Reply-To, ``reply+<case id>.<signature>@INBOUND_DOMAIN``
(Django's signing with a salt of its own, so nobody can make up an address that files mail on
someone else's case; it never expires: a customer may answer months later, and the address
grants nothing but that), which the inbound path (``cases.conversations.inbound``) files on the
case. So no email invites a reply the product cannot receive.

Threading: each email's Message-ID is its outbox row's (``notifications``). Every email of the
case carries the case's root id ``<case-<id>@…>`` first in References, so a mail program groups
all of a case's emails in one conversation, whichever came first; a notice is In-Reply-To the
root, a reply (``case_thread``) the customer's last email, with the case's newest Message-IDs
after the root.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from cases.models import Case, Channel, Contact, ContactDirection

# Message-IDs carried in References besides the case's root (the newest ones of the case).
REFERENCES_MAX = 10

_REPLY_SALT = "caseowner.reply-address"


def reply_address(case_id: int) -> str:
    """``reply+<case id>.<signature>@INBOUND_DOMAIN``: the case's Reply-To."""
    token = signing.Signer(salt=_REPLY_SALT, sep=".").sign(str(case_id))
    return f"reply+{token}@{settings.INBOUND_DOMAIN}"


def case_id_from_reply_address(address: str) -> int | None:
    """The case a reply address of ours names, or None (another address, a forged token)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != settings.INBOUND_DOMAIN or not local.lower().startswith("reply+"):
        return None
    try:
        value = signing.Signer(salt=_REPLY_SALT, sep=".").unsign(local[len("reply+") :])
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def case_root_message_id(case_id: int) -> str:
    """The id every email of the case refers to, so they thread as one conversation."""
    return f"<case-{case_id}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def case_id_from_root_message_id(message_id: str) -> int | None:
    """The case whose root id this is, or None (another id)."""
    local, at, domain = message_id.strip().strip("<>").partition("@")
    if not at or domain.lower() != settings.EMAIL_MESSAGE_ID_DOMAIN.lower():
        return None
    number = local.lower().removeprefix("case-")
    return int(number) if local.lower().startswith("case-") and number.isdigit() else None


def case_thread(case: Case) -> tuple[str, tuple[str, ...]]:
    """(In-Reply-To, References) of a new email on the case: the customer's last email (else
    the case's root), and the root then the case's newest Message-IDs in the order written."""
    ids = list(
        Contact.objects.filter(case=case, channel=Channel.EMAIL)
        .exclude(message_id="")
        .order_by("-at", "-id")
        .values_list("message_id", "direction")[:REFERENCES_MAX]
    )
    root = case_root_message_id(case.pk)
    last_inbound = next((m for m, d in ids if d == ContactDirection.FROM_CUSTOMER), "")
    references = (root, *(m for m, _ in reversed(ids) if m != root))
    return last_inbound or root, references
