"""Reads on cases: lists, one case, its detail and timeline, My queue, the intake choices.

Each one runs a fixed number of queries whatever the amount of data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from caseowner.errors import NotFoundError
from caseowner.types import User
from cases import hooks
from cases.availability.hours import cover_candidates, cover_duties
from cases.errors import CaseRuleError
from cases.locking import lock_case
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEvent,
    Handoff,
    HandoffStatus,
    OwnerTask,
    Team,
    parse_ref,
)
from cases.overdue import is_overdue
from cases.permissions import customers_organisation_wide, team_ids_visible, visible_cases
from cases.recipients import display_name, owner_contact
from cases.undelivered import undelivered_exists

_PEOPLE = ("customer", "team", "owner", "owner__agent_profile")
# Columns of the joined rows no case list shows; parsing them is most of a page's cost.
_UNSHOWN = (
    "owner__password",
    "owner__last_login",
    "owner__date_joined",
    "owner__is_superuser",
    "owner__is_staff",
    "customer__created_at",
    "team__first_response_seconds",
)
# Events on one page of the case page's timeline.
TIMELINE_PAGE_SIZE = 30


def case_list(*, user: User) -> QuerySet[Case]:
    """Cases the user may read, with the people every row shows joined in."""
    return (
        visible_cases(user).select_related(*_PEOPLE).defer(*_UNSHOWN).order_by("-created_at", "-id")
    )


def case_get(*, user: User, ref: str) -> Case:
    """One case by reference, or NotFoundError — also for other teams' cases, so references
    don't leak."""
    pk = parse_ref(ref)
    if pk is None:
        raise NotFoundError(f"No case {ref}.")
    qs = visible_cases(user).select_related(*_PEOPLE)
    try:
        return qs.get(pk=pk)
    except Case.DoesNotExist:
        raise NotFoundError(f"No case {ref}.") from None


def lock_visible_case(*, user: User, ref: str) -> Case:
    """The case ``user`` may see (``case_get``: NotFoundError for any other) read with its
    people and locked in one statement, the permission checked on the locked row: a caller's
    transaction that starts with it needs no read before it.

    The people are joined, not locked: when a racing transaction changed the case while this
    waited, PostgreSQL rechecks the joins against the people as they were and may drop the
    row (see ``cases.locking``); it is then read and locked the longer way (``case_get``,
    ``lock_case``)."""
    pk = parse_ref(ref)
    locked = None
    if pk is not None:
        rows = visible_cases(user).select_related(*_PEOPLE).select_for_update(of=("self",))
        locked = rows.filter(pk=pk).first()
    if locked is None:
        read = case_get(user=user, ref=ref)
        locked = lock_case(read.pk, read=read)
        if locked is None:  # pragma: no cover - cases are never deleted while open
            raise Case.DoesNotExist(f"no case {ref}")
    return locked


# --- the case's detail and timeline ----------------------------------------------------------


@dataclass(frozen=True)
class TimelinePage:
    """Events newest first, and the cursor of the next (older) page when there is one."""

    events: list[CaseEvent]
    older_cursor: str | None


def _read_cursor(cursor: str | None) -> tuple[datetime | None, int | None]:
    """(instant in UTC, event id) of a ``<at ISO>~<id>`` cursor; a part that is unreadable or
    beyond what the database stores is ignored (the first page), never an error."""
    at_text, _, id_text = (cursor or "").partition("~")
    try:
        at = parse_datetime(at_text) if at_text else None
        if at is not None:
            at = (at if timezone.is_aware(at) else timezone.make_aware(at, UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        # A well-formed but impossible date, or an offset that pushes it past year 9999.
        at = None
    ok_id = id_text.isascii() and id_text.isdigit() and len(id_text) <= 18
    return at, int(id_text) if ok_id else None


def timeline_page(
    *, case: Case, before: str | None = None, limit: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """A page of the timeline, newest first.

    The cursor is ``<at ISO>~<id>`` so events written in the same instant are never skipped
    between pages; the index ``caseevent_case_at`` (case, -at, -id) serves it.
    """
    qs = timeline_newest(case=case).select_related("actor", "actor__agent_profile")
    at, before_id = _read_cursor(before)
    if at is not None and before_id is not None:
        qs = qs.filter(Q(at__lt=at) | Q(at=at, id__lt=before_id))
    elif at is not None:
        qs = qs.filter(at__lt=at)
    events = list(qs[: limit + 1])
    more = len(events) > limit
    events = events[:limit]
    last = events[-1] if events else None
    return TimelinePage(
        events=events, older_cursor=f"{last.at.isoformat()}~{last.pk}" if more and last else None
    )


@dataclass(frozen=True)
class CaseDetail:
    """What the case page and the API's detail show of one case."""

    case: Case
    owner: dict[str, str]
    timeline: TimelinePage
    handoffs: list[Handoff]
    # The customer's other cases, newest first, and the teams among them the reader may open.
    history: list[Case]
    history_team_ids: set[int]

    @property
    def open_offer(self) -> Handoff | None:
        return next((h for h in self.handoffs if h.status == HandoffStatus.OFFERED), None)


def case_detail(
    *,
    user: User,
    case: Case,
    before: str | None = None,
    timeline_limit: int = TIMELINE_PAGE_SIZE,
) -> CaseDetail:
    """One case with a page of its timeline, its hand-offs and the customer's earlier cases,
    in three queries (the reader's teams are cached on the user)."""
    history = list(
        customer_history(user=user, case=case).select_related("owner__agent_profile", "team")
    )
    handoffs = list(
        case_handoffs(case=case).select_related(
            "from_agent__agent_profile", "to_agent__agent_profile"
        )
    )
    return CaseDetail(
        case=case,
        owner=owner_contact(case.owner),
        timeline=timeline_page(case=case, before=before, limit=timeline_limit),
        handoffs=handoffs,
        history=history,
        history_team_ids=history_team_ids(user=user, history_team_ids={c.team_id for c in history}),
    )


# The case's detail's parts, shared by ``case_detail`` (model rows, the case page) and the
# API's detail (plain rows, ``cases.payloads``).
HISTORY_LIMIT = 10
HANDOFFS_LIMIT = 20


def customer_history(*, user: User, case: Case) -> QuerySet[Case]:
    """The customer's other cases the reader may know of, newest first.

    ``CUSTOMER_VISIBILITY``: organisation-wide, every team's earlier cases (the owner shown
    only for the reader's own teams' cases, ``history_team_ids``); team-scoped, only the
    reader's teams' cases."""
    earlier = (Case.objects.all() if customers_organisation_wide() else visible_cases(user)).filter(
        customer_id=case.customer_id
    )
    return earlier.exclude(pk=case.pk).order_by("-created_at")[:HISTORY_LIMIT]


def history_team_ids(*, user: User, history_team_ids: set[int]) -> set[int]:
    """The teams among the history whose owners the reader may see."""
    return history_team_ids if getattr(user, "is_superuser", False) else team_ids_visible(user)


def case_handoffs(*, case: Case) -> QuerySet[Handoff]:
    """The case's latest hand-offs, newest first."""
    return case.handoffs.order_by("-offered_at")[:HANDOFFS_LIMIT]


def timeline_newest(*, case: Case) -> QuerySet[CaseEvent]:
    """The case's events, newest first (``caseevent_case_at``)."""
    return case.events.order_by("-at", "-id")


# --- My queue --------------------------------------------------------------------------------


def queue_for(*, user: User) -> QuerySet[Case]:
    """My queue: open cases I own, the next promise due first, cases without one last.

    One range scan on the partial index ``case_queue_open`` (owner, next_due_at, id). Each
    row also answers ``covering_now`` (does the reader cover an away colleague now?), so the
    queue asks for covered cases only when there are some (``queue_covering``).
    """
    return (
        Case.objects.filter(owner=user, status__in=OPEN_STATUSES)
        .select_related(*_PEOPLE)
        .defer(*_UNSHOWN)
        .annotate(covering_now=Exists(cover_candidates(user=user, at=timezone.now())))
        .annotate(notice_undelivered=undelivered_exists())
        .order_by(F("next_due_at").asc(nulls_last=True), "id")
    )


@dataclass(frozen=True)
class QueueRow:
    case: Case
    overdue: bool = False
    at_risk: bool = False

    @property
    def customer_replied(self) -> bool:
        """The customer wrote and nobody has answered them since."""
        return self.case.awaiting_reply_since is not None

    @property
    def notice_undelivered(self) -> bool:
        """An email to the customer could not be delivered and the owner has not called
        them yet (``queue_for``'s annotation)."""
        return bool(getattr(self.case, "notice_undelivered", False))

    @property
    def flags(self) -> list[str]:
        names = ("notice_undelivered", "customer_replied", "overdue", "at_risk")
        return [name for name in names if getattr(self, name)]


def queue_rows(*, cases: list[Case], now: datetime | None = None) -> list[QueueRow]:
    """A page of the queue with each case's flags (API and page alike): overdue (a promise is
    past due) and at risk. The apps registered in ``hooks.queue_flags`` answer; a case none of
    them answers for is overdue when its next promise is past due."""
    now = now or timezone.now()
    answered = hooks.collect_queue_flags([c.pk for c in cases], now)
    rows = []
    for case in cases:
        flags = answered.get(case.pk) or hooks.QueueFlags(overdue=is_overdue(case.next_due_at, now))
        rows.append(QueueRow(case=case, overdue=flags.overdue, at_risk=flags.at_risk))
    return rows


def queue_page(
    *, user: User, page: str | int | None, per_page: int = 25
) -> tuple[Page, list[QueueRow]]:
    """One page of My queue (the page's paginator) with each row's flags."""
    page_obj = Paginator(queue_for(user=user), per_page).get_page(page)
    return page_obj, queue_rows(cases=list(page_obj.object_list))


@dataclass(frozen=True)
class CoverSection:
    """An away owner's open cases the reader covers ("Covering for Oliver Bennett: 9 cases"),
    the next promise due first (cases without one last)."""

    owner: User
    cases: list[Case]

    @property
    def owner_name(self) -> str:
        return display_name(self.owner)


def queue_covering(
    *, user: User, hint: bool | None = None, now: datetime | None = None
) -> list[CoverSection]:
    """The cases ``user`` covers now (``cover_duties``), one section per away owner, by the
    owner's name. ``hint``: a queue row's ``covering_now`` (False: no query at all)."""
    if hint is False:
        return []
    by_owner: dict[int, list[Case]] = {}
    for case in cover_duties(user=user, at=now or timezone.now()):
        by_owner.setdefault(case.owner_id, []).append(case)
    sections = [
        CoverSection(
            owner=cases[0].owner,
            cases=sorted(cases, key=lambda c: (c.next_due_at is None, c.next_due_at, c.pk)),
        )
        for cases in by_owner.values()
    ]
    return sorted(sections, key=lambda s: (s.owner_name.lower(), s.owner.pk))


# --- people and teams by id, and the intake form's choices -------------------------------------


def user_by_id(
    user_id: int,
    *,
    field: str,
    code: str,
    message: str,
    detail: str = "Not found.",
    related: tuple[str, ...] = (),
) -> User:
    """The user with this id, or the rule error the caller names (``fields[field]`` says
    ``detail``): the API and the pages answer an unknown id with the same code. ``related``:
    rows read with the user (``select_related``)."""
    user = get_user_model().objects.select_related(*related).filter(pk=user_id).first()
    if user is None:
        raise CaseRuleError(code, message, fields={field: [detail]})
    return user


def intake_default_team_id(*, user: User) -> int | None:
    """The team a case opens in when the user names none: their only team, if they work in
    or manage exactly one."""
    visible = team_ids_visible(user)
    return next(iter(visible)) if len(visible) == 1 else None


def intake_teams(*, user: User) -> QuerySet[Team]:
    """Teams the user may open a case for: the ones they work in or manage (any team, for a
    superuser), by name."""
    teams = (
        Team.objects.all()
        if getattr(user, "is_superuser", False)
        else Team.objects.filter(pk__in=team_ids_visible(user))
    )
    return teams.order_by("name")


def intake_owner_choices(*, user: User) -> list[tuple[int, str]]:
    """(user id, name) of the active agents of the user's teams: who may be named owner."""
    return [
        (p.user_id, p.display_name)
        for p in AgentProfile.objects.filter(teams__in=team_ids_visible(user), user__is_active=True)
        .distinct()
        .order_by("display_name")
    ]


# --- what the owner must act on first ------------------------------------------------------

# A promise falls due "soon" inside this window: the case page lists it before anything else.
ACT_FIRST_HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class ActFirst:
    """What the owner of a case must act on first, the most urgent first: promises past due
    or due inside ``ACT_FIRST_HORIZON``, calls to make (open owner tasks), the customer's
    reply waiting for an answer, and a hand-off of the case offered to the reader."""

    promises_due: list[hooks.PromiseBrief]
    overdue_ids: set[int]
    tasks: list[OwnerTask]
    awaiting_reply_since: datetime | None
    offer_for_reader: Handoff | None

    def __bool__(self) -> bool:
        return bool(
            self.promises_due or self.tasks or self.awaiting_reply_since or self.offer_for_reader
        )

    @property
    def count(self) -> int:
        return (
            len(self.promises_due)
            + len(self.tasks)
            + (1 if self.awaiting_reply_since else 0)
            + (1 if self.offer_for_reader else 0)
        )


def case_act_first(
    *, user: User, case: Case, handoffs: list[Handoff], now: datetime | None = None
) -> ActFirst:
    """The case's act-first list in two queries (its open promises, its open tasks);
    ``handoffs`` are the case's latest hand-offs (``case_handoffs``), already read."""
    now = now or timezone.now()
    due = sorted(
        (p for p in hooks.collect_open_commitments(case) if p.due_at <= now + ACT_FIRST_HORIZON),
        key=lambda p: (p.due_at, p.id),
    )
    tasks = list(
        OwnerTask.objects.filter(case=case, done_at__isnull=True).order_by("created_at", "pk")
    )
    offer = next(
        (h for h in handoffs if h.status == HandoffStatus.OFFERED and h.to_agent_id == user.pk),
        None,
    )
    return ActFirst(
        promises_due=due,
        overdue_ids={p.id for p in due if is_overdue(p.due_at, now)},
        tasks=tasks,
        awaiting_reply_since=case.awaiting_reply_since,
        offer_for_reader=offer,
    )
