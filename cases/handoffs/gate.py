"""The quality of a hand-off: the summary gate an offer must pass, the flags an offer raises
(ping-pong between owners), the rubric a manager scores with and the score an accepted
hand-off earns.

The gate and the score are pure functions of their arguments; pages use the gate to show
errors as you type, the services run it before they write.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q

from caseowner.types import User
from cases.hooks import PromiseBrief
from cases.models import Case, Handoff, HandoffStatus

# The gate: each summary field needs at least this many characters of its own words ...
SUMMARY_MIN_CHARS = 40
# ... and at least this many different words (no "test test test ...", no "........").
SUMMARY_MIN_DISTINCT_WORDS = 5
# Two fields this similar (0–1, difflib ratio) are one field copied into another.
SUMMARY_COPY_RATIO = 0.9
# A hand-off back to someone who owned the case within this period is ping-pong.
PING_PONG_WINDOW = timedelta(days=7)
# The owner count from which a hand-off is flagged: the case's fourth owner (or later).
PING_PONG_OWNER_COUNT = 4

SUMMARY_FIELDS: tuple[str, ...] = (
    "customer_needs",
    "actions_taken",
    "customer_expectations",
    "next_step",
)
SUMMARY_LABELS: dict[str, str] = {
    "customer_needs": "what the customer needs",
    "actions_taken": "what has been done so far",
    "customer_expectations": "what the customer was promised and expects",
    "next_step": "the next step",
}
# Pointers instead of content: "see notes", "as above", "n/a" …
_POINTER_PHRASES: tuple[str, ...] = (
    "see notes",
    "see note",
    "see above",
    "see below",
    "see ticket",
    "see case",
    "see history",
    "see timeline",
    "see email",
    "check notes",
    "refer to notes",
    "same as above",
    "as above",
    "as discussed",
    "as per notes",
    "nothing to add",
    "ditto",
    "n a",
    "tbd",
    "tba",
    "todo",
)
# Once the pointers are taken out, this many different words must remain.
_POINTER_REMAINING_WORDS = 6

FLAG_BACK_TO_PREVIOUS_OWNER = "back_to_previous_owner"
FLAG_FOURTH_OWNER = "fourth_owner"
FLAG_CARRIED_COMMITMENT_MISSED = "carried_commitment_missed"


@dataclass(frozen=True)
class HandoffSummary:
    """The context the next owner needs so the customer never repeats themselves."""

    customer_needs: str
    actions_taken: str
    customer_expectations: str
    next_step: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> HandoffSummary:
        """The summary from a form's or a serializer's valid data."""
        return cls(**{name: data[name] for name in SUMMARY_FIELDS})

    def cleaned(self) -> HandoffSummary:
        return HandoffSummary(
            **{name: (getattr(self, name) or "").strip() for name in SUMMARY_FIELDS}
        )


@dataclass
class GateResult:
    """What the quality gate found: field errors (empty when it passes) and the snapshot of
    the open commitments, each marked with how it was briefed ("mentioned" or "ticked")."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    commitments: list[dict] = field(default_factory=list)
    # The summary is the case's previous hand-off summary word for word.
    copied: bool = False

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def code(self) -> str:
        """The refusal's code: a copy of the last summary, else an incomplete one."""
        return "handoff_summary_copied" if self.copied else "handoff_summary_incomplete"

    @property
    def message(self) -> str:
        if self.copied:
            return (
                "The hand-off summary is the previous hand-off's, word for word: say what has "
                "happened since and what the next owner must do now."
            )
        return (
            "The hand-off summary is incomplete: the next owner would have to ask the "
            "customer again."
        )


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _words(text: str) -> set[str]:
    return {w for w in _normalise(text).split() if len(w) > 1 or w.isdigit()}


def _copies(text: str, other: str) -> bool:
    """difflib's ratio of the two at least ``SUMMARY_COPY_RATIO``: its two cheap upper bounds
    (lengths, then shared characters) answer most pairs without the full comparison."""
    matcher = difflib.SequenceMatcher(None, text, other)
    return (
        matcher.real_quick_ratio() >= SUMMARY_COPY_RATIO
        and matcher.quick_ratio() >= SUMMARY_COPY_RATIO
        and matcher.ratio() >= SUMMARY_COPY_RATIO
    )


def _is_pointer(text: str) -> bool:
    normalised = f" {_normalise(text)} "
    found = False
    for phrase in _POINTER_PHRASES:
        if f" {phrase} " in normalised:
            found = True
            normalised = normalised.replace(f" {phrase} ", " ")
    return found and len(_words(normalised)) < _POINTER_REMAINING_WORDS


def _mentions(text: str, item: PromiseBrief) -> bool:
    """Is the promise referred to in ``text``: ``#12``, ``commitment 12``, ``promise 12``, or
    its description word for word?"""
    if re.search(rf"(?:#|\bcommitment\s*#?\s*|\bpromise\s*#?\s*){item.id}\b", text, re.IGNORECASE):
        return True
    description = _normalise(item.description)
    return bool(description) and description in _normalise(text)


def handoff_summary_check(
    *,
    summary: HandoffSummary,
    open_commitments: list[PromiseBrief],
    briefed_ids: list[int],
    previous: HandoffSummary | None = None,
) -> GateResult:
    """The quality gate, without side effects (pages use it to show errors as you type).
    ``previous``: the summary of the hand-off that gave the case its present owner
    (``handoff_previous_summary``); the same four texts again, word for word (case, spaces
    and punctuation aside), tell the next owner nothing new and are refused."""
    summary = summary.cleaned()
    result = GateResult()

    def error(name: str, message: str) -> None:
        result.errors.setdefault(name, []).append(message)

    if previous is not None and all(
        _normalise(getattr(summary, name)) == _normalise(getattr(previous, name))
        for name in SUMMARY_FIELDS
    ):
        result.copied = True
        for name in ("actions_taken", "next_step"):
            error(
                name,
                f"This is the previous hand-off's word for word: write {SUMMARY_LABELS[name]} "
                "as it stands now.",
            )

    for index, name in enumerate(SUMMARY_FIELDS):
        text = getattr(summary, name)
        if not text:
            error(name, f"Write {SUMMARY_LABELS[name]}: this field is required.")
            continue
        if _is_pointer(text):
            error(name, "Write the content itself, not a pointer to notes elsewhere.")
            continue
        if len(text) < SUMMARY_MIN_CHARS:
            error(
                name,
                f"Too short: write at least {SUMMARY_MIN_CHARS} characters on "
                f"{SUMMARY_LABELS[name]}.",
            )
            continue
        if len(_words(text)) < SUMMARY_MIN_DISTINCT_WORDS:
            error(name, "Say it in words: this repeats the same few words or characters.")
            continue
        for earlier in SUMMARY_FIELDS[:index]:
            other = getattr(summary, earlier)
            if other and _copies(_normalise(text), _normalise(other)):
                error(
                    name,
                    f"This copies {SUMMARY_LABELS[earlier]}; write what is specific to "
                    f"{SUMMARY_LABELS[name]}.",
                )
                break

    known = {item.id for item in open_commitments}
    ticked = set()
    for value in briefed_ids:
        if int(value) not in known:
            error(
                "briefed_commitments", f"Commitment {value} is not an open commitment of the case."
            )
        else:
            ticked.add(int(value))
    all_text = "\n".join(getattr(summary, name) for name in SUMMARY_FIELDS)
    for item in open_commitments:
        ident = item.id
        if _mentions(all_text, item):
            briefed = "mentioned"
        elif ident in ticked:
            briefed = "ticked"
        else:
            error(
                "briefed_commitments",
                f"Brief commitment {ident} (“{item.description}”): mention it in the "
                f"summary (#{ident}) or tick it as briefed.",
            )
            continue
        result.commitments.append(
            {
                "id": ident,
                "description": item.description,
                "due_at": item.due_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "briefed": briefed,
                "customers": item.customers,
            }
        )
    return result


def handoff_previous_summary(case: Case) -> HandoffSummary | None:
    """The summary of the last accepted hand-off of the case (None: it never changed
    owner); a declined or cancelled offer's may be offered again as it was."""
    if case.owner_count <= 1:  # never handed on: no query
        return None
    last = (
        Handoff.objects.filter(case=case, status=HandoffStatus.ACCEPTED)
        .order_by("-decided_at", "-pk")
        .values(*SUMMARY_FIELDS)
        .first()
    )
    return HandoffSummary.of(last) if last is not None else None


def handoff_quality_score(handoff: Handoff) -> int | None:
    """0–100 for an accepted hand-off, recomputed as more becomes known; None before that.

    summary depth 30 (each field at twice the gate's minimum earns its full share, at the
    minimum half), commitments named in the text rather than only ticked 10, accepted before
    the reminder 20 (before the escalation 10), the customer acknowledged the new owner 20,
    no carried commitment missed later 20.
    """
    if handoff.status != HandoffStatus.ACCEPTED:
        return None
    depth = 0.0
    for name in SUMMARY_FIELDS:
        length = len(getattr(handoff, name).strip())
        depth += 1.0 if length >= 2 * SUMMARY_MIN_CHARS else 0.5 if length else 0.0
    score = 30 * depth / len(SUMMARY_FIELDS)
    carried = handoff.briefed_commitments or []
    if carried:
        score += 10 * sum(c.get("briefed") == "mentioned" for c in carried) / len(carried)
    else:
        score += 10
    if handoff.decided_at is not None:
        if handoff.remind_at is None or handoff.decided_at <= handoff.remind_at:
            score += 20
        elif handoff.escalate_at is None or handoff.decided_at <= handoff.escalate_at:
            score += 10
    if handoff.customer_acknowledged_at is not None:
        score += 20
    if FLAG_CARRIED_COMMITMENT_MISSED not in (handoff.flags or []):
        score += 20
    return round(score)


def handoff_recently_owned(*, case: Case, to: User, now: datetime) -> Q:
    """The case's hand-offs that show ``to`` owned it lately (accepted from them)."""
    return Q(
        case=case,
        status=HandoffStatus.ACCEPTED,
        from_agent=to,
        decided_at__gte=now - PING_PONG_WINDOW,
    )


def handoff_offer_flags(
    *, case: Case, to: User, now: datetime, recently_owned: bool | None = None
) -> list[str]:
    """Ping-pong flags of an offer: back to someone who owned the case lately, or the case's
    fourth owner (or later). ``recently_owned``: the caller read it already (else read)."""
    flags = []
    if recently_owned is None:
        recently_owned = Handoff.objects.filter(
            handoff_recently_owned(case=case, to=to, now=now)
        ).exists()
    if recently_owned:
        flags.append(FLAG_BACK_TO_PREVIOUS_OWNER)
    if case.owner_count + 1 >= PING_PONG_OWNER_COUNT:
        flags.append(FLAG_FOURTH_OWNER)
    return flags


RUBRIC_FIELDS: tuple[str, ...] = (
    "context_complete",
    "next_step_clear",
    "commitments_carried",
    "customer_informed",
)


@dataclass(frozen=True)
class HandoffRubric:
    """A manager's scores of a hand-off, 1–5 each."""

    context_complete: int
    next_step_clear: int
    commitments_carried: int
    customer_informed: int

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> HandoffRubric:
        """The rubric from a form's or a serializer's valid data."""
        return cls(**{name: data[name] for name in RUBRIC_FIELDS})

    def errors(self) -> dict[str, list[str]]:
        """The scores out of range, by field (empty when all are 1–5)."""
        return {
            name: ["Score from 1 to 5."]
            for name in RUBRIC_FIELDS
            if not isinstance(getattr(self, name), int) or not 1 <= getattr(self, name) <= 5
        }
