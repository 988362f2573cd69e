"""Operations measured: recording a contact through the API (an integration logging a call)
and ingesting an inbound email (a customer's reply to a case's reply address)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from django.apps import apps

from bench.harness import NotBuilt, Result, measure


def _write_cases(env: Any) -> list[tuple[int, int]]:
    Case = apps.get_model("cases.Case")
    return list(Case.objects.filter(pk__in=env.write_case_ids).values_list("id", "owner_id"))


def op_contact_record(env: Any) -> Result:
    """``POST /api/v1/cases/{ref}/contacts/`` by the case's owner: a phone call logged."""
    from django.contrib.auth import get_user_model

    from bench.ops_env import _ref, route

    cases = _write_cases(env)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in={o for _, o in cases})}

    def call(i: int) -> Any:
        cid, owner = cases[i % len(cases)]
        return env.api(users[owner]).post(
            route(f"/api/v1/cases/{_ref(cid)}/contacts/"),
            {
                "direction": "to_customer",
                "channel": "phone",
                "summary": "Called the customer back about the refund",
                "external_id": f"bench-call-{env.rng.random()}",
            },
            content_type="application/json",
        )

    if not cases:
        r = Result("contact_record", "record a contact (API)")
        r.status, r.note = "error", "no open case"
        return r
    for u in users.values():
        env.api(u)
    return measure(
        "contact_record",
        "record a contact (API: a call logged)",
        call,
        n=env.n_writes,
        warmup=env.warmup,
    )


def op_inbound_ingest(env: Any) -> Result:
    """A customer's reply to a case's reply address, stored and filed (``receive_mail``'s
    work after the SMTP conversation)."""
    try:
        from cases.conversations.inbound import inbound_mail_receive
        from cases.conversations.services import reply_address
    except ImportError:
        raise NotBuilt("inbound mail is not built") from None
    cases = _write_cases(env)

    def prepare(i: int) -> bytes:
        cid, _ = cases[i % len(cases)]
        message = EmailMessage()
        message["From"] = "Ada Okafor <ada@example.org>"
        message["To"] = reply_address(cid)
        message["Subject"] = "Re: your case"
        message["Message-ID"] = make_msgid(domain="bench.example.org")
        message.set_content(
            "Thank you, Thursday suits me.\n\nOn Tue, Amelia Hart wrote:\n> Would Thursday suit?"
        )
        return message.as_bytes()

    def call(raw: bytes) -> Any:
        return inbound_mail_receive(raw=raw, via="smtp", mail_from="ada@example.org")

    return measure(
        "inbound_ingest",
        "ingest an inbound email (parse, match, store, file)",
        call,
        n=env.n_writes,
        warmup=env.warmup,
        prepare=prepare,
        unit="msgs/s",
        ok=lambda received: not received.duplicate and received.message.case_id is not None,
    )
