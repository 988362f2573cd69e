"""The live parts of My queue and the case page: fragments a page polls (htmx, every
``LIVE_POLL_MS``) with the ``ETag`` it was rendered with. An unchanged part answers
``304 Not Modified`` after one query (``cases.live``); a changed one is rendered again, with
the tab title counting what arrived since the page was loaded. Without JavaScript nothing
polls and the pages are the same, a reload away.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from cases import live, selectors
from cases.forms import DeclineForm
from cases.handoffs import selectors as handoff_selectors
from cases.models import parse_ref
from cases.pages import act_first_context, agent_time_zone, case_or_404, render_in
from cases.task_services import owner_tasks_open


def _since(request: HttpRequest, now: datetime) -> datetime:
    """The instant the page was loaded (``since``, seconds since the epoch), else now."""
    text = request.GET.get("since", "")
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return datetime.fromtimestamp(int(text), tz=UTC)
    return now


def _extra(request: HttpRequest, since: datetime) -> str:
    return f"{request.GET.get('page', '')}|{int(since.timestamp())}|{get_language()}"


def _not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    tags = parse_etags(request.headers.get("If-None-Match", ""))
    if quote_etag(etag) in tags or "*" in tags:
        response = HttpResponseNotModified()
        response["ETag"] = quote_etag(etag)
        return response
    return None


def _fresh(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = quote_etag(etag)
    patch_cache_control(response, private=True, no_cache=True)
    return response


def queue_context(request: HttpRequest, *, now: datetime, fragment: bool) -> dict[str, Any]:
    """What My queue shows (the page and its live fragment alike)."""
    user = request.user
    since = _since(request, now) if fragment else now
    page_obj, rows = selectors.queue_page(user=user, page=request.GET.get("page"))
    offers = list(handoff_selectors.handoff_offers_waiting_for(user=user))
    tasks = list(owner_tasks_open(user=user))
    page = request.GET.get("page", "")
    return {
        "page_obj": page_obj,
        "rows": rows,
        "offers": offers,
        "tasks": tasks,
        "covering": selectors.queue_covering(
            user=user, hint=getattr(rows[0].case, "covering_now", None) if rows else None
        ),
        "decline_form": DeclineForm(),
        "fragment": fragment,
        "new_count": live.new_since(offers=offers, tasks=tasks, rows=rows, since=since, now=now),
        "live_etag": quote_etag(live.queue_stamp(user=user, now=now, extra=_extra(request, since))),
        "live_url": f"{reverse('queue-live')}?since={int(since.timestamp())}"
        + (f"&page={page}" if page.isdigit() else ""),
        "live_poll_ms": settings.LIVE_POLL_MS,
    }


@login_required
@require_safe
def queue_live(request: HttpRequest) -> HttpResponse:
    """My queue's live part: 304 when nothing it shows changed since ``If-None-Match``."""
    now = timezone.now()
    since = _since(request, now)
    etag = live.queue_stamp(user=request.user, now=now, extra=_extra(request, since))
    unchanged = _not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    context = queue_context(request, now=now, fragment=True)
    response = render_in(
        request, "cases/_queue_live.html", context, tz_name=agent_time_zone(request.user)
    )
    return _fresh(response, etag)


@login_required
@require_safe
def case_live(request: HttpRequest, ref: str) -> HttpResponse:
    """The case page's act-first block: 304 when unchanged, 404 for a case the reader may not
    see (the stamp's query is the permission check)."""
    pk = parse_ref(ref)
    now = timezone.now()
    etag = (
        live.case_stamp(user=request.user, case_id=pk, now=now, extra=get_language() or "")
        if pk is not None
        else None
    )
    if etag is None:
        raise Http404(f"No case {ref}.")
    unchanged = _not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    case = case_or_404(request.user, ref)
    with timezone.override(zoneinfo.ZoneInfo(case.team.time_zone)):
        context = act_first_context(request, case, now=now)
    response = render_in(request, "cases/_act_first.html", context, tz_name=case.team.time_zone)
    return _fresh(response, etag)
