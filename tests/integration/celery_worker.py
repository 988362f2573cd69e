"""Real Celery worker and beat processes for integration tests.

They run ``.venv/bin/celery -A caseowner …`` with the test process's environment plus
``DATABASE_URL`` pointing at the *test* database, so they see the rows a
``transaction=True`` test commits. Each process gets its own session (process group), so a
SIGKILL takes its pool children with it, like a machine or container dying.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
LOGLEVEL = os.environ.get("OUTBOX_TEST_CELERY_LOGLEVEL", "WARNING")
CELERY = str(Path(sys.executable).with_name("celery"))


def current_database_url() -> str:
    """The URL of the database this test process uses (Django's test database)."""
    from django.db import connection

    sd = connection.settings_dict
    auth = quote(sd["USER"] or "")
    if sd.get("PASSWORD"):
        auth += ":" + quote(sd["PASSWORD"])
    host = f"{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{quote(sd['NAME'])}"


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> object:
    """Poll until ``predicate()`` is truthy; return it, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Proc:
    """One celery process (worker or beat) with its log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.env, self.log = args, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        handle = open(self.log, "ab")  # closed with the process
        self.popen = subprocess.Popen(
            [CELERY, "-A", "caseowner", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no acks, nothing flushed."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if not self.alive:
            return
        assert self.popen is not None
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def restart(self) -> Proc:
        self.kill()
        return self.start()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def worker_args(concurrency: int = 2, pool: str = "prefork", name: str = "w1") -> list[str]:
    return [
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--loglevel=" + LOGLEVEL,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def beat_args(schedule_file: Path) -> list[str]:
    return ["beat", f"--schedule={schedule_file}", "--loglevel=" + LOGLEVEL, "--pidfile="]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class RedisServer:
    """A private redis-server (no persistence): restarting it loses every queued message."""

    def __init__(self, port: int):
        self.port = port
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.popen = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: _port_open(self.port), timeout=10)
        return self

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=10)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()
