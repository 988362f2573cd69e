"""``python -m bench``: generate (or reuse) data at a scale, measure, print one table.

    python -m bench --scale 0.1               # generate if needed, measure in-process
    python -m bench --scale 1                 # and 30 s of HTTP load on gunicorn (--no-http)
    python -m bench --compare 0.1,1           # the two scales side by side, with ratios

Runs against a dedicated database next to the one ``DATABASE_URL`` names
(``<name>_bench_<scale>``), never against ``DATABASE_URL`` itself.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench import db

DEFAULT_REDIS = "redis://127.0.0.1:6379/6"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=0.01, help="1 = 1,000,000 cases (default 0.01)")
    p.add_argument(
        "--skip-generate", action="store_true", help="measure whatever data is already there"
    )
    p.add_argument(
        "--regenerate", action="store_true", help="drop the benchmark database and start over"
    )
    p.add_argument(
        "--http",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also load-test gunicorn over HTTP (default: at scale 1 and above)",
    )
    p.add_argument("--http-seconds", type=int, default=30, help="load duration per endpoint")
    p.add_argument(
        "--pooler",
        metavar="HOST:PORT",
        default=os.environ.get("BENCH_POOLER") or None,
        help="with --http: the HTTP rows again with gunicorn reaching PostgreSQL through "
        "PgBouncer (transaction mode) there, e.g. 127.0.0.1:6432 (default $BENCH_POOLER)",
    )
    p.add_argument(
        "--compare",
        metavar="A,B",
        help="print scales side by side (uses each scale's last results; --rerun to measure)",
    )
    p.add_argument("--rerun", action="store_true", help="with --compare: measure every scale")
    p.add_argument(
        "--requests",
        type=int,
        default=None,
        help="timed requests per operation (default 200; below scale 0.01 the two write "
        "operations and the sweep default to 50 iterations, and delivery to 300 emails, to "
        "keep the smoke run short: the n column shows it)",
    )
    p.add_argument(
        "--latency-seconds",
        type=float,
        default=None,
        help="notices due at 100/s for this long (default 300; below scale 0.01: 10)",
    )
    p.add_argument("--warmup", type=int, default=20, help="untimed requests before timing")
    p.add_argument(
        "--explain", type=int, default=3, help="EXPLAIN ANALYZE the N slowest statements"
    )
    p.add_argument(
        "--show-plans", action="store_true", help="print the plans (always kept in the JSON)"
    )
    p.add_argument("--only", help="comma-separated operation keys (e.g. queue,case_detail)")
    p.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL")
        or os.environ.get("CELERY_BROKER_URL")
        or DEFAULT_REDIS,
        help=f"broker for the measured app and the delivery test (default {DEFAULT_REDIS})",
    )
    args = p.parse_args(argv)
    if args.http is None:
        args.http = args.scale >= 1
    return args


def _redis_up(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def configure_environment(target: db.Target, redis_url: str) -> dict[str, str]:
    """The settings the measured app runs with, set before Django reads them."""
    env = {
        "DJANGO_SETTINGS_MODULE": "caseowner.settings",
        "DATABASE_URL": target.url,
        "DEBUG": "false",
        "CASEOWNER_PRODUCTION": "false",
        # the benchmark measures the endpoints, not the rate limits in front of them
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "THROTTLE_CUSTOMER_LINK": "100000000/min",
        "AXES_ENABLED": "false",
        "EMAIL_URL": "dummymail://",
        "OUTBOX_IN_PROCESS": "false",
        "LOG_LEVEL": "WARNING",
    }
    if _redis_up(redis_url):
        env["CELERY_BROKER_URL"] = redis_url
        # as in production: throttles, login lockouts and sessions in Redis
        env["CACHE_URL"] = redis_url
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(env)
    return env


def through_pooler(env: dict[str, str], pooler: str) -> dict[str, str]:
    """The measured app's settings with its database reached through PgBouncer at
    ``pooler`` (host:port), in transaction mode (DATABASE_POOLER=pgbouncer)."""
    url = urlsplit(env["DATABASE_URL"])
    auth = url.netloc.rpartition("@")[0]
    netloc = f"{auth}@{pooler}" if auth else pooler
    return {
        **env,
        "DATABASE_URL": url._replace(netloc=netloc).geturl(),
        "DATABASE_POOLER": "pgbouncer",
    }


def run_scale(args: argparse.Namespace) -> int:
    target = db.bench_target(os.environ.get("DATABASE_URL"), args.scale)
    print(f"bench: scale {args.scale:g} on database {target.name}", flush=True)
    if args.regenerate:
        db.drop_database(target)
    db.ensure_database(target)
    db.apply_planner_settings(target)
    env = configure_environment(target, args.redis_url)

    import django

    django.setup()
    from django.core.management import call_command

    from bench import generate, ops, report

    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    server = db.server_settings()
    print("bench: server " + ", ".join(f"{k}={v}" for k, v in server.items()), flush=True)
    print(f"  migrate: {time.monotonic() - t0:.1f}s", flush=True)
    data = generate.ensure_data(args.scale, skip=args.skip_generate)

    started = datetime.now(UTC).isoformat(timespec="seconds")
    requests = args.requests or 200
    write_requests = args.requests or (200 if args.scale >= 0.01 else 50)
    warmup = max(1, min(args.warmup, requests // 5))
    env_obj = ops.build_env(n=requests, n_writes=write_requests, scale=args.scale, warmup=warmup)
    env_obj.latency_seconds = args.latency_seconds or (300.0 if args.scale >= 0.01 else 10.0)
    only = set(args.only.split(",")) if args.only else None
    results = ops.run_all(env_obj, redis_url=args.redis_url, only=only)
    _purge_broker(env)
    from bench import explain

    plans = explain.explain(explain.slowest_statements(results, k=args.explain))

    http_results = []
    if args.http:
        from bench import http

        # directly (the hot reads' statements prepared), and through PgBouncer when given
        http_results = http.run(env_obj, env=env, seconds=args.http_seconds)
        if args.pooler:
            http_results += http.run(
                env_obj,
                env=through_pooler(env, args.pooler),
                seconds=args.http_seconds,
                pooled=True,
            )

    rep = {
        "scale": args.scale,
        "database": target.name,
        "started_at": started,
        "requests": requests,
        "write_requests": write_requests,
        "warmup": warmup,
        "data": data,
        "results": [r.as_dict() for r in results],
        "http": [r.as_dict() for r in http_results],
        "slowest_statements": plans,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "server": server,
        "http_pooler": args.pooler if args.http else None,
    }
    print()
    print(report.render_table(rep))
    if plans and args.show_plans:
        print()
        print(explain.render(plans))
    path = report.write_json(rep)
    print(
        f"\nwritten: {path.relative_to(report.OUT_DIR.parent.parent)} (and var/bench/latest.json)"
    )
    return 0


def _purge_broker(env: dict[str, str]) -> None:
    """Tasks the measured writes queued are not delivered by anyone: drop them."""
    if "CELERY_BROKER_URL" not in env:
        return
    try:
        from caseowner.celery import app

        app.control.purge()
    except Exception as exc:  # leftover tasks are harmless; say so and go on
        print(f"  (could not purge the broker: {exc})", file=sys.stderr)


def run_compare(args: argparse.Namespace) -> int:
    from bench import report

    scales = [float(s) for s in args.compare.split(",") if s.strip()]
    if len(scales) < 2:
        print("bench: --compare needs two scales, e.g. --compare 0.1,1", file=sys.stderr)
        return 2
    reports = []
    for scale in scales:
        rep = None if args.rerun else report.load_latest(scale)
        if rep is None:
            cmd = [sys.executable, "-m", "bench", "--scale", f"{scale:g}"]
            cmd += ["--warmup", str(args.warmup)]
            if args.requests:
                cmd += ["--requests", str(args.requests)]
            if args.http:
                cmd += ["--http", "--http-seconds", str(args.http_seconds)]
            else:
                cmd.append("--no-http")
            if args.skip_generate:
                cmd.append("--skip-generate")
            if args.only:
                cmd += ["--only", args.only]
            code = subprocess.call(cmd)
            if code != 0:
                return code
            rep = report.load_latest(scale)
        if rep is None:
            print(f"bench: no results for scale {scale:g}", file=sys.stderr)
            return 1
        reports.append(rep)
    print()
    print(report.render_compare(reports))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare:
        return run_compare(args)
    return run_scale(args)
