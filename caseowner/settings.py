"""Settings for caseowner, read from the environment.

Defaults need nothing installed (SQLite, console email, in-process scheduler). Production is
switched on with ``CASEOWNER_PRODUCTION=true``; it then refuses to start on any development
default (``caseowner.production``), naming every setting to fix at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from caseowner.database_settings import database_settings
from caseowner.ops.logs import configure_structlog, logging_config
from caseowner.production import DEV_SECRET, production_problems

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

PRODUCTION = env.bool("CASEOWNER_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)


SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else DEV_SECRET)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the site, used in links inside emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# The demo loader is a development tool, installed only with DEBUG on (off in production).
DEVELOPMENT_APPS = ["demo"] if DEBUG else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_prometheus",
    "django_structlog",
    "notifications",
    "cases",
    "commitments",
    "caseowner.ops",
    "reports",
    *DEVELOPMENT_APPS,
    # The project last: its ready() starts the in-process scheduler once every app is ready.
    "caseowner.apps.CaseownerConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Outside the rest, so whatever answers an /api/ path with an error answers JSON.
    "caseowner.api.api_errors_as_json",
    "django.middleware.security.SecurityMiddleware",
    # caseowner.lean.*: Django's own, skipped for an /api/ call without a session cookie
    # (token auth needs no session, CSRF, messages or static files; see caseowner/lean.py).
    "caseowner.lean.StaticFiles",
    "caseowner.lean.Sessions",
    "django.middleware.common.CommonMiddleware",
    "caseowner.lean.Csrf",
    "caseowner.lean.Authentication",
    # Staff pages in the agent's language (their profile's, else the browser's).
    "caseowner.language.staff_language",
    "caseowner.lean.Messages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # After authentication, so the user is known; binds request_id for every log line.
    "django_structlog.middlewares.RequestMiddleware",
    "caseowner.ops.middleware.request_id_header",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "caseowner.urls"
WSGI_APPLICATION = "caseowner.wsgi.application"
ASGI_APPLICATION = "caseowner.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database (caseowner/database_settings.py: PostgreSQL or SQLite, pool, pooler, replica) ----
_database = database_settings(env, VAR_DIR)
DATABASES = _database.databases
IS_POSTGRES = _database.is_postgres
DATABASE_POOLER = _database.pooler
DATABASE_PREPARED_STATEMENTS = _database.prepared_statements
# Covering indexes (INCLUDE) are PostgreSQL's; SQLite builds them without the extra columns,
# which is all the embedded default needs, so its warning is not printed on every command.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]
# Django's CSRF check looks for its middleware by name; caseowner.lean.Csrf is a subclass,
# and caseowner.lean's own check (caseowner.W003) asks whether one is installed.
SILENCED_SYSTEM_CHECKS.append("security.W003")
DATABASE_ROUTERS = ["caseowner.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (throttle counters live here; Redis in production) -------------------------------
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache_url("CACHE_URL")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # one redis-py client per pool, not one per call (caseowner/redis_cache.py)
        CACHES["default"]["BACKEND"] = "caseowner.redis_cache.RedisCache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With a shared cache (Redis), a signed-in page reads its session from the cache and only
# falls back to the database (which still holds every session) on a miss: one query less
# on every staff page. Without one, each process's memory would go stale on log-out.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)

# --- auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "caseowner.auth.ProfileModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/start/"  # managers land on their dashboard, agents on their queue
LOGOUT_REDIRECT_URL = "/accounts/login/"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# The client address comes from a proxy header only when a trusted proxy is configured.
# Behind a proxy, the client is the address the last NUM_PROXIES trusted proxies saw (the
# same rule for login lockouts and API throttles); directly exposed, REMOTE_ADDR only.
BEHIND_PROXY = env.bool("BEHIND_PROXY", False)
NUM_PROXIES = env.int("NUM_PROXIES", default=1) if BEHIND_PROXY else 0
AXES_IPWARE_PROXY_COUNT = NUM_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_PROXY else ["REMOTE_ADDR"]
)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# The languages customer notices are written in (``Customer.language``), and the staff pages'
# (``AgentProfile.language``, else the browser's); others read English.
LANGUAGES = [("en-gb", "English"), ("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from here
# htmx from npm (frontend/, ``make install``), served by WhiteNoise as /static/vendor/htmx/.
# Without it (npm absent) the pages work as before, without their live parts.
HTMX_DIST = BASE_DIR / "frontend" / "node_modules" / "htmx.org" / "dist"
STATICFILES_DIRS: list[Any] = [BASE_DIR / "static"]
if HTMX_DIST.is_dir():
    STATICFILES_DIRS.append(("vendor/htmx", HTMX_DIST))
# How often an open queue or case page asks whether its live part changed (cases.live_views).
LIVE_POLL_MS = env.int("LIVE_POLL_MS", default=15_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Development without EMAIL_URL: emails are kept in the database and read on /dev/mail/ (the
# demo app's mailbox) rather than printed; EMAIL_URL=consolemail:// prints them.
if DEVELOPMENT_APPS and not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "demo.mailbox.MailboxBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="caseowner <support@caseowner.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain used on the right of Message-IDs, so a resend carries the same id.
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="caseowner.local")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Replies from a case go out from "<owner> via <ORGANISATION_NAME>".
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="caseowner")

# --- inbound email --------------------------------------------------------------------------
# Replies come back to reply+<signed token>@INBOUND_DOMAIN (the centre's mail server forwards
# that domain to ``manage.py receive_mail`` or posts it to /api/v1/inbound/email/).
INBOUND_DOMAIN = env.str("INBOUND_DOMAIN", default="reply.caseowner.test").lower()
# The shared secret of the HTTP endpoint (``Authorization: Bearer …``); empty: endpoint off.
INBOUND_MAIL_SECRET = env.str("INBOUND_MAIL_SECRET", default="")
# Larger messages are refused (SMTP 552, HTTP 413) and never stored.
INBOUND_MAIL_MAX_BYTES = env.int("INBOUND_MAIL_MAX_BYTES", default=10 * 1024 * 1024)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "caseowner.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "caseowner.api.Pagination",
    "DEFAULT_RENDERER_CLASSES": [
        "caseowner.api.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON only: the payloads nest, and the schema offers generated clients exactly what is
    # parsed (the raw MIME inbound endpoint names its own parsers).
    "DEFAULT_PARSER_CLASSES": ["caseowner.api.JSONParser"],
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "caseowner.api.exception_handler",
    # DRF's limits, counted in two windows instead of a list of every request's time
    "DEFAULT_THROTTLE_CLASSES": [
        "caseowner.throttles.UserRateThrottle",
        "caseowner.throttles.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "customer_link": env.str("THROTTLE_CUSTOMER_LINK", default="60/min"),
        # Wrong API tokens per client address: guessing tokens is throttled too.
        "failed_token": env.str("THROTTLE_FAILED_TOKEN", default="20/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# An API token's check is kept in each process this long: revoking a token or deactivating
# its user takes effect within it (at once in the process that did it). 0 turns it off.
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=5.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "caseowner API",
    "DESCRIPTION": (
        "Cases with one accountable owner, hand-offs with context, and tracked promises.\n\n"
        'Errors are JSON: `{"code": "…", "message": "…", "fields": {…}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "caseowner.api.document_every_answer",
        "caseowner.idempotency.document_idempotency",
        "caseowner.schema_links.add_links",
        "cases.webhook_api.document_webhook_events",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "cases.models.Channel",
        "CommitmentStatusEnum": "commitments.models.CommitmentStatus",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "HandoffStatusEnum": "cases.models.HandoffStatus",
    },
}
# A duplicate of a request still in flight (same Idempotency-Key) waits this long for the
# first one, then answers 409 idempotency_key_in_progress.
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)

# --- customers across teams -----------------------------------------------------------------
# "organisation": every agent sees every customer and their history (the 360-degree view);
# "team": agents see the customers of their teams' cases and only those teams' cases.
CUSTOMER_VISIBILITY = env.str("CUSTOMER_VISIBILITY", default="organisation")
if CUSTOMER_VISIBILITY not in ("organisation", "team"):
    raise ImproperlyConfigured('CUSTOMER_VISIBILITY must be "organisation" or "team".')
# Phone numbers typed without a country code are read in the team's region, else this one.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="GB")
# Undoing a merge of two customer records is possible for this many days.
CUSTOMER_UNMERGE_DAYS = env.int("CUSTOMER_UNMERGE_DAYS", default=30)

# --- customer links -------------------------------------------------------------------------
CUSTOMER_LINK_MAX_AGE = env.int("CUSTOMER_LINK_MAX_AGE", default=60 * 60 * 24 * 90)

# --- customer notices an agent's actions may send, over any 24 hours ------------------------
# Past either limit the action answers 429 ``notice_limit_reached`` and writes nothing. The
# product's own notices (the apology for a missed promise, the first-reply promise) never
# count and are never held back.
CUSTOMER_NOTICES_PER_CASE_PER_DAY = env.int("CUSTOMER_NOTICES_PER_CASE_PER_DAY", default=10)
CUSTOMER_NOTICES_PER_AGENT_PER_DAY = env.int("CUSTOMER_NOTICES_PER_AGENT_PER_DAY", default=200)

# --- Celery and the scheduler ---------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# How often the outbox sweep runs (seconds), in Celery beat or in-process.
OUTBOX_SWEEP_INTERVAL = env.float("OUTBOX_SWEEP_INTERVAL", default=2.0)
# Run the periodic jobs in a background thread of the web process (the embedded default).
OUTBOX_IN_PROCESS = env.bool("OUTBOX_IN_PROCESS", default=False)
# Rows claimed per sweep transaction; a sweep claims batches until none is due.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=500)
# Claims per delivery task: sent one after another over one kept-open SMTP connection.
OUTBOX_DELIVERY_BATCH = env.int("OUTBOX_DELIVERY_BATCH", default=50)
# How long a claim holds before the row may be claimed again (worker died). It must cover
# the wait in the broker queue plus one send (EMAIL_TIMEOUT); a delivery task renews the
# leases of its batch when it starts and again whenever half a lease has passed.
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", default=300.0)
# At most this many rows are claimed and not yet finished: the sweep stops claiming when the
# workers are behind, so no claim waits in the broker longer than its lease.
OUTBOX_MAX_IN_FLIGHT = env.int("OUTBOX_MAX_IN_FLIGHT", default=2000)
# Transient failures retry with exponential backoff and jitter, then fail for good.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=30.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)
# Sent and cancelled rows stay this long in the outbox, then move to the delivery log.
OUTBOX_ARCHIVE_AFTER_SECONDS = env.float("OUTBOX_ARCHIVE_AFTER_SECONDS", default=600.0)
# Token for the JSON health endpoint (monitoring without a user account); empty: staff only.
OUTBOX_HEALTH_TOKEN = env.str("OUTBOX_HEALTH_TOKEN", default="")
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Webhooks are never posted to loopback, private, link-local or reserved addresses, except
# to the networks listed here (CIDRs), e.g. an integration host on the centre's own network.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# The periodic jobs: Celery task names, each a sweep over due rows that is safe to run
# concurrently and repeatedly. Celery beat runs them in production; the in-process
# scheduler calls the same tasks directly when there is no broker.
PERIODIC_TASKS: dict[str, float] = {
    "notifications.sweep_outbox": OUTBOX_SWEEP_INTERVAL,
    "commitments.sweep_due": OUTBOX_SWEEP_INTERVAL,
    "cases.sweep_handoff_offers": 30.0,
    "cases.sweep_absences": 300.0,
    # housekeeping: the notice-limit ledger's rows past the 24-hour window
    "cases.prune_notice_ledger": 3600.0,
    # housekeeping: Idempotency-Key answers past their 24 hours
    "caseowner.prune_idempotency_keys": 3600.0,
}

# --- security headers -----------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if BEHIND_PROXY:
    # Only a trusted proxy may say the original request was https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and Prometheus probe these over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- logs, metrics, health ------------------------------------------------------------------
# "json": one JSON line per event (production default); "plain": text for people (make demo).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
configure_structlog()
LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# The client address is bound by caseowner.ops.client_address (the trusted-proxy rule).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# /metrics answers a request with METRICS_TOKEN as its bearer token and/or from an address
# in METRICS_ALLOWED_IPS (addresses or networks; REMOTE_ADDR, so behind a proxy use the
# token): every check configured must pass, and with neither configured nobody is let in.
# The development default lets the local machine scrape without a token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list(
    "METRICS_ALLOWED_IPS",
    default=[] if (PRODUCTION or METRICS_TOKEN) else ["127.0.0.1/32", "::1/128"],
)
# Counters, sweep timings and last-seen times shared by web, workers and beat: Redis (the
# broker by default); empty keeps them in process memory (one process does everything).
OPS_STORE_URL = env.str(
    "OPS_STORE_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
OPS_STORE_RETRY_SECONDS = env.float("OPS_STORE_RETRY_SECONDS", default=10.0)
# How often the per-team promise and hand-off figures are recomputed for /metrics.
OPS_FIGURES_INTERVAL = env.float("OPS_FIGURES_INTERVAL", default=30.0)
PERIODIC_TASKS["ops.refresh_figures"] = OPS_FIGURES_INTERVAL
# /health/ready fails when the oldest due message is later than this (seconds).
READY_MAX_OUTBOX_LAG_SECONDS = env.float("READY_MAX_OUTBOX_LAG_SECONDS", default=300.0)
# manage.py check_workers fails when no worker or no beat was seen for this long (seconds).
WORKER_MAX_SILENCE_SECONDS = env.float("WORKER_MAX_SILENCE_SECONDS", default=60.0)
PROMETHEUS_EXPORT_MIGRATIONS = False


# --- production refuses to start wrong ------------------------------------------------------
if PRODUCTION and (_missing := production_problems(globals(), env)):
    raise ImproperlyConfigured(
        "Production settings are incomplete; set:\n- " + "\n- ".join(_missing)
    )
