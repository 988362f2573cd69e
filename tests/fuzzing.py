"""What the API fuzzing shares: its checks, the world it runs in, and its stored examples.

Nothing random decides CI. The fuzz tests draw from fixed seeds, and every stored example
under ``tests/fuzz_examples/`` is replayed on every run (``tests/test_fuzz_examples.py``).
``make fuzz`` explores further with a fresh seed (``FUZZ_SEED``, printed); each request it
finds failing is written to ``var/fuzz/found/`` in the stored examples' format, path
parameters that are the world's own objects written as ``{team}``, ``{case}``, … so the
example replays in any world. Once the failure is fixed the file is committed under
``tests/fuzz_examples/`` and guards the fix from then on.

An example::

    {"role": "manager", "method": "PATCH",
     "path": "/api/v1/reports/teams/{id}/settings/", "path_parameters": {"id": "{team}"},
     "query": {}, "media_type": "application/json",
     "body": {"holiday_subdivision": "…"},
     "found": "a 500: DataError, value too long for type character varying(16)",
     "expect_status": 400}
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.test import Client
from rest_framework.authtoken.models import Token
from schemathesis import checks

from cases.customers.links import make_customer_token
from tests.factories import CaseFactory, HandoffFactory, TeamFactory, make_agent, make_manager

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "fuzz_examples"
FOUND = ROOT / "var" / "fuzz" / "found"

# ``make fuzz`` sets FUZZ_SEED to explore; without it every draw is CI's fixed one.
FUZZ_SEED = os.environ.get("FUZZ_SEED", "")
EXPLORING = bool(FUZZ_SEED)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]

ROLES = ("agent", "manager", "customer")


@dataclass
class World:
    """One team with an owner, a colleague, a manager and a case with a hand-off offered;
    ``values`` names what a stored example's path may refer to."""

    role: str
    headers: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)


def build_world(role: str) -> World:
    team = TeamFactory()
    owner = make_agent(team)
    colleague = make_agent(team)  # someone to hand off to
    manager = make_manager(team)
    case = CaseFactory(team=team, owner=owner)
    handoff = HandoffFactory(case=case)
    values = {
        "team": str(team.pk),
        "owner": str(owner.pk),
        "colleague": str(colleague.pk),
        "manager": str(manager.pk),
        "case": case.ref,
        "customer": str(case.customer_id),
        "handoff": str(handoff.pk),
        "token": make_customer_token(case_id=case.pk, generation=case.link_generation),
    }
    headers: dict[str, str] = {}
    if role != "customer":
        user = owner if role == "agent" else manager
        headers["Authorization"] = f"Token {Token.objects.create(user=user).key}"
    return World(role=role, headers=headers, values=values)


def _encode_body(body: Any) -> Any:
    if isinstance(body, bytes):
        return {"__base64__": base64.b64encode(body).decode("ascii")}
    return body


def _decode_body(body: Any) -> Any:
    if isinstance(body, dict) and set(body) == {"__base64__"}:
        return base64.b64decode(body["__base64__"])
    return body


def example_of(case: Any, *, world: World, found: str) -> dict[str, Any]:
    """A schemathesis case as a stored example; the world's own objects become placeholders."""
    by_value = {value: name for name, value in world.values.items()}
    parameters = {
        name: f"{{{by_value[str(value)]}}}" if str(value) in by_value else value
        for name, value in (case.path_parameters or {}).items()
    }
    body = case.body
    if type(body).__name__ == "NotSet":
        body = None
    return {
        "role": world.role,
        "method": case.method.upper(),
        "path": case.path,
        "path_parameters": parameters,
        "query": dict(case.query or {}),
        "media_type": case.media_type,
        "body": _encode_body(body),
        "found": found[:500],
    }


def save_found(case: Any, *, world: World, found: str) -> Path:
    """Write a failing request found while exploring to var/fuzz/found/ (named by content,
    so the same failure found twice is one file)."""
    example = example_of(case, world=world, found=found)
    text = json.dumps(example, indent=2, sort_keys=True, ensure_ascii=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    FOUND.mkdir(parents=True, exist_ok=True)
    target = FOUND / f"{example['method'].lower()}-{digest}.json"
    target.write_text(text + "\n")
    return target


def stored_examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def _path(example: dict[str, Any], world: World) -> str:
    values = {}
    for name, value in example.get("path_parameters", {}).items():
        text = str(value)
        if text.startswith("{") and text.endswith("}"):
            text = world.values[text[1:-1]]
        values[name] = quote(text, safe="")
    path = example["path"].format(**values)
    query = example.get("query") or {}
    return f"{path}?{urlencode(query, doseq=True)}" if query else path


def replay(example: dict[str, Any], world: World) -> Any:
    """Send a stored example as its role; a server error is answered, not raised."""
    client = Client(raise_request_exception=False)
    body = _decode_body(example.get("body"))
    media_type = example.get("media_type") or "application/json"
    if body is None:
        data: bytes | str = b""
    elif isinstance(body, bytes):
        data = body
    elif media_type == "application/json":
        data = json.dumps(body)
    else:
        data = urlencode(body, doseq=True) if isinstance(body, dict) else str(body)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in world.headers.items()}
    return client.generic(
        example["method"], _path(example, world), data=data, content_type=media_type, **extra
    )
