"""The notice limits' ledger holds one row per notice that went out: a notice whose key was
used before (the same action repeated) writes none, on PostgreSQL too, where the statement
that counts writes the row before the notice is queued."""

from __future__ import annotations

import pytest
from django.db import transaction

from cases.models import CustomerNoticeSent
from cases.notices import customer_notice_enqueue
from commitments.lifecycle import lock_existing_case

pytestmark = pytest.mark.django_db


def _notice(case, agent, key: str):
    with transaction.atomic():
        locked = lock_existing_case(case.pk)
        return customer_notice_enqueue(
            case=locked,
            by=agent,
            template="commitments/email/made",
            context={},
            dedupe_key=key,
        )


def test_a_notice_whose_key_was_used_before_leaves_no_ledger_row(open_case, agent):
    case = open_case()
    before = CustomerNoticeSent.objects.count()
    assert _notice(case, agent, "ledger:1") is not None
    assert CustomerNoticeSent.objects.count() == before + 1
    assert _notice(case, agent, "ledger:1") is None
    assert CustomerNoticeSent.objects.count() == before + 1
    assert _notice(case, agent, "ledger:2") is not None
    assert CustomerNoticeSent.objects.count() == before + 2
