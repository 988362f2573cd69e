"""A real SMTP server on loopback (aiosmtpd) that records what it accepts.

It can refuse for a while (``refuse_temporarily``: 451 at DATA, a transient failure) and
reject given recipients for good (``reject``: 550 at RCPT). Thread-safe counters let a test
count deliveries per Message-ID, so duplicates are visible.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    message_id: str
    to: str
    subject: str
    text: str
    message: EmailMessage


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.rejected:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.refuse_window and not self.sink.refuse_until:
            self.sink.refuse_until = time.monotonic() + self.sink.refuse_window
        if time.monotonic() < self.sink.refuse_until:
            self.sink.refusals += 1
            return "451 4.3.0 mail server busy, try again later"
        if not self.sink.parse:
            # Counting only (benchmarks): the Message-ID header, without parsing the message.
            found = _MESSAGE_ID.search(envelope.original_content or envelope.content)
            message_id = found.group(1).decode() if found else ""
            self.sink.record(Received(message_id, "", "", "", EmailMessage()))
            return "250 Message accepted for delivery"
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        self.sink.record(
            Received(
                message_id=str(message["Message-ID"]),
                to=str(message["To"]),
                subject=str(message["Subject"]),
                text=body.get_content() if body is not None else "",
                message=message,
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int | None = None, *, parse: bool = True):
        self.port = port or free_port()
        self.parse = parse
        self.received: list[Received] = []
        self.rejected: set[str] = set()
        self.refuse_window = 0.0
        self.refuse_until = 0.0
        self.refusals = 0
        self._lock = threading.Lock()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=5
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def reject(self, address: str) -> None:
        self.rejected.add(address)

    def refuse_temporarily(self, seconds: float) -> None:
        """Answer 451 to every message for ``seconds`` from the first one that arrives."""
        self.refuse_window = seconds
        self.refuse_until = 0.0

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def by_message_id(self) -> Counter[str]:
        return Counter(r.message_id for r in self.snapshot())

    def duplicates(self) -> dict[str, int]:
        """Message-ID → extra copies received."""
        return {mid: n - 1 for mid, n in self.by_message_id().items() if n > 1}
