"""Production refuses to start wrong: what a deployment left at a development default (a
sample or weak key, DEBUG, SQLite, a broker or cache that is not shared, no real email, the
development sender or reply domain, a short inbound-mail secret), each with what to set.
``caseowner.settings`` calls it with its own values when ``CASEOWNER_PRODUCTION`` is on and
stops with every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import environ

# The development key settings.py falls back to outside production: never a real key.
DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"
# Words of the sample keys that documentation and templates ship with: never a real key.
_PLACEHOLDER_KEY_WORDS = (
    "insecure",
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replace_me",
    "your-secret",
    "your_secret",
    "secret-key-here",
    "placeholder",
    "example",
)


def _secret_key_problem(key: str) -> str | None:
    """Why ``key`` is no production secret (the rule of Django's check W009 and more), or None."""
    lowered = key.lower()
    if len(key) < 50 or len(set(key)) < 5:
        return "it needs at least 50 characters, at least 5 of them different"
    if key == DEV_SECRET or any(word in lowered for word in _PLACEHOLDER_KEY_WORDS):
        return "it is a known sample key"
    return None


def _test_domain(address_or_domain: str) -> bool:
    """A domain (or an address's) that cannot exist on the internet: RFC 2606's ``.test``
    (and ``.localhost``, ``.invalid``, ``.example``), or none at all."""
    domain = address_or_domain.rpartition("@")[2].strip().rstrip(".").lower()
    return not domain or domain.rpartition(".")[2] in ("test", "localhost", "invalid", "example")


def production_problems(settings: Mapping[str, Any], env: environ.Env) -> list[str]:
    """What a production deployment left at a development default, each with what to set:
    ``settings`` are the settings module's values, ``env`` reads the environment."""
    problems = []
    DEBUG, SECRET_KEY, ALLOWED_HOSTS = (
        settings[k] for k in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    )
    IS_POSTGRES, CELERY_BROKER_URL, CACHES = (
        settings[k] for k in ("IS_POSTGRES", "CELERY_BROKER_URL", "CACHES")
    )
    CACHE_URL, EMAIL_CONFIG, INBOUND_MAIL_SECRET = (
        settings[k] for k in ("CACHE_URL", "EMAIL_CONFIG", "INBOUND_MAIL_SECRET")
    )
    if DEBUG:
        problems.append(
            "DEBUG (false, or unset): with DEBUG on, errors show settings and data to anyone "
            "and the demo loader is installed."
        )
    if (key_problem := _secret_key_problem(SECRET_KEY)) is not None:
        problems.append(
            f"SECRET_KEY (a random string, e.g. from `openssl rand -base64 48`): {key_problem}."
        )
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append(
            "ALLOWED_HOSTS (your.public.host): the names this site answers to, never '*' "
            "(links in password resets and emails are built from the Host header)."
        )
    if not env.str("DATABASE_URL", default="") or not IS_POSTGRES:
        problems.append(
            "DATABASE_URL (postgres://user:password@host/name): production data lives in "
            "PostgreSQL, never in the embedded SQLite file."
        )
    if not CELERY_BROKER_URL:
        problems.append(
            "CELERY_BROKER_URL (redis://…): without a broker tasks run inside the web request "
            "and no sweep runs, so reminders and delay notices are never sent."
        )
    elif CELERY_BROKER_URL.split("://", 1)[0].lower() in ("memory", "filesystem"):
        problems.append(
            "CELERY_BROKER_URL (redis://…): a memory:// or filesystem:// broker is not shared "
            "between the web, beat and worker processes, so queued work never reaches a worker."
        )
    cache_backend = CACHES["default"]["BACKEND"].rsplit(".", 2)[-2]
    if not CACHE_URL or cache_backend in ("locmem", "dummy", "filebased"):
        problems.append(
            "CACHE_URL (redis://…): throttles and login lockouts must count across processes "
            "(a locmemcache://, dummycache:// or filecache:// cache counts in one process or "
            "on one machine, or not at all)."
        )
    if not env.str("EMAIL_URL", default="") or EMAIL_CONFIG["EMAIL_BACKEND"].rsplit(".", 2)[-2] in (
        "console",
        "locmem",
        "dummy",
        "filebased",
    ):
        problems.append("EMAIL_URL (smtp+tls://user:password@relay:587): customers get email.")
    site = env.str("SITE_URL", default="")
    if not site.startswith("https://") or any(
        local in site for local in ("://127.", "://localhost", "://[::1]")
    ):
        problems.append("SITE_URL (https://your.public.host): it goes into customer links.")
    if _test_domain(parseaddr(settings["DEFAULT_FROM_EMAIL"])[1]):
        problems.append(
            "DEFAULT_FROM_EMAIL (Support <support@your.domain>): every email is sent from it; "
            "an address at a .test domain is the development sender, which no mail server "
            "accepts and no customer can write to."
        )
    if _test_domain(settings["INBOUND_DOMAIN"]):
        problems.append(
            "INBOUND_DOMAIN (reply.your.domain, its MX routed to receive_mail): every customer "
            "email's Reply-To is reply+…@INBOUND_DOMAIN; at a .test domain the customers' "
            "answers go nowhere."
        )
    if INBOUND_MAIL_SECRET and len(INBOUND_MAIL_SECRET) < 32:
        problems.append(
            "INBOUND_MAIL_SECRET (at least 32 random characters, or unset to turn the HTTP "
            "inbound mail endpoint off): a short shared secret can be guessed."
        )
    htmx = "vendor/htmx/htmx.min.js"
    if not (
        Path(settings["HTMX_DIST"]).is_dir() or (Path(settings["STATIC_ROOT"]) / htmx).exists()
    ):
        problems.append(
            "npm ci --prefix frontend (then collectstatic): the pages load htmx from "
            f"/static/{htmx}, which is neither installed nor collected."
        )
    return problems
