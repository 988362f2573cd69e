"""Fixtures for integration tests with real processes: an SMTP server on loopback, Celery
workers and beats on Redis against the test database, and a private Redis server.

Reuse them from any integration test::

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_it_emails_the_customer(outbox_processes, smtp_sink):
        outbox_processes.start()              # one beat (the sweep) + one worker
        ...commit something that queues a notification...
        wait_for(lambda: smtp_sink.count() == 1, timeout=15)

``outbox_processes.env`` is the environment the processes get (fast sweep, short lease).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.integration.celery_worker import (
    Proc,
    RedisServer,
    beat_args,
    current_database_url,
    worker_args,
)
from tests.integration.smtp_sink import SmtpSink, free_port

# Fast enough for tests, the same code paths as production.
FAST_OUTBOX = {
    "OUTBOX_SWEEP_INTERVAL": "0.5",
    "OUTBOX_LEASE_SECONDS": "4",
    "OUTBOX_RETRY_BASE_SECONDS": "0.2",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_ARCHIVE_AFTER_SECONDS": "3600",
    "OUTBOX_BATCH_SIZE": "200",
    # Small, so a loaded test machine still starts every claim well within its lease.
    "OUTBOX_MAX_IN_FLIGHT": "30",
    "EMAIL_TIMEOUT": "5",
}


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


class OutboxProcesses:
    """Starts celery workers and beats; stops (or kills) them all at teardown."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env = env
        self.logs = logs
        self.procs: list[Proc] = []

    def worker(self, concurrency: int = 2, pool: str = "prefork", name: str = "") -> Proc:
        name = name or f"w{len(self.procs) + 1}"
        proc = Proc(
            worker_args(concurrency=concurrency, pool=pool, name=name),
            self.env,
            self.logs / f"{name}.log",
        )
        self.procs.append(proc)
        return proc.start()

    def beat(self, name: str = "") -> Proc:
        name = name or f"beat{len(self.procs) + 1}"
        proc = Proc(beat_args(self.logs / f"{name}.schedule"), self.env, self.logs / f"{name}.log")
        self.procs.append(proc)
        return proc.start()

    def start(self, concurrency: int = 2) -> OutboxProcesses:
        """The usual deployment in miniature: one beat running the sweep, one worker."""
        self.beat()
        self.worker(concurrency=concurrency)
        return self

    def stop(self) -> None:
        # Tests are over: no need for a warm shutdown.
        for proc in self.procs:
            proc.kill()

    def tails(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.tail()}" for p in self.procs)


def purge_queue(broker_url: str) -> None:
    """Drop task messages a previous run left in the default queue."""
    import redis

    client = redis.Redis.from_url(broker_url)
    client.delete("celery", "unacked", "unacked_index")
    client.close()


@pytest.fixture
def outbox_processes(transactional_db, redis_url, smtp_sink, tmp_path, settings):
    """Real celery processes wired to the test database, the broker and the SMTP sink."""
    settings.OUTBOX_LEASE_SECONDS = float(FAST_OUTBOX["OUTBOX_LEASE_SECONDS"])
    env = {
        **os.environ,
        **FAST_OUTBOX,
        "DATABASE_URL": current_database_url(),
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_URL": smtp_sink.url,
        "OUTBOX_IN_PROCESS": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    purge_queue(redis_url)
    processes = OutboxProcesses(env, tmp_path)
    yield processes
    processes.stop()
    print(processes.tails())  # shown by pytest when the test failed


@pytest.fixture
def private_redis():
    """A redis-server of this test's own, on a free port, so restarting it disturbs nobody."""
    if not shutil.which("redis-server"):
        reason = "needs the redis-server program to start a private Redis"
        if IN_CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    server = RedisServer(free_port()).start()
    yield server
    server.stop()


class WebhookReceiver:
    """An HTTP server on loopback that records POSTs; ``fail_first`` answers 503 first."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[dict] = []
        self.fail_first = 0
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= failing
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "answered": 503 if failing else 204,
                        }
                    )
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/in"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["answered"] == 204]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
