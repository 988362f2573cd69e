"""The models of ``cases``, one module per family; import them from ``cases.models``."""

from cases.models.away import Absence
from cases.models.case import (
    OPEN_STATUSES,
    REF_PREFIX,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Priority,
    format_ref,
    parse_ref,
)
from cases.models.handoff import Handoff, HandoffReason, HandoffReview, HandoffStatus
from cases.models.people import AgentProfile, AssignmentRule, Channel, Customer, Team, Title

__all__ = [
    "OPEN_STATUSES",
    "REF_PREFIX",
    "Absence",
    "AgentProfile",
    "AssignmentRule",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "Channel",
    "Customer",
    "EventKind",
    "Handoff",
    "HandoffReason",
    "HandoffReview",
    "HandoffStatus",
    "Priority",
    "Team",
    "Title",
    "format_ref",
    "parse_ref",
]
