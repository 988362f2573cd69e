"""The SMTP/LMTP receiver behind ``manage.py receive_mail``: the centre's mail server
forwards the reply domain here, and each message is answered only once it is stored.

Replies: 250 stored (or stored before: a second delivery is the same message), 552 over
``INBOUND_MAIL_MAX_BYTES`` (aiosmtpd refuses it while it is still arriving), 554 for a message
that can never be read (kept for staff, refused for good so the sender hears at once), 550
for a message that can never be stored, 451 for our own trouble (the sender's server retries
later).
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from caseowner.errors import RuleError
from cases.conversations.inbound import InboundTooLarge, InboundUnreadable, inbound_mail_receive

logger = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd handler: every message to any recipient goes to ``inbound_mail_receive``."""

    def deliver(self, *, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        """Store one message; the SMTP reply line to give the sender (sync, in a thread)."""
        close_old_connections()
        try:
            received = inbound_mail_receive(
                raw=raw, via="smtp", mail_from=mail_from, rcpt_tos=rcpt_tos
            )
        except InboundTooLarge:
            return "552 5.3.4 Message too big for this system"
        except InboundUnreadable as exc:
            return f"554 5.6.0 {exc.message}"
        except RuleError as exc:
            return f"550 5.6.0 {exc.message}"
        except Exception:
            logger.exception("inbound mail: could not store a message from %s", mail_from)
            return "451 4.3.0 Temporary failure storing the message; try again later"
        finally:
            close_old_connections()
        message = received.message
        where = message.case.ref if message.case_id and message.case else "for staff to route"
        again = " (delivered before)" if received.duplicate else ""
        return f"250 2.0.0 Stored as message {message.pk}, {where}{again}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        return await sync_to_async(self.deliver, thread_sensitive=True)(
            raw=raw, mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos)
        )


class _LmtpController(Controller):
    def factory(self) -> Any:
        return LMTP(self.handler, **self.SMTP_kwargs)


def mail_receiver(*, host: str, port: int, lmtp: bool = False) -> Controller:
    """A started-on-demand receiver (``.start()``/``.stop()``) with the size limit enforced
    while the message arrives."""
    controller_class = _LmtpController if lmtp else Controller
    return controller_class(
        InboundHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.INBOUND_MAIL_MAX_BYTES,
        ready_timeout=10,
    )
