"""The manager's "cover for" page (``/manage/agents/<id>/cover-for/``): every open case of an
agent who is suddenly away, each with a draft of its summary, offered to present colleagues in
one submission. Thin over ``cover_for``: the drafts, the receivers and ``cover_for``,
which does it all in one transaction or nothing, with the gate's refusal per case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from caseowner import parsing
from cases import hooks
from cases.availability import cover_for as cover_services
from cases.availability.cover_for import CoverCase, CoverDraft, CoverRequest
from cases.errors import CaseRuleError
from cases.handoffs.gate import SUMMARY_FIELDS
from cases.models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    Handoff,
    HandoffStatus,
    Team,
    parse_ref,
)
from cases.pages import agent_time_zone, render_in
from cases.permissions import is_team_manager, remember_managed_team_ids, remember_team_rows
from cases.recipients import display_name

LABELS = {
    "customer_needs": gettext_lazy("What the customer needs"),
    "actions_taken": gettext_lazy("What has been done so far"),
    "customer_expectations": gettext_lazy("What the customer was promised and expects"),
    "next_step": gettext_lazy("The next step"),
}
HELP = {
    "customer_needs": gettext_lazy("This customer's own words: a shared paragraph is refused."),
    "next_step": gettext_lazy("This case's own next step: a shared one is refused."),
}
SHARED_FIELDS = ("actions_taken", "customer_expectations")
_MAX_ID = 2**31 - 1


def _id(value: str) -> int | None:
    return parsing.id_or_none(value, max_value=_MAX_ID)


@dataclass
class CaseForm:
    """One case of the page: its draft, what was typed, and the gate's refusal."""

    draft: CoverDraft
    values: dict[str, str]
    briefed: set[int]
    to_agent: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    # written once a page, not once a case: the receiver select's options (per chosen
    # receiver) and the fields' labels and help in the page's language
    receiver_options: str = ""
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def fields(self) -> list[dict[str, Any]]:
        pk = self.draft.case.pk
        texts = self.texts or _texts()
        return [
            {
                "name": f"c{pk}-{name}",
                "label": texts[name][0],
                "help": texts[name][1],
                "value": self.values.get(name, ""),
                "errors": self.errors.get(name, []),
            }
            for name in SUMMARY_FIELDS
        ]

    @property
    def case_errors(self) -> list[str]:
        return [m for k, msgs in self.errors.items() if k not in SUMMARY_FIELDS for m in msgs]


@dataclass(frozen=True)
class Waiting:
    """A case of the agent offered and not yet accepted: a line of the page."""

    case: Case
    to_name: str
    offered_at: datetime


def _agent(request: HttpRequest, agent_id: int) -> tuple[Any, list[tuple[int, str]]]:
    """The agent to cover for and their teams by name: a manager of their team (or a
    superuser) may; the agent themselves is refused (403); anybody else does not see them
    (404). The agent's teams, the reader's own and whether the reader manages each are one
    query, which also answers the reader's managed teams and time zone for the request."""
    agent = (
        get_user_model()
        .objects.select_related("agent_profile")
        .filter(pk=agent_id, agent_profile__isnull=False)
        .first()
    )
    by: Any = request.user
    if agent is None:
        raise Http404("No such agent among yours.")
    member = AgentProfile.teams.through.objects.filter(team_id=OuterRef("pk"))
    rows = list(
        Team.objects.annotate(
            of_agent=Exists(member.filter(agentprofile__user_id=agent.pk)),
            of_reader=Exists(member.filter(agentprofile__user_id=by.pk)),
            managed=Exists(
                Team.managers.through.objects.filter(team_id=OuterRef("pk"), user_id=by.pk)
            ),
        )
        .filter(Q(of_agent=True) | Q(of_reader=True) | Q(managed=True))
        .values_list("pk", "name", "time_zone", "phone_region", "of_agent", "of_reader", "managed")
    )
    remember_managed_team_ids(by, {r[0] for r in rows if r[6]})
    remember_team_rows(by, {r[0]: (r[2], r[3]) for r in rows if r[5] or r[6]})
    teams = sorted(((r[0], r[1]) for r in rows if r[4]), key=lambda t: (t[1], t[0]))
    superuser = getattr(by, "is_superuser", False)
    if not (by.pk == agent.pk or superuser or any(r[4] and r[6] for r in rows)):
        raise Http404("No such agent among yours.")
    if agent.pk == by.pk and not superuser:
        raise PermissionDenied("A manager of your team covers for you.")
    return agent, teams


def _open_cases(agent: Any) -> tuple[list[Case], list[Waiting]]:
    """The agent's open cases, earliest promise first, in one query: those without an open
    offer (to cover) and those offered and waiting for their receiver (oldest offer first)."""
    offered = Handoff.objects.filter(case_id=OuterRef("pk"), status=HandoffStatus.OFFERED).order_by(
        "offered_at", "id"
    )
    cases = list(
        Case.objects.filter(owner=agent, status__in=OPEN_STATUSES)
        .select_related("customer", "team")
        .annotate(
            offer_id=Subquery(offered.values("id")[:1]),
            offer_at=Subquery(offered.values("offered_at")[:1]),
            offer_to=Subquery(
                offered.values(
                    name=Coalesce(
                        NullIf("to_agent__agent_profile__display_name", Value("")),
                        "to_agent__username",
                    )
                )[:1]
            ),
        )
        .order_by("next_due_at", "id")
    )
    waiting = [
        Waiting(case=c, to_name=c.offer_to or "", offered_at=c.offer_at)  # type: ignore[attr-defined]
        for c in cases
        if c.offer_id is not None  # type: ignore[attr-defined]
    ]
    waiting.sort(key=lambda w: (w.offered_at, w.case.offer_id))  # type: ignore[attr-defined]
    return [c for c in cases if c.offer_id is None], waiting[:500]  # type: ignore[attr-defined]


def _forms(drafts: list[CoverDraft], post: Any | None) -> list[CaseForm]:
    forms = []
    for draft in drafts:
        pk = draft.case.pk
        if post is None:
            values = {
                "actions_taken": draft.actions_taken,
                "customer_expectations": draft.customer_expectations,
            }
            briefed = {p.id for p in draft.promises}
            to_agent = None
        else:
            values = {name: post.get(f"c{pk}-{name}", "") for name in SUMMARY_FIELDS}
            briefed = {i for i in map(_id, post.getlist(f"c{pk}-briefed")) if i is not None}
            to_agent = _id(post.get(f"c{pk}-to_agent", ""))
        forms.append(CaseForm(draft=draft, values=values, briefed=briefed, to_agent=to_agent))
    return forms


def _request(forms: list[CaseForm], post: Any) -> CoverRequest:
    return CoverRequest(
        cases=[
            CoverCase(
                case_id=f.draft.case.pk,
                to_agent_id=f.to_agent,
                briefed_commitments=tuple(sorted(f.briefed)),
                **{name: f.values[name] for name in SUMMARY_FIELDS},
            )
            for f in forms
        ],
        receivers=[i for i in map(_id, post.getlist("receivers")) if i is not None],
        shared={name: post.get(f"shared-{name}", "") for name in SHARED_FIELDS},
    )


def _spread_errors(exc: CaseRuleError, forms: list[CaseForm]) -> dict[str, list[str]]:
    """The refusal's fields onto their cases (``CASE-000123.next_step``); the rest
    (receivers, shared parts, cases that appeared meanwhile) for the top of the page."""
    by_case = {f.draft.case.pk: f for f in forms}
    rest: dict[str, list[str]] = {}
    for key, msgs in exc.fields.items():
        head, _, name = key.partition(".")
        case_id = parse_ref(head)
        target = by_case.get(case_id) if case_id is not None else None
        msgs = [gettext(m) for m in msgs]
        if target is None:
            rest[key] = msgs
        else:
            target.errors.setdefault(name or "case", []).extend(msgs)
    return rest


def _texts() -> dict[str, tuple[str, str]]:
    """Each summary field's label and help in the active language."""
    return {name: (str(LABELS[name]), str(HELP.get(name, ""))) for name in SUMMARY_FIELDS}


def _write_once(forms: list[CaseForm], receivers: list[Any]) -> None:
    """What every case's part of the page repeats, written once a page (300 cases): the
    receiver options, the same for every case but the one selected, and the fields' labels
    and help, translated once instead of at every use of the lazy strings."""
    texts = _texts()
    written: dict[int | None, str] = {}
    for f in forms:
        f.texts = texts
        if f.to_agent not in written:
            written[f.to_agent] = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (r.user_id, mark_safe(" selected") if r.user_id == f.to_agent else "", r.name)
                    for r in receivers
                ),
            )
        f.receiver_options = written[f.to_agent]


@login_required
@require_http_methods(["GET", "POST"])
def cover_for_page(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent, teams = _agent(request, agent_id)
    by: Any = request.user
    now = timezone.now()
    to_cover, waiting = _open_cases(agent)
    drafts = cover_services.cover_drafts(agent=agent, cases=to_cover)
    forms = _forms(drafts, request.POST if request.method == "POST" else None)
    page_errors: dict[str, list[str]] = {}
    refused = ""
    chosen: set[int] = set()
    shared = {name: "" for name in SHARED_FIELDS}
    status = 200
    if request.method == "POST":
        cover = _request(forms, request.POST)
        chosen, shared = set(cover.receivers), dict(cover.shared)
        try:
            handoffs = cover_services.cover_for(agent=agent, by=by, request=cover, now=now)
        except CaseRuleError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            refused = gettext(exc.message)

            page_errors = _spread_errors(exc, forms)
            status = 400
        else:
            names = cover_services.cover_receiver_names(handoffs)
            messages.success(
                request,
                gettext(
                    "%(count)s case(s) offered; each moves when its receiver accepts: %(list)s."
                )
                % {
                    "count": len(handoffs),
                    "list": ", ".join(
                        gettext("%(ref)s to %(name)s") % {"ref": ref, "name": name}
                        for ref, name in names.items()
                    ),
                },
            )
            return redirect(reverse("agent-cover-for", args=[agent.pk]))
    team = next((t for t in teams if is_team_manager(by, t[0])), None)
    receivers = cover_services.cover_receivers(agent=agent, by=by, at=now)
    _write_once(forms, receivers)
    context = {
        "agent": agent,
        "agent_name": display_name(agent),
        "forms": forms,
        "receivers": receivers,
        "chosen": chosen,
        "shared": shared,
        "page_errors": page_errors,
        "refused": refused,
        "refused_cases": [f for f in forms if f.errors],
        "waiting": waiting,
        "team": team,
        # the agents page of that team belongs to a later app, which hands its address down
        "team_agents_url": hooks.team_agents_url(team[0]) if team else "",
    }
    return render_in(
        request, "cases/cover_for.html", context, tz_name=agent_time_zone(by), status=status
    )


__all__ = ["cover_for_page"]
