"""Load over HTTP: gunicorn with 2 workers on a free loopback port, wrk for a fixed time.

Only 127.0.0.1 is ever contacted, and every run is bounded (``--http-seconds`` per endpoint).
Without ``wrk`` (Debian: ``apt-get install wrk``) a small threaded Python client does the same
job, less efficiently.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import Result, percentile

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 4
# gunicorn's sync workers: one per core, as many as the load's connections at most
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))

LUA = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [
        str(gunicorn) if gunicorn.exists() else "gunicorn",
        "caseowner.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "30",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_ready(port: int, path: str, headers: dict[str, str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | str = "no answer"
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=headers)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {path} within {timeout:.0f}s: {last}")


def run_wrk(port: int, paths: list[str], headers: dict[str, str], seconds: int) -> dict:
    lua = LUA % {"paths": ", ".join(json.dumps(p) for p in paths)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", script]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        cmd.append(f"http://127.0.0.1:{port}{paths[0]}")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    finally:
        os.unlink(script)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            return {
                "requests": data["requests"],
                "seconds": data["duration_us"] / 1e6,
                "p50_ms": data["p50"] / 1000,
                "p95_ms": data["p95"] / 1000,
                "p99_ms": data["p99"] / 1000,
                "errors": sum(data[k] for k in ("connect", "read", "write", "status", "timeout")),
                "tool": "wrk",
            }
    raise RuntimeError(f"wrk gave no figures: {out.stdout[-300:]} {out.stderr[-300:]}")


def run_python_client(port: int, paths: list[str], headers: dict[str, str], seconds: int) -> dict:
    """The fallback load generator: CONNECTIONS threads with keep-alive connections."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    times: list[float] = []
    errors = [0]

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        i = offset
        local: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += CONNECTIONS
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    bad += 1
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            local.append((time.perf_counter() - t0) * 1000)
        with lock:
            times.extend(local)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(times),
        "seconds": elapsed,
        "p50_ms": statistics.median(times) if times else None,
        "p95_ms": percentile(times, 95) if times else None,
        "p99_ms": percentile(times, 99) if times else None,
        "errors": errors[0],
        "tool": "python threads",
    }


# The HTTP target at scale 1 (the queue's, and measured for the case detail alike).
TARGET_RPS, TARGET_P99_MS = 300, 50


def verdict(r: Result) -> str:
    """Met or not, each figure beside its target."""
    checks = [
        (f"{r.throughput} req/s ≥ {TARGET_RPS}", (r.throughput or 0) >= TARGET_RPS),
        (f"p99 {r.p99_ms} ≤ {TARGET_P99_MS}", r.p99_ms is not None and r.p99_ms <= TARGET_P99_MS),
        (f"{r.errors} errors", not r.errors),
    ]
    figures = ", ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in checks)
    return f"target {'met' if all(ok for _, ok in checks) else 'NOT met'} ({figures})"


def run(
    bench_env: Any, *, env: dict[str, str], seconds: int = 30, pooled: bool = False
) -> list[Result]:
    """Load the queue and case-detail endpoints for ``seconds`` each (``pooled``: the app
    reaches PostgreSQL through PgBouncer, where nothing is prepared)."""
    from rest_framework.authtoken.models import Token

    from cases.models import format_ref

    token, _ = Token.objects.get_or_create(user=bench_env.hot)
    headers = {"Authorization": f"Token {token.key}", "Host": "127.0.0.1"}
    endpoints = [
        (
            "http_queue",
            f"HTTP queue (gunicorn ×{WORKERS})",
            ["/api/v1/queue/?page_size=50"],
            f"≥{TARGET_RPS} req/s, p99 ≤{TARGET_P99_MS}, 0 err",
        ),
        (
            "http_case_detail",
            f"HTTP case detail (gunicorn ×{WORKERS})",
            [f"/api/v1/cases/{format_ref(c)}/" for c in bench_env.case_ids[:200]],
            f"≥{TARGET_RPS} req/s, p99 ≤{TARGET_P99_MS}, 0 err",
        ),
    ]
    if pooled:
        endpoints = [
            (f"{key}_pgbouncer", f"{label}, PgBouncer", paths, target)
            for key, label, paths, target in endpoints
        ]
    port = free_port()
    print(f"  http: gunicorn ×{WORKERS} on 127.0.0.1:{port} …", flush=True)
    proc = start_gunicorn(port, env)
    results: list[Result] = []
    try:
        wait_ready(port, endpoints[0][2][0], headers)
        use_wrk = shutil.which("wrk") is not None
        for key, label, paths, target in endpoints:
            print(f"  http: {key} for {seconds}s …", flush=True)
            r = Result(key=key, label=label, target=target)
            try:
                for p in paths[:20]:  # warm both workers' caches and connections
                    wait_ready(port, p, headers, timeout=10)
                fig = (run_wrk if use_wrk else run_python_client)(port, paths, headers, seconds)
                r.n = fig["requests"]
                r.median_ms = round(fig["p50_ms"], 2) if fig["p50_ms"] is not None else None
                r.p95_ms = round(fig["p95_ms"], 2) if fig["p95_ms"] is not None else None
                r.p99_ms = round(fig["p99_ms"], 2) if fig["p99_ms"] is not None else None
                r.throughput = round(fig["requests"] / fig["seconds"], 1)
                r.errors = fig["errors"]
                r.status = "errors" if r.errors else "ok"
                r.note = f"{verdict(r)}; {fig['tool']}, {CONNECTIONS} connections, {seconds}s"
                r.extra = fig
            except Exception as exc:  # report and go on
                r.status, r.note = "error", f"{type(exc).__name__}: {exc}"[:300]
            results.append(r)
    finally:
        stop(proc)
    return results
