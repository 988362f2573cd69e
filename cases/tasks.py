"""Periodic work of the cases app. Tasks are thin: they call services with ids."""

from __future__ import annotations

import logging

from celery import shared_task

from cases.availability.services import absence_alert_once, absences_to_check
from cases.handoffs.selectors import handoff_offers_due
from cases.handoffs.sweep import handoff_remind_or_escalate
from cases.notices import customer_notice_ledger_prune

log = logging.getLogger(__name__)


@shared_task(name="cases.sweep_handoff_offers", ignore_result=True)
def sweep_handoff_offers() -> dict[str, int]:
    """Remind receivers of offers left waiting, then escalate to the team's managers; expire
    offers whose case was closed meanwhile.

    Each offer is its own short transaction that skips rows another sweep holds, so several
    beats or workers may run this at once; dedupe keys and the row's ``reminded_at`` /
    ``escalated_at`` make a second run a no-op.
    """
    counts = {"reminded": 0, "escalated": 0, "expired": 0}
    for handoff_id in handoff_offers_due():
        try:
            done = handoff_remind_or_escalate(handoff_id=handoff_id)
        except Exception:  # one bad row must not stop the others; the next sweep retries it
            log.exception("hand-off offer sweep failed for hand-off %s", handoff_id)
            continue
        for step in done:
            counts[step] += 1
    return counts


@shared_task(name="cases.sweep_absences", ignore_result=True)
def sweep_absences() -> int:
    """Alert managers (once per absence) about absences starting within two business days
    that leave promises uncovered; each absence is its own short transaction."""
    alerted = 0
    for absence_id in absences_to_check():
        try:
            alerted += absence_alert_once(absence_id=absence_id)
        except Exception:  # one bad row must not stop the others; the next sweep retries it
            log.exception("absence sweep failed for absence %s", absence_id)
    return alerted


@shared_task(name="cases.prune_notice_ledger", ignore_result=True)
def prune_notice_ledger() -> dict[str, int]:
    """Housekeeping: the notice-limit ledger keeps only the rows its 24-hour window counts;
    older ones go in batches."""
    return {"pruned": customer_notice_ledger_prune()}
