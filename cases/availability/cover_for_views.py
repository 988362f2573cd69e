"""The manager's "cover for" page (``/manage/agents/<id>/cover-for/``): every open case of an
agent who is suddenly away, each with a draft of its summary, offered to present colleagues in
one submission. Thin over ``cover_for``: the drafts, the receivers and ``cover_for``,
which does it all in one transaction or nothing, with the gate's refusal per case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from caseowner import parsing
from cases import hooks
from cases.availability import cover_for as cover_services
from cases.availability.cover_for import CoverCase, CoverDraft, CoverRequest
from cases.availability.services import may_plan_for
from cases.errors import CaseRuleError
from cases.handoffs.gate import SUMMARY_FIELDS
from cases.models import OPEN_STATUSES, Handoff, HandoffStatus, parse_ref
from cases.pages import agent_time_zone, render_in
from cases.permissions import is_team_manager
from cases.recipients import display_name

LABELS = {
    "customer_needs": "What the customer needs",
    "actions_taken": "What has been done so far",
    "customer_expectations": "What the customer was promised and expects",
    "next_step": "The next step",
}
HELP = {
    "customer_needs": "This customer's own words: a shared paragraph is refused.",
    "next_step": "This case's own next step: a shared one is refused.",
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

    @property
    def fields(self) -> list[dict[str, Any]]:
        pk = self.draft.case.pk
        return [
            {
                "name": f"c{pk}-{name}",
                "label": LABELS[name],
                "help": HELP.get(name, ""),
                "value": self.values.get(name, ""),
                "errors": self.errors.get(name, []),
            }
            for name in SUMMARY_FIELDS
        ]

    @property
    def case_errors(self) -> list[str]:
        return [m for k, msgs in self.errors.items() if k not in SUMMARY_FIELDS for m in msgs]


def _agent(request: HttpRequest, agent_id: int) -> Any:
    """The agent to cover for: a manager of their team (or a superuser) may; the agent
    themselves is refused (403); anybody else does not see them (404)."""
    agent = (
        get_user_model()
        .objects.select_related("agent_profile")
        .filter(pk=agent_id, agent_profile__isnull=False)
        .first()
    )
    by: Any = request.user
    if agent is None or not may_plan_for(by, agent):
        raise Http404("No such agent among yours.")
    if agent.pk == by.pk and not getattr(by, "is_superuser", False):
        raise PermissionDenied("A manager of your team covers for you.")
    return agent


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
        if target is None:
            rest[key] = msgs
        else:
            target.errors.setdefault(name or "case", []).extend(msgs)
    return rest


@login_required
@require_http_methods(["GET", "POST"])
def cover_for_page(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = _agent(request, agent_id)
    by: Any = request.user
    now = timezone.now()
    drafts = cover_services.cover_drafts(agent=agent)
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
            refused = exc.message
            page_errors = _spread_errors(exc, forms)
            status = 400
        else:
            names = cover_services.cover_receiver_names(handoffs)
            messages.success(
                request,
                f"{len(handoffs)} case(s) offered; each moves when its receiver accepts: "
                + ", ".join(f"{ref} to {name}" for ref, name in names.items())
                + ".",
            )
            return redirect(reverse("agent-cover-for", args=[agent.pk]))
    waiting = (
        Handoff.objects.filter(
            case__owner=agent, case__status__in=OPEN_STATUSES, status=HandoffStatus.OFFERED
        )
        .select_related("case", "to_agent__agent_profile")
        .order_by("offered_at", "id")[:500]
    )
    teams = agent.agent_profile.teams.order_by("name").values_list("pk", "name")
    team = next((t for t in teams if is_team_manager(by, t[0])), None)
    context = {
        "agent": agent,
        "agent_name": display_name(agent),
        "forms": forms,
        "receivers": cover_services.cover_receivers(agent=agent, by=by, at=now),
        "chosen": chosen,
        "shared": shared,
        "page_errors": page_errors,
        "refused": refused,
        "refused_cases": [f for f in forms if f.errors],
        "waiting": list(waiting),
        "team": team,
        # the agents page of that team belongs to a later app, which hands its address down
        "team_agents_url": hooks.team_agents_url(team[0]) if team else "",
    }
    return render_in(
        request, "cases/cover_for.html", context, tz_name=agent_time_zone(by), status=status
    )


__all__ = ["cover_for_page"]
