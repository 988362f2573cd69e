"""Clients generated from the served schema tell an integrator's story against a live server.

Both clients are generated once per session from ``/api/schema/`` as the live server serves
it, never committed: a Python package by openapi-python-client (from var/clients/venv, which
``make test`` installs from clients/requirements.txt) and TypeScript types by
openapi-typescript for openapi-fetch (clients/node_modules, ``npm ci`` in clients/), checked
by ``tsc`` before they run. Each story (clients/story.py, clients/story.ts) creates a case for
a new customer, promises within business time, offers and accepts a hand-off, renegotiates,
pages through cases by cursor and searches. A schema change that breaks either client fails
here. Without the tools these tests skip with the reason, except in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
GENERATOR = ROOT / "var" / "clients" / "venv" / "bin"
NODE_BIN = CLIENTS / "node_modules" / ".bin"
# The one operation a generated Python client may leave out: raw RFC 5322 mail is not JSON.
NOT_GENERATED = {"POST /api/v1/inbound/email/"}


@dataclass
class Generated:
    """Where each client was generated, or why it could not be."""

    python: Path | None = None
    typescript: Path | None = None
    missing: dict[str, str] = field(default_factory=dict)


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _skipped_operations(output: str) -> set[str]:
    """The operations openapi-python-client reported it would not generate."""
    skipped = set()
    for line in output.splitlines():
        if line.startswith("WARNING parsing ") and "Endpoint will not be generated" in line:
            method, path = line.removeprefix("WARNING parsing ").split()[:2]
            skipped.add(f"{method} {path}")
    return skipped


@pytest.fixture(scope="session")
def generated(live_server, tmp_path_factory, django_db_blocker) -> Generated:
    """Both clients from the served schema, generated side by side (once per session)."""
    out = tmp_path_factory.mktemp("clients")
    started = time.monotonic()
    schema = out / "schema.json"
    # the server may read the database while it answers (no test's transaction is open yet)
    with (
        django_db_blocker.unblock(),
        urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json", timeout=60) as r,
    ):
        schema.write_bytes(r.read())
    result = Generated()

    python_job = None
    if (GENERATOR / "openapi-python-client").exists():
        python_job = subprocess.Popen(
            [
                str(GENERATOR / "openapi-python-client"), "generate", "--path", str(schema),
                "--output-path", str(out / "python" / "caseowner_client"), "--meta", "none",
                "--config", str(CLIENTS / "openapi-python-client.yaml"),
            ],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    else:
        result.missing["python"] = (
            "needs openapi-python-client in var/clients/venv (make test installs it from "
            "clients/requirements.txt)"
        )

    if shutil.which("node") and (NODE_BIN / "tsc").exists():
        typescript = out / "typescript"
        typescript.mkdir()
        for name in ("story.ts", "tsconfig.json", "package.json"):
            shutil.copy(CLIENTS / name, typescript / name)
        (typescript / "node_modules").symlink_to(CLIENTS / "node_modules")
        # defaults do not make a request's field required (they are what the server fills in)
        types = _run(
            [str(NODE_BIN / "openapi-typescript"), str(schema), "--default-non-nullable",
             "false", "-o", str(typescript / "schema.d.ts")],
            typescript,
        )  # fmt: skip
        assert types.returncode == 0, types.stdout + types.stderr
        checked = _run([str(NODE_BIN / "tsc"), "-p", "tsconfig.json"], typescript)
        assert checked.returncode == 0, f"tsc refused the story:\n{checked.stdout}"
        result.typescript = typescript
    else:
        result.missing["typescript"] = (
            "needs node and npm (make test runs npm ci in clients/ when npm is there)"
        )

    if python_job is not None:
        output, _ = python_job.communicate(timeout=120)
        assert python_job.returncode == 0, output
        assert _skipped_operations(output) <= NOT_GENERATED, output
        result.python = out / "python"
    # shown with -s: generating both must stay well under a minute
    print(f"clients generated from the served schema in {time.monotonic() - started:.1f} s")
    return result


def _require(generated: Generated, which: str) -> Path:
    where = getattr(generated, which)
    if where is None:
        reason = generated.missing[which]
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return where


@pytest.fixture
def story(live_server) -> dict[str, Any]:
    """A team with an owner and a receiver, their API tokens, and five older cases, so the
    receiver's list takes several pages of two."""
    from rest_framework.authtoken.models import Token

    from tests.factories import CaseFactory, TeamFactory, make_agent

    team = TeamFactory(name="Integrations")
    owner, receiver = make_agent(team), make_agent(team)
    CaseFactory.create_batch(5, team=team, owner=owner)
    env = {
        "CASEOWNER_URL": live_server.url,
        "TOKEN_OWNER": Token.objects.create(user=owner).key,
        "TOKEN_RECEIVER": Token.objects.create(user=receiver).key,
        "OWNER_ID": str(owner.pk),
        "RECEIVER_ID": str(receiver.pk),
        "TEAM_ID": str(team.pk),
    }
    return {"env": env, "receiver": receiver}


def _tell(args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    told = subprocess.run(
        args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert told.returncode == 0, told.stdout + told.stderr
    return json.loads(told.stdout.strip().splitlines()[-1])


def _check_the_story(seen: dict[str, Any], *, email: str, receiver: Any) -> None:
    from cases.models import Case
    from cases.models.case import parse_ref
    from commitments.models import Commitment, CommitmentStatus

    case = Case.objects.get(pk=parse_ref(seen["case"]))
    assert case.owner_id == receiver.pk
    assert case.customer.email == email
    assert seen["handoff"]["status"] == "accepted"
    promise = Commitment.objects.get(pk=seen["promise"]["id"])
    assert promise.status == CommitmentStatus.RENEGOTIATED
    successor = Commitment.objects.get(pk=seen["successor"]["id"])
    assert (successor.status, successor.owner_id) == (CommitmentStatus.OPEN, receiver.pk)
    assert successor.due_at > promise.due_at
    # every case of the team once, newest (the story's) first, two a page
    assert seen["refs"][0] == seen["case"]
    assert sorted(seen["refs"]) == sorted(c.ref for c in Case.objects.all())
    assert seen["pages"] == 3
    assert email in seen["search"]["customers"]
    assert seen["case"] in seen["search"]["their_cases"]


def test_the_python_client_tells_the_integrators_story(generated, story):
    where = _require(generated, "python")
    email = "ada@integrator.example.com"
    seen = _tell(
        [str(GENERATOR / "python"), str(CLIENTS / "story.py")],
        where,
        {**story["env"], "EMAIL": email, "PYTHONPATH": str(where)},
    )
    _check_the_story(seen, email=email, receiver=story["receiver"])
    assert seen["modules"] > 50  # the whole package imported, every operation's module


def test_the_typescript_client_tells_the_integrators_story(generated, story):
    where = _require(generated, "typescript")
    email = "grace@integrator.example.com"
    seen = _tell(
        [shutil.which("node") or "node", str(where / "out" / "story.js")],
        where,
        {**story["env"], "EMAIL": email},
    )
    _check_the_story(seen, email=email, receiver=story["receiver"])


def test_it_reads_which_operations_the_generator_left_out():
    output = (
        "Generating py\nWARNING parsing POST /api/v1/inbound/email/ within v1. Endpoint will "
        "not be generated.\n\nUnsupported content type message/rfc822\n"
    )
    assert _skipped_operations(output) == {"POST /api/v1/inbound/email/"}
