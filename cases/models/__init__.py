"""The models of ``cases``, one module per family; import them from ``cases.models``."""

from cases.models.away import Absence
from cases.models.case import (
    OPEN_STATUSES,
    REF_PREFIX,
    Case,
    CaseEvent,
    CaseStatus,
    ClosedAs,
    CustomerNoticeSent,
    EventKind,
    Priority,
    format_ref,
    parse_ref,
)
from cases.models.conversation import (
    CONTACT_BODY_MAX,
    CONTACT_EXTERNAL_ID_MAX,
    CONTACT_SUMMARY_MAX,
    Contact,
    ContactDirection,
    InboundMessage,
    InboundStatus,
)
from cases.models.handoff import Handoff, HandoffReason, HandoffReview, HandoffStatus
from cases.models.merge import CustomerMerge
from cases.models.people import (
    AgentProfile,
    AssignmentRule,
    Channel,
    Customer,
    StaffLanguage,
    Team,
    Title,
)
from cases.models.satisfaction import (
    SATISFACTION_COMMENT_MAX,
    SatisfactionAnswer,
    SatisfactionHolder,
)
from cases.models.task import TASK_TEXT_MAX, OwnerTask

__all__ = [
    "CONTACT_BODY_MAX",
    "CONTACT_EXTERNAL_ID_MAX",
    "CONTACT_SUMMARY_MAX",
    "OPEN_STATUSES",
    "TASK_TEXT_MAX",
    "REF_PREFIX",
    "Absence",
    "AgentProfile",
    "AssignmentRule",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "ClosedAs",
    "Channel",
    "Contact",
    "ContactDirection",
    "Customer",
    "CustomerNoticeSent",
    "CustomerMerge",
    "EventKind",
    "Handoff",
    "HandoffReason",
    "HandoffReview",
    "HandoffStatus",
    "InboundMessage",
    "InboundStatus",
    "OwnerTask",
    "SATISFACTION_COMMENT_MAX",
    "SatisfactionAnswer",
    "SatisfactionHolder",
    "StaffLanguage",
    "Priority",
    "Team",
    "Title",
    "format_ref",
    "parse_ref",
]
