"""``/metrics`` for Prometheus, ``/health/live`` and ``/health/ready`` for load balancers.

The health endpoints are open (they say only whether each check passes); ``/metrics`` is
guarded by ``METRICS_TOKEN`` and/or ``METRICS_ALLOWED_IPS`` (see the settings).
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from caseowner.ops.collectors import domain_collectors
from caseowner.ops.health import readiness

_domain = CollectorRegistry(auto_describe=False)
for _collector in domain_collectors():
    _domain.register(_collector)


def _address_allowed(address: str, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the scrape may proceed, else the answer refusing it."""
    token, allowed = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS
    if not token and not allowed:
        return HttpResponse(
            "metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_IPS\n", status=403
        )
    if allowed and not _address_allowed(request.META.get("REMOTE_ADDR", ""), allowed):
        return HttpResponse("address not allowed\n", status=403)
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            refused = HttpResponse("bearer token required\n", status=401)
            refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return refused
    return None


def _process_registry() -> CollectorRegistry:
    """django-prometheus's request and database series: this process's, or every web
    worker's when ``PROMETHEUS_MULTIPROC_DIR`` names a directory they share."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    body = generate_latest(_process_registry()) + generate_latest(_domain)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked (a restart is the only cure)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 naming the failing ones, so traffic goes elsewhere."""
    result = readiness()
    return JsonResponse(
        {
            "status": "ready" if result.ready else "not ready",
            "failing": result.failing,
            "checks": result.checks,
        },
        status=200 if result.ready else 503,
    )
