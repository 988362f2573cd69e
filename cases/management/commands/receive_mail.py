"""``manage.py receive_mail``: receive customers' replies over SMTP (or LMTP) and file them
on their cases. Point the centre's mail server at it for INBOUND_DOMAIN."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cases.conversations.receiver import mail_receiver


class Command(BaseCommand):
    help = "Receive inbound email over SMTP or LMTP and file each message on its case."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2525, help="Port to listen on.")
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP instead of SMTP.")

    def handle(self, *args: Any, **options: Any) -> None:
        receiver = mail_receiver(host=options["host"], port=options["port"], lmtp=options["lmtp"])
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        receiver.start()
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        self.stdout.write(
            f"receive_mail: {protocol} on {options['host']}:{options['port']}", ending="\n"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            receiver.stop()
