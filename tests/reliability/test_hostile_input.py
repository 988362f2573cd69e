"""A hostile corpus sent to every route the URL configuration has, pages included.

The routes come from Django's resolver (the admin aside: Django's own, staff only); path
parameters are filled with the real ids, references and tokens of a small world, and the
string ones (a case reference, the customer's token) get the corpus too. A first pass
probes each route as each role with a recorder on the request's query and form, to learn
which methods it answers, whom it lets in and which names it reads (with no query, and with
plausible values for the common names, so a name read only once another is valid is heard);
each page's HTML gives the forms that post to each route and the values they offer.

The walk then sends the corpus (NUL bytes, a lone surrogate, non-ASCII digits, the
calendar's ends, a string of LIKE wildcards one pair longer than the longest text the product
takes (a description, 20,000 characters), JSON nested 2,000 deep,
negative and huge integers) into every query name a route reads or the OpenAPI schema or
its GET forms name; into all the common names at once; into each field of the form bodies
that post to it (the others left as the page offers them); and into each field of its JSON
body, inside lists and objects too, and as the whole body. The case's owner and the team's
manager take turns (anonymous too where the customer's link is the credential), so each
value meets each parameter once; fields that differ only by a number share the corpus.

The answer may refuse anything, but never with a server error, and an API refusal has the
JSON error shape.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from caseowner.text import DESCRIPTION_MAX
from cases import services
from cases.availability.services import absence_record
from cases.conversations.inbound import inbound_mail_receive
from cases.customers.links import make_customer_token
from cases.customers.services import customer_merge
from cases.handoffs.services import handoff_accept
from cases.models import Channel, OwnerTask
from commitments.models import CommitmentKind
from commitments.services import commitment_create
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager, offer

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Hostile:
    """One value of the corpus: as it goes into a query string or a form body (already
    percent-encoded: a lone surrogate is the invalid UTF-8 ``%ED%A0%80``) and as JSON text."""

    wire: str
    json: str


DEEP = 2000
LONG_PAIRS = DESCRIPTION_MAX // 2 + 1
CORPUS: dict[str, Hostile] = {
    "nul": Hostile("a%00b", '"a\\u0000b"'),
    "surrogate": Hostile("%ED%A0%80", '"\\ud800"'),
    "superscript_digit": Hostile(quote("²"), '"²"'),
    "arabic_digit": Hostile(quote("٣"), '"٣"'),
    "min_date": Hostile("0001-01-01", '"0001-01-01"'),
    "max_date": Hostile("9999-12-31", '"9999-12-31"'),
    "min_datetime": Hostile(quote("0001-01-01T00:00:00Z"), '"0001-01-01T00:00:00Z"'),
    # LIKE's wildcards: escaped for a search, the pattern doubles; past every length limit
    # (decoding it is most of the walk's own time, so no longer than that)
    "long": Hostile(quote("%_" * LONG_PAIRS), '"' + "%_" * LONG_PAIRS + '"'),
    "negative": Hostile("-1", "-1"),
    "huge": Hostile("99999999999999999999", "99999999999999999999"),
    "deep_array": Hostile(quote("[" * DEEP + "]" * DEEP), "[" * DEEP + "]" * DEEP),
    "deep_object": Hostile(
        quote('{"a":' * DEEP + "1" + "}" * DEEP), '{"a":' * DEEP + "1" + "}" * DEEP
    ),
}

# Query parameters views of this product read; each route gets these besides its own.
COMMON_PARAMS = (
    "q", "customer", "team", "agent", "status", "from", "to", "date", "page", "cursor",
    "next", "absence", "receivers", "starts_at", "ends_at", "owner", "due_before",
    "date_from", "date_to", "page_size", "sort", "priority", "channel", "format",
)  # fmt: skip

ROLES = ("owner", "manager")
# The customer's link is its own credential: its page and API are walked anonymously too.
ANONYMOUS_ROUTES = ("customer-page", "api-customer")


def _routes(patterns: list[Any], prefix: str = "") -> dict[str, str]:
    routes: dict[str, str] = {}
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue  # Django's admin: staff only, its own forms
            routes.update(_routes(pattern.url_patterns, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"an unnamed route: {prefix}{pattern.pattern}"
            routes[pattern.name] = prefix + str(pattern.pattern)
    return routes


ROUTES = _routes(get_resolver().url_patterns)


@pytest.fixture
def world() -> dict[str, Any]:
    team = TeamFactory()
    owner, colleague, spare = make_agent(team), make_agent(team), make_agent(team)
    manager = make_manager(team)
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

    def colleagues_case(subject: str) -> Any:
        return services.case_open(
            customer=CustomerFactory(),
            team=team,
            channel=Channel.PHONE,
            subject=subject,
            by=colleague,
            owner=colleague,
        )

    # an offer waiting for the owner (accept, decline, cancel) and an accepted one to review
    waiting = offer(colleagues_case("Router"), to=owner)
    reviewed = offer(colleagues_case("Modem"), to=owner)
    handoff_accept(handoff=reviewed, by=owner)
    # a record merged into the case's customer (unmerge) and one to merge
    merged = colleagues_case("Charged twice, again").customer
    customer_merge(survivor=case.customer, merged=merged, by=manager)
    absence = absence_record(
        agent=owner,
        by=owner,
        starts_at=timezone.now() + timedelta(days=20),
        ends_at=timezone.now() + timedelta(days=25),
    ).absence
    unmatched = inbound_mail_receive(
        raw=b"From: someone@example.org\r\nTo: support@caseowner.test\r\n"
        b"Subject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\nWho handles this?\r\n",
        via="http",
    ).message
    task = OwnerTask.objects.create(
        case=case,
        owner=owner,
        text="Call Ms Lovelace: her refund moved to Friday",
        reason="customer has no email address",
        source_template="commitments/email/renegotiated",
        dedupe_key="hostile:task",
        created_at=timezone.now(),
    )
    return {
        "owner": owner,
        "manager": manager,
        "spare": spare,
        "case": case,
        "promise": promise,
        "waiting": waiting,
        "reviewed": reviewed,
        "merged": merged,
        "duplicate": reviewed.case.customer,
        "absence": absence,
        "unmatched": unmatched,
        "task": task,
        "token": make_customer_token(case_id=case.pk, generation=case.link_generation),
    }


def _path(name: str, world: dict[str, Any], hostile: dict[str, str] | None = None) -> str:
    """The route's path for the world's objects; ``hostile`` puts raw (already encoded)
    text in place of a string parameter instead."""
    case, handoff = world["case"], world["waiting"]
    values = {
        "<str:ref>": case.ref,
        "<id:handoff_id>": str((world["reviewed"] if "review" in name else handoff).pk),
        "<id:pk>": str(world["promise"].pk),
        "<str:token>": world["token"],
        "<id:customer_id>": str(world["merged"].pk if "unmerge" in name else case.customer_id),
        "<id:team_id>": str(case.team_id),
        "<id:message_id>": str(world["unmatched"].pk),
        "<id:agent_id>": str(world["owner"].pk),
        "<id:absence_id>": str(world["absence"].pk),
        "<id:task_id>": str(world["task"].pk),
        "<uidb64>": "MQ",
        "<token>": "set-password",
    } | (hostile or {})
    path = "/" + ROUTES[name]
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    return path


STRING_PLACEHOLDERS = ("<str:ref>", "<str:token>", "<uidb64>", "<token>")


# --- the fields each route reads: its pages' forms and the OpenAPI schema ------------------


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name: the value the page offers


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page
            self.forms.append(Form(a.get("method", "get").upper(), urlsplit(action).path))
            return
        if not self.forms:
            return
        fields = self.forms[-1].fields
        name = a.get("name", "")
        if name == "csrfmiddlewaretoken":
            return  # the test client does not check it
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                fields.setdefault(name, "")
            elif kind not in ("submit", "button", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if not fields[self._select] or "selected" in a:
                fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def _route_of(path: str) -> str | None:
    try:
        return resolve(path).url_name
    except Resolver404:
        return None


def _schema_fields(schema: dict[str, Any]) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """(route name, method): (query parameters, JSON body fields) from the schema."""
    components = schema.get("components", {}).get("schemas", {})

    def properties(node: dict[str, Any]) -> set[str]:
        if "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        names = set(node.get("properties", {}))
        for part in node.get("allOf", []) + node.get("oneOf", []) + node.get("anyOf", []):
            names |= properties(part)
        return names

    by_template = {_template("/" + route): name for name, route in ROUTES.items()}
    out: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for template, operations in schema["paths"].items():
        name = by_template.get(template)
        if name is None:
            continue
        for method, operation in operations.items():
            if method.upper() not in ("GET", "POST", "PATCH", "PUT"):
                continue
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            body: set[str] = set()
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = properties(content["application/json"]["schema"])
            out[(name, method.upper())] = (query, body)
    return out


def _template(route: str) -> str:
    """``/api/v1/cases/<str:ref>/`` as the schema writes it: ``/api/v1/cases/{ref}/``."""
    out = route
    while "<" in out:
        start, end = out.index("<"), out.index(">")
        out = out[:start] + "{" + out[start + 1 : end].split(":")[-1] + "}" + out[end + 1 :]
    return out


SUMMARY = {
    "customer_needs": "A refund of the duplicate charge of 42.50 on the March invoice.",
    "actions_taken": "Confirmed both charges with billing; refund request RF-88 raised today.",
    "customer_expectations": "Promised the money back within five days, she is annoyed.",
    "next_step": "Check RF-88 is approved on Thursday and tell the customer by phone.",
}


def _json_bodies(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A valid body for each API write, so a hostile field is read past the others."""
    later = timezone.now() + timedelta(days=40)
    scores = dict.fromkeys(
        ("context_complete", "next_step_clear", "commitments_carried", "customer_informed"), 4
    )
    return {
        "api-cases": {"customer": world["case"].customer_id, "channel": "email", "subject": "Hi"},
        "api-case-detail": {"priority": "high"},
        "api-case-notes": {"text": "Called the bank."},
        "api-case-handoffs": {
            "to_agent": world["spare"].pk,
            "reason": "expertise",
            "briefed_commitments": [world["promise"].pk],
            **SUMMARY,
        },
        "api-case-commitments": {"description": "Send the form", "within": "1 business day"},
        "api-commitment-renegotiate": {"within": "3 business days", "reason": "Courier late."},
        "api-commitment-withdraw": {"reason": "Not needed any more."},
        "api-handoff-decline": {"reason": "On leave tomorrow."},
        "api-handoff-review": scores,
        "api-case-contacts": {
            "direction": "from_customer",
            "channel": "phone",
            "summary": "Asked for an update.",
        },
        "api-task-done": {"summary": "Told her the refund moved to Friday."},
        "api-customer-detail": {"addressed_as": "Ada"},
        "api-customer-merge": {"other": world["duplicate"].pk},
        "api-agent-absences": {
            "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(days=1)).isoformat(),
        },
        "api-my-availability": {"away": True, "note": "Unwell"},
        "api-agent-cover-for": {
            "receivers": [world["spare"].pk],
            "cases": [
                {"case": world["case"].ref, "briefed_commitments": [world["promise"].pk]} | SUMMARY
            ],
        },
        "api-report-team-settings": {"handoff_accept_minutes": 90},
    }


# --- the walk ------------------------------------------------------------------------------


# Readiness answers 503 when a dependency (the broker) is down: that is its answer, and the
# hostile input never reaches a check.
DESIGNED_5XX = {("/health/ready", 503)}


@dataclass
class Failure:
    method: str
    path: str
    param: str
    value: str
    exception: str

    def __str__(self) -> str:
        return f"{self.method} {self.path[:120]} {self.param}={self.value}: {self.exception}"


class Walk:
    """Sends requests as each role, each inside a savepoint rolled back afterwards (the world
    stays as built whatever a request changes), and keeps what broke."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.clients: dict[str, Client] = {}
        self.cookies: dict[str, Any] = {}
        for role in (*ROLES, "anonymous"):
            client = Client(raise_request_exception=False)
            if role != "anonymous":
                client.force_login(world[role])
            self.clients[role] = client
            self.cookies[role] = client.cookies
        self.requests = 0
        self.failures: list[Failure] = []

    def send(
        self,
        role: str,
        method: str,
        path: str,
        *,
        query: str = "",
        body: str = "",
        content_type: str = "application/octet-stream",
        param: str = "",
        value: str = "",
    ) -> Any:
        client = self.clients[role]
        # a log-out or log-in among the requests must not change who the role is
        client.cookies = type(self.cookies[role])(self.cookies[role])
        cache.clear()  # throttle counters: the walk is not a flood
        url = f"{path}?{query}" if query else path
        with transaction.atomic():
            response = client.generic(method, url, body, content_type)
            transaction.set_rollback(True)
        self.requests += 1
        problem = ""
        if response.status_code >= 500 and (path, response.status_code) not in DESIGNED_5XX:
            exc = getattr(response, "exc_info", None)
            problem = repr(exc[1])[:300] if exc else f"{response.status_code} answered"
        elif path.startswith("/api/v1/") and response.status_code >= 400:
            try:
                shape = response.json()
            except ValueError:
                shape = None
            if not (isinstance(shape, dict) and {"code", "message"} <= set(shape)):
                problem = f"{response.status_code} without the error shape"
        if problem:
            self.failures.append(Failure(method, path, param, value, f"{role}: {problem}"))
        return response


class _ReadRecorder(QueryDict):
    """A request's query (or form) that notes every name the view asks for, present or not.
    Copies note into the same set, so a form built on a copy is heard too."""

    heard: set[str] = set()
    listening = False

    def _hear(self, key: object) -> None:
        if _ReadRecorder.listening:
            self.heard.add(str(key))

    def __getitem__(self, key: str) -> Any:
        self._hear(key)
        return super().__getitem__(key)

    def _getlist(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self._hear(key)
        return super()._getlist(key, *args, **kwargs)

    def __contains__(self, key: object) -> bool:
        self._hear(key)
        return super().__contains__(key)

    # Iterating, copying or re-encoding the whole query (a link that keeps the filters)
    # reads no parameter in particular: these stay quiet.
    def _last(self, key: str) -> Any:
        values = dict.__getitem__(self, key)
        return values[-1] if values else []

    def items(self) -> Any:
        return iter([(key, self._last(key)) for key in self])

    def values(self) -> Any:
        return iter([self._last(key) for key in self])

    def dict(self) -> dict[str, Any]:
        return {key: self._last(key) for key in self}


class _QueryRecorder(_ReadRecorder):
    heard: set[str] = set()


class _FormRecorder(_ReadRecorder):
    heard: set[str] = set()


def record_reads(get_response: Any) -> Any:
    """Test middleware: the request's query and form as ``_ReadRecorder``s, so a probe
    learns which parameters the route reads (the product's code runs as ever); what the
    outer middleware reads afterwards (the request log lists the query's names) is not
    the route's."""

    def middleware(request: Any) -> Any:
        query = get_bytes_from_wsgi(request.environ, "QUERY_STRING", "")
        request.GET = _QueryRecorder(query, encoding="utf-8")
        if request.content_type == "application/x-www-form-urlencoded":
            request.POST = _FormRecorder(request.body, encoding="utf-8")
        _QueryRecorder.heard, _FormRecorder.heard = set(), set()
        _ReadRecorder.listening = True
        try:
            return get_response(request)
        finally:
            _ReadRecorder.listening = False

    return middleware


@dataclass
class Target:
    """One way a route reads input: its method, where the values go, the names there, the
    valid rest of the body, and the roles it lets in."""

    name: str
    method: str
    where: str  # "query", "form", "json" or "path"
    params: set[str]
    roles: tuple[str, ...]
    base: dict[str, Any] = field(default_factory=dict)


SENTINEL = "\x01hostile\x01"
REFUSED = (401, 403, 404, 405)


def _roles_for(name: str) -> tuple[str, ...]:
    return (*ROLES, "anonymous") if name in ANONYMOUS_ROUTES else ROLES


def _admitted(response: Any) -> bool:
    """The route read the request rather than refusing who sent it."""
    login = response.status_code == 302 and "/accounts/login/" in response["Location"]
    return response.status_code not in REFUSED and not login


def _plausible(world: dict[str, Any]) -> dict[str, Any]:
    """Common parameters with values that make sense, for the probe: a route that reads one
    parameter only once another is valid (a period's end once its team is) is heard."""
    today = timezone.localdate()
    return {
        "q": "Ada",
        "customer": world["case"].customer_id,
        "team": world["case"].team_id,
        "agent": world["owner"].pk,
        "owner": world["owner"].pk,
        "status": "open",
        "from": today - timedelta(days=28),
        "to": today,
        "date": today,
        "page": 1,
        "next": "/queue/",
        "absence": world["absence"].pk,
        "receivers": world["spare"].pk,
        "starts_at": timezone.now() + timedelta(days=30),
        "ends_at": timezone.now() + timedelta(days=31),
    }


def _form(fields: dict[str, Any]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in fields.items())


def _targets(world: dict[str, Any], routes: dict[str, str]) -> tuple[list[Target], Walk]:
    """Probes ``routes`` as every role with the recorder in place: which methods each
    answers, whom it lets in, which query and form names it reads, and (from the HTML of
    every page, since a form may post to a route of another shard) the forms that post to
    each route with the values they offer."""
    probe = Walk(world)
    reads: dict[tuple[str, str], set[str]] = {}  # query names the route asked for
    posted: dict[tuple[str, str], set[str]] = {}  # form names
    admitted: dict[tuple[str, str], list[str]] = {}
    forms: dict[tuple[str, str], dict[str, str]] = {}

    def send(role: str, name: str, method: str, **kwargs: Any) -> Any:
        response = probe.send(role, method, _path(name, world), param="(probe)", **kwargs)
        if _admitted(response):
            if role not in admitted.setdefault((name, method), []):
                admitted[(name, method)].append(role)
            reads.setdefault((name, method), set()).update(_QueryRecorder.heard)
            posted.setdefault((name, method), set()).update(_FormRecorder.heard)
        return response

    plausible = _form(_plausible(world))
    schema = json.loads(probe.send("manager", "GET", "/api/schema/", query="format=json").content)
    from_schema = _schema_fields(schema)
    for name in ROUTES:
        for role in _roles_for(name):
            send(role, name, "GET", query=plausible)  # what a route reads once given more
            response = send(role, name, "GET")
            if _admitted(response) and response.get("Content-Type", "").startswith("text/html"):
                parser = _FormParser(_path(name, world))
                parser.feed(response.content.decode())
                for form in parser.forms:
                    route = _route_of(form.action)
                    if route is not None:
                        forms.setdefault((route, form.method), {}).update(form.fields)
    bodies = _json_bodies(world)
    for name, route in routes.items():
        api = route.startswith("api/")
        for method in ("POST", "PATCH") if api else ("POST",):
            for role in _roles_for(name):
                if api:
                    body = json.dumps(bodies.get(name, {}))
                    send(role, name, method, body=body, content_type="application/json")
                else:
                    body = _form(forms.get((name, method), {}))
                    send(role, name, method, body=body, content_type=FORM)
    targets = []
    for (name, method), admitted_roles in admitted.items():
        if name not in routes:
            continue
        roles = tuple(admitted_roles)
        api = ROUTES[name].startswith("api/")
        query, body_fields = from_schema.get((name, method), (set(), set()))
        fields = forms.get((name, method), {})
        heard = reads.get((name, method), set())
        if any(p in ROUTES[name] for p in STRING_PLACEHOLDERS):
            targets.append(Target(name, method, "path", {"(path)"}, roles))
        if method == "GET":
            params = heard | query | set(fields)
            targets.append(Target(name, method, "query", params, roles))
            continue
        # a write's query: only where the route reads one (DRF's ``format`` is read alike
        # everywhere; the common parameters of GET routes carry it)
        if heard - {"format"} or query:
            targets.append(Target(name, method, "query", heard | query, roles))
        if api:
            base = bodies.get(name, {})
            params = body_fields | set(base) | set(_inner(base)) | {"(body)"}
            targets.append(Target(name, method, "json", params, roles, base))
        elif fields or posted.get((name, method)):
            params = posted.get((name, method), set()) | set(fields)
            targets.append(Target(name, method, "form", params, roles, fields))
    return targets, probe


FORM = "application/x-www-form-urlencoded"
COMMON = "(common)"


def _inner(value: Any, prefix: str = "") -> list[str]:
    """The paths inside a body's lists and objects (``cases.0.case``, ``receivers.0``)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    paths: list[str] = []
    for key, item in items:
        path = f"{prefix}{key}"
        if isinstance(item, dict | list):
            paths += _inner(item, f"{path}.")
        elif prefix:
            paths.append(path)
    return paths


def _with_sentinel(base: Any, path: str) -> Any:
    """A copy of ``base`` with the sentinel at ``path`` (dotted, list indexes as numbers)."""
    head, _, rest = path.partition(".")
    copy = dict(base) if isinstance(base, dict) else list(base)
    key: Any = int(head) if isinstance(copy, list) else head
    copy[key] = _with_sentinel(copy[key], rest) if rest else SENTINEL
    return copy


def _family(param: str) -> str:
    """Fields that differ only by a number (``hours_0`` … ``hours_6``, ``c12-next_step``) are
    one field repeated: the corpus is dealt out among them rather than sent to each."""
    return re.sub(r"[0-9]+", "#", param)


# A whole JSON body that is not an object: what can break there is the parser's own.
WHOLE_BODY = ("nul", "surrogate", "long", "huge", "deep_array", "deep_object")


def _requests(target: Target, world: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(param, value name, what to send): every value of the corpus in every parameter the
    route reads and, all at once, in every common parameter. Nesting is JSON's: in a query
    or a form it is only punctuation."""
    path = _path(target.name, world)
    families: dict[str, list[str]] = {}
    for param in sorted(target.params):
        families.setdefault(_family(param), []).append(param)
    if target.where in ("query", "form"):
        families[COMMON] = [COMMON]
    for members in families.values():
        values = [
            (value_name, value)
            for value_name, value in CORPUS.items()
            if (target.where == "json" or not value_name.startswith("deep_"))
            and (members != ["(body)"] or value_name in WHOLE_BODY)
        ]
        for turn, (value_name, value) in enumerate(values):
            param = members[turn % len(members)]
            send: dict[str, Any] = {"path": path}
            if target.where == "path":
                for placeholder in STRING_PLACEHOLDERS:
                    if placeholder in ROUTES[target.name]:
                        send["path"] = _path(target.name, world, {placeholder: value.wire})
            elif target.where in ("query", "form"):
                names = COMMON_PARAMS if param == COMMON else (param,)
                hostile = "&".join(f"{quote(name, safe='')}={value.wire}" for name in names)
                if target.where == "query":
                    send["query"] = hostile
                else:
                    others = {k: v for k, v in target.base.items() if k not in names}
                    send["body"] = f"{_form(others)}&{hostile}".lstrip("&")
                    send["content_type"] = FORM
            else:
                if param == "(body)":
                    send["body"] = value.json
                else:
                    text = json.dumps(_with_sentinel(target.base, param))
                    send["body"] = text.replace(json.dumps(SENTINEL), value.json)
                send["content_type"] = "application/json"
            yield param, value_name, send


# The routes are walked in shards, so the parallel pass of ``make test`` spreads them over
# both cores (the walk needs the database only: no broker, no other process).
SHARDS = 2


@pytest.mark.parallel_pass
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_hostile_input_makes_a_server_error(shard, world, figures, settings, request):
    started = time.monotonic()
    routes = {name: route for i, (name, route) in enumerate(ROUTES.items()) if i % SHARDS == shard}
    logging.disable(logging.WARNING)  # thousands of 4xx, each a warning with its value
    request.addfinalizer(lambda: logging.disable(logging.NOTSET))
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.record_reads"]
    targets, probe = _targets(world, routes)
    settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
    walk = Walk(world)
    walk.requests, walk.failures = probe.requests, probe.failures
    turn = 0
    for target in targets:
        for param, value_name, send in _requests(target, world):
            turn += 1
            role = target.roles[turn % len(target.roles)]
            walk.send(role, target.method, param=param, value=value_name, **send)
    server_errors = [f for f in walk.failures if "error shape" not in f.exception]
    figures.record(
        f"hostile input walk {shard + 1}/{SHARDS}",
        routes=len(routes),
        inputs=len(CORPUS),
        roles=len({role for target in targets for role in target.roles}),
        requests=walk.requests,
        server_errors=len(server_errors),
        api_errors_without_shape=len(walk.failures) - len(server_errors),
        seconds=round(time.monotonic() - started, 1),
    )
    assert not walk.failures, f"{len(walk.failures)} failures:\n" + "\n".join(
        str(f) for f in walk.failures
    )
