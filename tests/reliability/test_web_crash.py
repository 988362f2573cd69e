"""The web process killed mid-request: a real gunicorn serves the API on the test database
while clients keep writing (intake, promises made, kept and renegotiated, hand-offs offered
and accepted), and the whole process group is SIGKILLed again and again, each time while
one of its database transactions is open when the test can catch one. Afterwards nothing is
half-applied (every invariant of the design holds on every case, the notices each committed
change owes included) and nothing acknowledged is missing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cases.models import Case, Handoff, HandoffStatus, parse_ref
from cases.services import case_open
from commitments.models import Commitment, CommitmentStatus
from commitments.services import commitment_create
from tests.factories import CustomerFactory, TeamFactory, good_summary, make_agent, make_manager
from tests.integration.celery_worker import ROOT, current_database_url, wait_for
from tests.integration.conftest import purge_queue
from tests.integration.smtp_sink import free_port
from tests.reliability.invariants import violations

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KILLS = int(os.environ.get("RELIABILITY_WEB_KILLS", "12"))
WHOLE_GROUP_EVERY = 6  # every 6th kill takes the master too (a node dying), not only workers
CLIENTS = 4
CASES = 6
GUNICORN = str(Path(ROOT, ".venv", "bin", "gunicorn"))


class WebServer:
    """gunicorn (a master and two sync workers, the application preloaded so a killed
    worker is replaced at once) in a session of its own: SIGKILL of the workers is the
    process serving a request dying; of the whole group, a node or container dying."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as handle:
            self.popen = subprocess.Popen(
                [GUNICORN, "caseowner.wsgi:application", "-b", f"127.0.0.1:{self.port}",
                 "-w", "2", "--timeout", "60", "--preload"],
                cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(self._live, timeout=60, interval=0.1)

    def _live(self) -> bool:
        try:
            return requests.get(f"{self.url}/health/live", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def workers(self) -> list[int]:
        assert self.popen is not None
        pid = self.popen.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(c) for c in children]

    def kill_workers(self) -> int:
        """SIGKILL every worker; the master starts new ones."""
        pids = self.workers()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)


def _other_backends(in_transaction: bool) -> int:
    """Backends of this database other than the test's own: the web server's."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    if in_transaction:
        sql += " AND xact_start IS NOT NULL AND state <> 'idle'"
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute(sql)
        return int(cur.fetchone()[0])


class Writers:
    """Client threads writing through the API with the two agents' tokens; they remember
    what the server acknowledged and count server errors and cut connections."""

    def __init__(self, server: WebServer, tokens: dict[int, str], team_id: int) -> None:
        self.server, self.tokens, self.team_id = server, tokens, team_id
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.refs: list[str] = []
        self.promises: list[int] = []
        self.offers: list[tuple[int, int]] = []  # (hand-off id, receiver id)
        self.acknowledged: list[tuple[str, object]] = []
        self.statuses: Counter[str] = Counter()
        self.intakes = 0

    def post(self, path: str, token: str, body: dict | None = None) -> requests.Response | None:
        try:
            response = requests.post(
                f"{self.server.url}/api/v1/{path}",
                json=body or {},
                headers={"Authorization": f"Token {token}"},
                timeout=30,
            )
        except requests.RequestException:
            with self.lock:
                self.statuses["interrupted"] += 1
            # the server is being restarted: try again once it answers (or the run ends)
            wait_for(lambda: self.stop.is_set() or self.server._live(), timeout=60)
            return None
        with self.lock:
            self.statuses[str(response.status_code)] += 1
        return response

    def answered(self) -> int:
        """Requests the server has answered so far (cut ones not counted)."""
        with self.lock:
            return sum(n for code, n in self.statuses.items() if code != "interrupted")

    def wait_for_answers(self, more: int) -> None:
        """Until the server has answered ``more`` requests beyond those answered by now."""
        target = self.answered() + more
        wait_for(lambda: self.answered() >= target, timeout=30)

    def open_promises(self, ref: str, token: str) -> list[int]:
        try:
            response = requests.get(
                f"{self.server.url}/api/v1/cases/{ref}/commitments/",
                headers={"Authorization": f"Token {token}"},
                timeout=30,
            )
        except requests.RequestException:
            return []
        if response.status_code != 200:
            return []
        return [c["id"] for c in response.json()["results"] if c["status"] == "open"]

    def one(self, rng: random.Random) -> None:
        agent = rng.choice(list(self.tokens))
        token = self.tokens[agent]
        other = next(a for a in self.tokens if a != agent)
        with self.lock:
            ref = rng.choice(self.refs)
            promise = rng.choice(self.promises) if self.promises else None
            offer = rng.choice(self.offers) if self.offers else None
        step = rng.choice(["promise", "keep", "renegotiate", "offer", "accept", "intake"])
        if step == "promise":
            r = self.post(f"cases/{ref}/commitments/", token, {
                "description": "Call you back about the parcel", "kind": "callback",
                "within": "2 business days",
            })  # fmt: skip
            if r is not None and r.status_code == 201:
                with self.lock:
                    self.promises.append(r.json()["id"])
                    self.acknowledged.append(("promise", r.json()["id"]))
        elif step == "keep" and promise:
            r = self.post(f"commitments/{promise}/keep/", token)
            if r is not None and r.status_code == 200:
                with self.lock:
                    self.acknowledged.append(("kept", promise))
        elif step == "renegotiate" and promise:
            due = (timezone.now() + timedelta(days=rng.randint(3, 9))).isoformat()
            r = self.post(f"commitments/{promise}/renegotiate/", token, {
                "due_at": due, "reason": "The depot lost the parcel.",
            })  # fmt: skip
            if r is not None and r.status_code in (200, 201):
                with self.lock:
                    self.acknowledged.append(("renegotiated", promise))
                    successor = r.json().get("successor") or r.json().get("id")
                    if isinstance(successor, int) and successor != promise:
                        self.promises.append(successor)
        elif step == "offer":
            briefed = self.open_promises(ref, token)
            body = {
                "to_agent": other, "reason": "shift_end", "briefed_commitments": briefed,
                **good_summary().__dict__,
            }  # fmt: skip
            r = self.post(f"cases/{ref}/handoffs/", token, body)
            if r is not None and r.status_code == 201:
                with self.lock:
                    self.offers.append((r.json()["id"], other))
                    self.acknowledged.append(("offered", r.json()["id"]))
        elif step == "accept" and offer:
            handoff_id, receiver = offer
            r = self.post(f"handoffs/{handoff_id}/accept/", self.tokens[receiver])
            if r is not None and r.status_code == 200:
                with self.lock:
                    self.acknowledged.append(("accepted", handoff_id))
        elif step == "intake":
            with self.lock:
                self.intakes += 1
                n = self.intakes
            r = self.post("cases/", token, {
                "new_customer": {"name": f"Walk-in {n}", "email": f"walkin{n}@example.org"},
                "channel": "email", "subject": f"Parcel {n} missing", "team": self.team_id,
                "owner": agent,
            })  # fmt: skip
            if r is not None and r.status_code == 201:
                with self.lock:
                    self.refs.append(r.json()["ref"])
                    self.acknowledged.append(("intake", r.json()["ref"]))

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            self.one(rng)


def _lost(acknowledged: list[tuple[str, object]]) -> list[str]:
    """Acknowledged writes the database does not have."""
    lost = []
    for kind, key in acknowledged:
        if kind == "intake":
            ok = Case.objects.filter(pk=parse_ref(str(key))).exists()
        elif kind == "promise":
            ok = Commitment.objects.filter(pk=key).exists()
        elif kind in ("kept", "renegotiated"):
            ok = Commitment.objects.filter(pk=key, status=kind).exists()
        elif kind == "offered":
            ok = Handoff.objects.filter(pk=key).exists()
        else:
            ok = Handoff.objects.filter(pk=key, status=HandoffStatus.ACCEPTED).exists()
        if not ok:
            lost.append(f"{kind} {key}")
    return lost


def test_the_web_process_killed_mid_request_leaves_nothing_half_applied(
    postgres, redis_url, tmp_path, figures
):
    team = TeamFactory()
    make_manager(team)
    first, second = make_agent(team), make_agent(team)
    refs = []
    for n in range(CASES):
        case = case_open(
            customer=CustomerFactory(), team=team, channel="email", subject=f"Parcel {n}",
            by=first, owner=first,
        )  # fmt: skip
        commitment_create(
            case=case, by=first, description="Call you back", kind="callback",
            due=timezone.now() + timedelta(days=2),
        )  # fmt: skip
        refs.append(case.ref)
    tokens = {u.pk: Token.objects.create(user=u).key for u in (first, second)}
    purge_queue(redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        # Notices are queued (rows and a broker message); no worker takes them here.
        "CELERY_BROKER_URL": redis_url,
        "OUTBOX_IN_PROCESS": "false",
        "AXES_ENABLED": "false",
        "CUSTOMER_NOTICES_PER_CASE_PER_DAY": "100000",
        "CUSTOMER_NOTICES_PER_AGENT_PER_DAY": "100000",
        "LOG_LEVEL": "WARNING",
    }
    server = WebServer(env, tmp_path / "gunicorn.log")
    writers = Writers(server, tokens, team.pk)
    writers.refs.extend(refs)
    writers.promises.extend(Commitment.objects.filter(case__team=team).values_list("pk", flat=True))
    threads = [threading.Thread(target=writers.run, args=(i,), daemon=True) for i in range(CLIENTS)]
    started = time.monotonic()
    caught_in_transaction = workers_killed = 0
    pauses = random.Random(KILLS)  # the same pauses between kills on every run
    try:
        server.start()
        for t in threads:
            t.start()
        for n in range(1, KILLS + 1):
            # writes under way again (the new workers answer), then a pause that varies
            # where in the stream of requests the kill lands: the same pauses on every run
            writers.wait_for_answers(1)
            time.sleep(pauses.uniform(0.0, 0.3))
            try:
                wait_for(lambda: _other_backends(in_transaction=True), timeout=5, interval=0.001)
                caught_in_transaction += 1
            except TimeoutError:
                pass  # killed anyway, mid-request or between requests
            if n % WHOLE_GROUP_EVERY == 0:
                server.kill()
                wait_for(lambda: _other_backends(in_transaction=False) == 0, timeout=30)
                server.start()
            else:
                workers_killed += server.kill_workers()
                wait_for(server._live, timeout=60, interval=0.05)
        # every client is served again after the last kill before the writers stop
        writers.wait_for_answers(CLIENTS)
    finally:
        writers.stop.set()
        for t in threads:
            t.join(timeout=60)
        server.kill()
        print(server.log.read_text()[-3000:] if server.log.exists() else "")
    wait_for(lambda: _other_backends(in_transaction=False) == 0, timeout=30)

    case_ids = list(Case.objects.filter(team=team).values_list("pk", flat=True))
    half_applied = violations(case_ids)
    lost = _lost(writers.acknowledged)
    statuses = writers.statuses
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    figures.record(
        "crash: web process killed mid-request",
        kills=KILLS,
        whole_server_kills=KILLS // WHOLE_GROUP_EVERY,
        workers_killed=workers_killed,
        killed_in_transaction=caught_in_transaction,
        requests=sum(statuses.values()),
        interrupted_requests=statuses["interrupted"],
        acknowledged_writes=len(writers.acknowledged),
        cases_checked=len(case_ids),
        promises_ended=Commitment.objects.filter(case__team=team)
        .exclude(status=CommitmentStatus.OPEN)
        .count(),
        accepted_handoffs=Handoff.objects.filter(
            case__team=team, status=HandoffStatus.ACCEPTED
        ).count(),
        half_applied=len(half_applied),
        violations=len(half_applied),
        lost=len(lost),
        server_errors=server_errors,
        seconds=round(time.monotonic() - started, 1),
    )
    assert half_applied == []
    assert lost == []
    assert server_errors == 0, statuses
    assert caught_in_transaction > 0, "no kill caught a request inside its transaction"
    assert len(writers.acknowledged) > KILLS
