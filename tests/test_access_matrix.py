"""Who may do what, for every route the URL configuration has.

The matrix is generated from the URL configuration: every named route must have a rule in
``RULES``, so a new endpoint without one fails here. Each (route, role) pair is requested
against the same small matrix_world, inside a savepoint rolled back afterwards, and must answer
the status the rule gives that role.

Roles: anonymous; the customer (holding the case's link, no account); the case's owner; a
colleague in the owner's team; an agent of another team; the team's manager; a manager of
another team; a superuser (staff).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from cases import hooks, services
from cases.availability.services import absence_record
from cases.conversations.inbound import inbound_mail_receive
from cases.customers.links import make_customer_token
from cases.customers.services import customer_merge
from cases.handoffs.services import handoff_accept
from cases.models import Channel, OwnerTask, SatisfactionAnswer
from cases.satisfaction.services import answer_token
from commitments.callback_slots import callback_slots
from commitments.callbacks import callback_book
from commitments.models import CommitmentKind
from commitments.services import commitment_create
from notifications.models import Notification
from notifications.webhook_endpoints import webhook_endpoint_create
from notifications.webhooks import webhook_emit
from tests.factories import (
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_agent,
    make_manager,
    offer,
)

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "customer",
    "owner",
    "colleague",
    "outsider",
    "manager",
    "other_manager",
    "staff",
)


def _named_routes(patterns: list[Any], prefix: str = "") -> dict[str, str]:
    routes: dict[str, str] = {}
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue  # Django's admin: staff only, its own permission system
            routes.update(_named_routes(pattern.url_patterns, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern) and pattern.name:
            routes[pattern.name] = prefix + str(pattern.pattern)
    return routes


@pytest.fixture
def matrix_world():
    team, other_team = TeamFactory(), TeamFactory()
    owner, colleague, spare = make_agent(team), make_agent(team), make_agent(team)
    outsider = make_agent(other_team)
    manager, other_manager = make_manager(team), make_manager(other_team)
    staff = UserFactory(is_staff=True, is_superuser=True)
    case = services.case_open(
        customer=CustomerFactory(email="ada@example.org"),
        team=team,
        channel=Channel.EMAIL,
        subject="Charged twice",
        by=owner,
        owner=owner,
    )
    promise = commitment_create(
        case=case,
        by=owner,
        description="Call back about the refund",
        kind=CommitmentKind.CALLBACK,
        due="2 business days",
    )
    handoff = offer(case, to=colleague)
    # An accepted hand-off on a second case of the team: what managers review.
    reviewed = offer(
        services.case_open(
            customer=CustomerFactory(),
            team=team,
            channel=Channel.PHONE,
            subject="Router",
            by=colleague,
            owner=colleague,
        ),
        to=owner,
    )
    handoff_accept(handoff=reviewed, by=owner)

    # a second record of the case's customer, for merges, and one merged already: each with
    # a case of the team (a merge needs a correction's rights on both records); one
    # unmatched inbound message
    def same_person() -> Any:
        return services.case_open(
            customer=CustomerFactory(full_name=case.customer.full_name),
            team=team,
            channel=Channel.PHONE,
            subject="Charged twice, again",
            by=colleague,
            owner=colleague,
        ).customer

    duplicate = same_person()
    absence = absence_record(
        agent=owner,
        by=owner,
        starts_at=timezone.now() + timedelta(days=20),
        ends_at=timezone.now() + timedelta(days=25),
    ).absence
    merged = same_person()
    customer_merge(survivor=case.customer, merged=merged, by=manager)
    unmatched = inbound_mail_receive(
        raw=b"From: someone@example.org\r\nTo: support@caseowner.test\r\n"
        b"Subject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\nWho handles this?\r\n",
        via="http",
    ).message
    # a notice that had no route: a call for the owner to make
    task = OwnerTask.objects.create(
        case=case,
        owner=owner,
        text="Call Ms Lovelace: her refund moved to Friday",
        reason="customer has no email address",
        source_template="commitments/email/renegotiated",
        dedupe_key="matrix_world:task",
        created_at=timezone.now(),
    )
    # the team's webhook endpoint, with a delivery that failed for good (to redeliver)
    endpoint, _ = webhook_endpoint_create(
        scope=f"team:{team.pk}", url="https://hooks.example.com/in"
    )
    webhook_emit(
        scope=f"team:{team.pk}", event="case.closed", payload={}, dedupe_key="matrix_world:hook"
    )
    delivery = Notification.objects.get(webhook_endpoint=endpoint)
    Notification.objects.filter(pk=delivery.pk).update(status="failed")
    # a callback the customer booked, to move or cancel
    callback_book(
        case=case, starts_at=callback_slots(case=case, now=timezone.now())[0].starts_at, by=None
    )
    # a case closed, its customer asked the one question: the answer's token is its link
    asked = services.case_open(
        customer=CustomerFactory(email="grace@example.org"),
        team=team,
        channel=Channel.EMAIL,
        subject="Refund arrived",
        by=owner,
        owner=owner,
    )
    services.case_change_status(case=asked, status="closed", by=owner)
    answer = SatisfactionAnswer.objects.get(case=asked)
    return {
        "satisfaction_token": answer_token(answer.pk),
        "case": case,
        "task": task,
        "webhook": endpoint,
        "delivery": delivery,
        "promise": promise,
        "handoff": handoff,
        "reviewed": reviewed,
        "duplicate": duplicate,
        "merged": merged,
        "absence": absence,
        "unmatched": unmatched,
        "token": make_customer_token(case_id=case.pk, generation=case.link_generation),
        "spare": spare,  # a receiver for new offers; no role of its own
        "users": {
            "owner": owner,
            "colleague": colleague,
            "outsider": outsider,
            "manager": manager,
            "other_manager": other_manager,
            "staff": staff,
        },
    }


def _path(name: str, route: str, matrix_world: dict) -> str:
    handoff = matrix_world["reviewed"] if "review" in name else matrix_world["handoff"]
    # a new offer goes on the case without an open one
    case = matrix_world["reviewed"].case if name in OFFERS else matrix_world["case"]
    values = {
        "<str:ref>": case.ref,
        "<id:handoff_id>": str(handoff.pk),
        "<id:pk>": str(matrix_world["promise"].pk),
        "<str:token>": matrix_world[
            "satisfaction_token" if "satisfaction-answer" in name else "token"
        ],
        "<id:customer_id>": str(
            matrix_world["merged"].pk if "unmerge" in name else matrix_world["case"].customer_id
        ),
        "<id:team_id>": str(matrix_world["case"].team_id),
        "<id:message_id>": str(matrix_world["unmatched"].pk),
        "<id:agent_id>": str(matrix_world["users"]["owner"].pk),
        "<id:absence_id>": str(matrix_world["absence"].pk),
        "<id:task_id>": str(matrix_world["task"].pk),
        "<id:endpoint_id>": str(matrix_world["webhook"].pk),
        "<id:delivery_id>": str(matrix_world["delivery"].pk),
        "<uidb64>": "MQ",
        "<token>": "set-password",
    }
    path = "/" + route
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    if name.startswith("reports-"):
        path += f"?team={matrix_world['case'].team_id}"  # the case's team, whoever asks
    return path


SUMMARY = {
    "customer_needs": "A refund of the duplicate charge of 42.50 on the March invoice.",
    "actions_taken": "Confirmed both charges with billing; refund request RF-88 raised today.",
    "customer_expectations": "Promised the money back within five days, she is annoyed.",
    "next_step": "Check RF-88 is approved on Thursday and tell the customer by phone.",
}


OFFERS = ("api-case-handoffs", "case-offer")


def _bodies(matrix_world: dict) -> dict[str, dict]:
    """A valid body for each writing route, so the answer shows the permission, not a
    validation error."""
    briefed = [p.id for p in hooks.collect_open_commitments(matrix_world["reviewed"].case)]
    free = callback_slots(case=matrix_world["case"], now=timezone.now())[0].starts_at.isoformat()
    return {
        "satisfaction-answer": {"score": "4", "comment": ""},
        "api-satisfaction-answer": {"score": 4, "comment": ""},
        "api-customer-callbacks": {"starts_at": free},
        "api-customer-callback-move": {"starts_at": free},
        "api-case-callbacks": {"starts_at": free},
        "api-case-callback-move": {"starts_at": free},
        "customer-callback": {"action": "move", "starts_at": free},
        "case-callback": {"action": "move", "starts_at": free},
        "reports-settings": {
            **{f"hours_{day}": "09:00–17:00" for day in range(5)},
            "reminder_leads": "1 business day, 1 business hour",
            "handoff_accept_minutes": "90",
            "assignment_rule": "round_robin",
        },
        "api-report-team-settings": {"handoff_accept_minutes": 90},
        "api-webhook-endpoints": {
            "team": matrix_world["case"].team_id,
            "url": "https://hooks.example.com/other",
        },
        "api-webhook-rotate-secret": {"overlap_hours": 1},
        "api-cases": {
            "customer": matrix_world["case"].customer_id,
            "channel": "email",
            "subject": "Hi",
        },
        "api-case-detail": {"priority": "high"},
        "api-case-notes": {"text": "Called the bank."},
        "api-case-handoffs": {
            "to_agent": matrix_world["spare"].pk,
            "reason": "expertise",
            "briefed_commitments": briefed,
            **SUMMARY,
        },
        "api-case-commitments": {"description": "Send the form", "within": "1 business day"},
        "api-commitment-renegotiate": {"within": "3 business days", "reason": "Courier late."},
        "api-commitment-withdraw": {"reason": "Not needed any more."},
        "api-handoff-decline": {"reason": "On leave tomorrow."},
        "api-handoff-review": {
            "context_complete": 4,
            "next_step_clear": 4,
            "commitments_carried": 4,
            "customer_informed": 4,
        },
        "case-offer": {
            "to_agent": matrix_world["spare"].pk,
            "reason": "expertise",
            "briefed_commitments": briefed,
            **SUMMARY,
        },
        "case-update": {"status": "open", "priority": "high", "reason": ""},
        "api-case-contacts": {
            "direction": "from_customer",
            "channel": "phone",
            "summary": "Asked for an update.",
        },
        "case-reply": {"body": "Dear Ada, the refund is on its way."},
        "api-case-replies": {"body": "Dear Ada, the refund is on its way."},
        "case-contact": {"direction": "to_customer", "channel": "phone", "summary": "Called."},
        "api-task-done": {"summary": "Told her the refund moved to Friday."},
        "task-done": {"summary": "Told her the refund moved to Friday."},
        "api-customer-detail": {"addressed_as": "Ada"},
        "customer-edit": {
            "full_name": matrix_world["case"].customer.full_name,
            "title": "",
            "addressed_as": "Ada",
            "email": matrix_world["case"].customer.email,
            "phone": "",
            "preferred_channel": "email",
            "time_zone": "Europe/London",
            "language": "en",
        },
        "api-customer-merge": {"other": matrix_world["duplicate"].pk},
        "customer-merge": {"other": matrix_world["duplicate"].pk},
        "inbound-attach": {"case": matrix_world["case"].ref},
        "api-agent-absences": {
            "starts_at": (timezone.now() + timedelta(days=40)).isoformat(),
            "ends_at": (timezone.now() + timedelta(days=41)).isoformat(),
        },
        "api-my-availability": {"away": True, "note": "Unwell"},
        "api-team-cover": {"on_duty": matrix_world["spare"].pk, "backups": []},
        "api-agent-cover-for": {
            "receivers": [matrix_world["spare"].pk],
            "cases": [
                {
                    "case": case.ref,
                    "briefed_commitments": [p.id for p in hooks.collect_open_commitments(case)],
                    **SUMMARY,
                }
                for case in (matrix_world["reviewed"].case,)  # the owner's case without an offer
            ],
        },
        "agent-cover-for": {
            "receivers": [matrix_world["spare"].pk],
            "case": [matrix_world["reviewed"].case.pk],
            f"c{matrix_world['reviewed'].case.pk}-briefed": briefed,
            **{
                f"c{matrix_world['reviewed'].case.pk}-{name}": text
                for name, text in SUMMARY.items()
            },
        },
        "case-note": {"text": "Called the bank."},
        "commitment-new": {
            "description": "Send the form",
            "kind": "other",
            "within": "1 business day",
        },
        "commitment-renegotiate": {"within": "3 business days", "reason": "Courier late."},
        "commitment-withdraw": {"reason": "Not needed any more."},
        "offer-decline": {"reason": "On leave tomorrow."},
        "handoff-review": {
            "context_complete": 4,
            "next_step_clear": 4,
            "commitments_carried": 4,
            "customer_informed": 4,
        },
    }


# What a role gets: "login" (401 on the API, the login page for pages), "hidden" (404: the
# object does not exist for them), "refused" (403, or a page's error message), "allowed"
# (the permission holds: 2xx, a redirect without an error, or 409 for the object's state).
LOGIN, HIDDEN, REFUSED, ALLOWED = "login", "hidden", "refused", "allowed"
# Intake names (or defaults to) a team the caller does not work in: refused, in the body's
# terms.
NOT_YOURS = {"team_required", "team_not_found"}
STAFF_ROLES = ("owner", "colleague", "outsider", "manager", "other_manager", "staff")


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(**outcomes: str) -> dict[str, str]:
    """Anonymous and the customer (no account) must log in; staff roles as given, else
    allowed."""
    return {"anonymous": LOGIN, "customer": LOGIN} | {
        role: outcomes.get(role, ALLOWED) for role in STAFF_ROLES
    }


# Reading a case of the owner's team: the team and its managers; other teams never see it.
CASE_READ = signed_in(outsider=HIDDEN, other_manager=HIDDEN)
# Changing it: its owner, the team's managers (and staff); colleagues read but may not.
CASE_WRITE = signed_in(colleague=REFUSED, outsider=HIDDEN, other_manager=HIDDEN)
# Answering an offer: only its receiver (the colleague here); nobody answers for them.
RECEIVER = signed_in(owner=REFUSED, manager=REFUSED, staff=REFUSED, outsider=HIDDEN,
                     other_manager=HIDDEN)  # fmt: skip
# Reviewing a hand-off: the team's managers; agents of the team are refused (API) or do not
# see the page's form (404); other teams never see it.
REVIEW_API = signed_in(owner=REFUSED, colleague=REFUSED, outsider=HIDDEN, other_manager=HIDDEN)
REVIEW_PAGE = signed_in(owner=HIDDEN, colleague=HIDDEN, outsider=HIDDEN, other_manager=HIDDEN)
ANY_AGENT = signed_in()
MANAGERS_API = signed_in(owner=REFUSED, colleague=REFUSED, outsider=REFUSED)
MANAGERS_PAGE = signed_in(owner=HIDDEN, colleague=HIDDEN, outsider=HIDDEN)
STAFF_ONLY = signed_in(
    owner=REFUSED, colleague=REFUSED, outsider=REFUSED, manager=REFUSED, other_manager=REFUSED
)
CUSTOMER_EDIT = signed_in(outsider=REFUSED, other_manager=REFUSED)
# Merging records (and undoing it): a manager with a correction's rights on both records;
# another team's manager is refused, as with a correction.
CUSTOMER_MERGE = signed_in(
    owner=REFUSED, colleague=REFUSED, outsider=REFUSED, other_manager=REFUSED
)
# Unmatched mail waits for any manager; they route it only to their own teams' cases.
MAIL_ROUTING = signed_in(owner=HIDDEN, colleague=HIDDEN, outsider=HIDDEN, other_manager=REFUSED)
# A team's figures: its managers; agents are refused, other teams' managers never see it.
TEAM_FIGURES = signed_in(owner=REFUSED, colleague=REFUSED, outsider=REFUSED, other_manager=HIDDEN)
# The agent (the owner, here) and the managers of their team plan the agent's absences.
PLANNERS = signed_in(colleague=HIDDEN, outsider=HIDDEN, other_manager=HIDDEN)
MANAGER_OF_THE_AGENT = signed_in(
    owner=REFUSED, colleague=HIDDEN, outsider=HIDDEN, other_manager=HIDDEN
)
AGENTS_ONLY = signed_in(staff=HIDDEN)
# The customer's link is its own credential: whoever holds it sees that one case.
LINK_HOLDER = everyone(ALLOWED)
PUBLIC = everyone(ALLOWED)

# Webhook endpoints: a team's managers (and admins); agents are refused, another team's
# endpoints do not exist for other managers, who may still add their own team's.
WEBHOOK_ADD = signed_in(owner=REFUSED, colleague=REFUSED, outsider=REFUSED, other_manager=REFUSED)
WEBHOOK_ENDPOINT = signed_in(
    owner=REFUSED, colleague=REFUSED, outsider=REFUSED, other_manager=HIDDEN
)

# A team's backups and on-duty agent: its managers (and staff); its agents are refused (API)
# or do not see the page; other teams never see the team.
TEAM_COVER_API = signed_in(owner=REFUSED, colleague=REFUSED, outsider=HIDDEN, other_manager=HIDDEN)
TEAM_COVER_PAGE = signed_in(owner=HIDDEN, colleague=HIDDEN, outsider=HIDDEN, other_manager=HIDDEN)

RULES: dict[str, dict[str, dict[str, str]]] = {
    "api-customer-callback-slots": {"GET": LINK_HOLDER},
    "api-customer-callbacks": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "api-customer-callback-move": {"POST": LINK_HOLDER},
    "api-customer-callback-cancel": {"POST": LINK_HOLDER},
    "customer-callback": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "api-case-callback-slots": {"GET": CASE_READ},
    "api-case-callbacks": {"GET": CASE_READ, "POST": CASE_WRITE},
    "api-case-callback-move": {"POST": CASE_WRITE},
    "api-case-callback-cancel": {"POST": CASE_WRITE},
    "case-callback": {"GET": CASE_READ, "POST": CASE_WRITE},
    "api-team-cover": {"GET": TEAM_COVER_API, "PUT": TEAM_COVER_API},
    "team-cover": {"GET": TEAM_COVER_PAGE, "POST": TEAM_COVER_PAGE},
    "api-webhook-events": {"GET": MANAGERS_API},
    "api-webhook-endpoints": {"GET": MANAGERS_API, "POST": WEBHOOK_ADD},
    "api-webhook-endpoint": {"GET": WEBHOOK_ENDPOINT, "DELETE": WEBHOOK_ENDPOINT},
    "api-webhook-rotate-secret": {"POST": WEBHOOK_ENDPOINT},
    "api-webhook-pause": {"POST": WEBHOOK_ENDPOINT},
    "api-webhook-resume": {"POST": WEBHOOK_ENDPOINT},
    "api-webhook-deliveries": {"GET": WEBHOOK_ENDPOINT},
    "api-webhook-redeliver": {"POST": WEBHOOK_ENDPOINT},
    # the API
    # staff belong to no team, so intake has no team to default to
    "api-cases": {"GET": ANY_AGENT, "POST": signed_in(staff=REFUSED)},
    "api-case-detail": {"GET": CASE_READ, "PATCH": CASE_WRITE},
    "api-case-notes": {"POST": CASE_WRITE},
    "api-case-handoffs": {"GET": CASE_READ, "POST": CASE_WRITE},
    "api-case-commitments": {"GET": CASE_READ, "POST": CASE_WRITE},
    "api-commitment-keep": {"POST": CASE_WRITE},
    "api-commitment-confirm-on-track": {"POST": CASE_WRITE},
    "api-commitment-renegotiate": {"POST": CASE_WRITE},
    "api-commitment-withdraw": {"POST": CASE_WRITE},
    "api-handoff-accept": {"POST": RECEIVER},
    "api-handoff-decline": {"POST": RECEIVER},
    "api-handoff-cancel": {"POST": CASE_WRITE},
    "api-handoff-review": {"POST": REVIEW_API},
    "api-queue": {"GET": ANY_AGENT},
    "queue-live": {"GET": ANY_AGENT},
    "case-live": {"GET": CASE_READ},
    # the answer's token is its own credential, as the customer's link is
    "satisfaction-answer": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "api-satisfaction-answer": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "api-report-team-satisfaction": {"GET": TEAM_FIGURES},
    # an owner's task (a call to make): the team records the call, as with any contact
    "api-task-done": {"POST": CASE_READ},
    "api-report-handoffs": {"GET": MANAGERS_API},
    # agents see their own row, managers their teams'
    "api-report-commitments": {"GET": ANY_AGENT},
    "api-customer": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "api-customer-link-revoke": {"POST": CASE_WRITE},
    # contacts: the team records what happened (integrations log calls as a team member)
    "api-case-contacts": {"GET": CASE_READ, "POST": CASE_READ},
    # a reply to the customer: the case page's reply, as an operation
    "api-case-replies": {"POST": CASE_WRITE},
    # inbound mail over HTTP: the shared secret, never a user; none configured here
    "api-inbound-email": {"POST": everyone(REFUSED)},
    "api-search": {"GET": ANY_AGENT},
    "api-customers": {"GET": ANY_AGENT},
    # CUSTOMER_VISIBILITY "organisation" (the default): every agent reads every customer;
    # correcting one is for agents and managers of a team with one of their cases
    "api-customer-detail": {"GET": ANY_AGENT, "PATCH": CUSTOMER_EDIT},
    "api-customer-merge": {"POST": CUSTOMER_MERGE},
    "api-customer-unmerge": {"POST": CUSTOMER_MERGE},
    # an agent's absences: the agent and the managers of their team; colleagues never see
    # them (the case page shows who covers), other teams never
    "api-agent-absences": {"GET": PLANNERS, "POST": PLANNERS},
    "api-agent-absence-end": {"POST": PLANNERS},
    "api-agent-cover-for": {"POST": MANAGER_OF_THE_AGENT},
    "agent-cover-for": {"GET": MANAGER_OF_THE_AGENT, "POST": MANAGER_OF_THE_AGENT},
    "api-agent-deactivate": {"POST": MANAGER_OF_THE_AGENT},
    # one's own availability (staff without an agent profile have none)
    "api-my-availability": {"GET": AGENTS_ONLY, "POST": AGENTS_ONLY},
    "api-report-team-summary": {"GET": TEAM_FIGURES},
    "api-report-team-agents": {"GET": TEAM_FIGURES},
    "api-report-team-settings": {"GET": TEAM_FIGURES, "PATCH": TEAM_FIGURES},
    "health-notifications": {"GET": STAFF_ONLY},
    "schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
    "api-redoc": {"GET": PUBLIC},
    # operations (metrics: the loopback allow-list of development settings; tests/ops covers
    # the token and production rules)
    "metrics": {"GET": PUBLIC},
    "health-live": {"GET": PUBLIC},
    "health-ready": {"GET": PUBLIC},
    # the pages
    "home": {"GET": signed_in()},
    "queue": {"GET": ANY_AGENT},
    "case-new": {"GET": ANY_AGENT},
    "case-detail": {"GET": CASE_READ},
    "case-update": {"POST": CASE_WRITE},
    "case-note": {"POST": CASE_WRITE},
    "case-offer": {"POST": CASE_WRITE},
    "commitment-new": {"POST": CASE_WRITE},
    "commitment-keep": {"POST": CASE_WRITE},
    "commitment-confirm": {"POST": CASE_WRITE},
    "commitment-renegotiate": {"POST": CASE_WRITE},
    "commitment-withdraw": {"POST": CASE_WRITE},
    "offer-accept": {"POST": RECEIVER},
    "offer-decline": {"POST": RECEIVER},
    "offer-cancel": {"POST": CASE_WRITE},
    "handoff-audit": {"GET": MANAGERS_PAGE},
    "handoff-audit-csv": {"GET": MANAGERS_PAGE},
    "handoff-review": {"POST": REVIEW_PAGE},
    "customer-page": {"GET": LINK_HOLDER, "POST": LINK_HOLDER},
    "customer-link-revoke": {"POST": CASE_WRITE},
    "case-reply": {"POST": CASE_WRITE},
    # "Log a contact": the team records what happened, as through the contacts API
    "case-contact": {"POST": CASE_READ},
    "task-done": {"POST": CASE_READ},
    "inbound-mail": {"GET": MANAGERS_PAGE},
    "inbound-attach": {"POST": MAIL_ROUTING},
    "search": {"GET": ANY_AGENT},
    "customer-detail": {"GET": ANY_AGENT},
    "customer-edit": {"POST": CUSTOMER_EDIT},
    "customer-merge": {"POST": CUSTOMER_MERGE},
    "customer-unmerge": {"POST": CUSTOMER_MERGE},
    "landing": {"GET": signed_in()},
    "my-availability": {"GET": ANY_AGENT},
    "reports-dashboard": {"GET": TEAM_FIGURES},
    "reports-agents": {"GET": TEAM_FIGURES},
    "reports-promises": {"GET": TEAM_FIGURES},
    "reports-open-cases": {"GET": TEAM_FIGURES},
    "reports-first-response": {"GET": TEAM_FIGURES},
    # A team's settings: its managers change them (and staff); agents refused, others hidden.
    "reports-settings": {"GET": TEAM_FIGURES, "POST": TEAM_FIGURES},
    # Django's account pages
    "login": {"GET": PUBLIC},
    "logout": {"POST": everyone(LOGIN)},  # logging out ends on the login page
    "password_change": {"GET": signed_in()},
    "password_change_done": {"GET": signed_in()},
    "password_reset": {"GET": PUBLIC},
    "password_reset_done": {"GET": PUBLIC},
    "password_reset_confirm": {"GET": PUBLIC},
    "password_reset_complete": {"GET": PUBLIC},
    # The development mailbox (DEBUG only, never in production): open, like the dev server;
    # the matrix world sends no mail, so a message's pages find nothing (tests/test_dev_mail.py
    # opens them).
    "dev-mail": {"GET": PUBLIC},
    "dev-mail-detail": {"GET": everyone(HIDDEN)},
    "dev-mail-html": {"GET": everyone(HIDDEN)},
    "dev-mail-attachment": {"GET": everyone(HIDDEN)},
}

ROUTES = _named_routes(get_resolver().url_patterns)


def test_every_route_has_a_rule():
    assert sorted(set(ROUTES) - set(RULES)) == [], "routes without an access rule"
    assert sorted(set(RULES) - set(ROUTES)) == [], "rules for routes that no longer exist"


def _outcome(response: Any, *, api: bool) -> str:
    status = response.status_code
    if status == 401 or (
        not api and status == 302 and response["Location"].startswith(settings.LOGIN_URL)
    ):
        return LOGIN
    if status == 404:
        return HIDDEN
    if status == 403:
        return REFUSED
    if api and status == 400 and response.json().get("code") in NOT_YOURS:
        return REFUSED
    errors = [m for m in get_messages(response.wsgi_request) if m.level >= messages.ERROR]
    if errors:
        return REFUSED
    if status < 400 or status == 409:
        return ALLOWED
    return f"unexpected {status}"


def _once(matrix_world: dict, key: str, make: Any) -> Any:
    """What every request of the matrix shares, made once: each request is rolled back, so
    the world it is made from does not change."""
    if key not in matrix_world:
        matrix_world[key] = make()
    return matrix_world[key]


def _signed_in(matrix_world: dict, role: str) -> str:
    """The session cookie of ``role`` (signed in once, outside the rolled-back requests)."""

    def sign_in() -> str:
        user = matrix_world["users"].get(role)
        if user is None:
            return ""
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return _once(matrix_world, f"session:{role}", sign_in)


def request_as(matrix_world: dict, name: str, method: str, role: str) -> str:
    # every route holding the customer's link counts against one throttle: the matrix asks
    # them all, more often than a customer would
    cache.clear()
    client = Client()  # a fresh client: no cookie of an earlier answer (messages) carries over
    session = _signed_in(matrix_world, role)
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    path = _path(name, ROUTES[name], matrix_world)
    body = _once(matrix_world, "bodies", lambda: _bodies(matrix_world)).get(name, {})
    api = name.startswith("api-") or name == "health-notifications"
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        elif name == "api-inbound-email":
            raw = b"From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n"
            response = client.post(path, raw, content_type="message/rfc822")
        elif api:
            response = getattr(client, method.lower())(path, body, content_type="application/json")
        else:
            response = client.post(path, body)
        outcome = _outcome(response, api=api)
        transaction.set_rollback(True)
    return outcome


def test_each_role_gets_what_the_rule_says(matrix_world):
    mismatches = []
    for name in sorted(RULES):
        for method, expected in RULES[name].items():
            got = {role: request_as(matrix_world, name, method, role) for role in ROLES}
            mismatches += [
                f"{method} {name} as {role}: {got[role]} (rule: {expected[role]})"
                for role in ROLES
                if got[role] != expected[role]
            ]
    assert not mismatches, "\n".join(mismatches)


# Pages that only show something answer nothing but GET and HEAD.
READ_ONLY_PAGES = ("home", "queue", "case-detail", "handoff-audit", "handoff-audit-csv")


@pytest.mark.parametrize("name", READ_ONLY_PAGES)
def test_a_read_only_page_refuses_writes(matrix_world, name):
    client = Client()
    client.force_login(matrix_world["users"]["manager"])
    path = _path(name, ROUTES[name], matrix_world)
    assert client.post(path, {}).status_code == 405
