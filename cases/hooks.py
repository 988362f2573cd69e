"""The seam through which ``cases`` tells later apps about its events.

``cases`` never imports ``commitments``. Apps that must act inside the same transaction as a
case event append a handler here from their ``AppConfig.ready()``; services call them
explicitly (no Django signals), so a handler's failure rolls the whole change back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cases.models import Case, Handoff

# handler(case=..., by=user, now=datetime) — a case was just opened (first-response promise).
case_opened: list[Callable[..., Any]] = []
# handler(case=..., handoff=..., now=datetime) — ownership moved; case.owner is the new owner.
handoff_accepted: list[Callable[..., Any]] = []
# handler(case=..., by=user, now=datetime) — the case was resolved or closed.
case_closed: list[Callable[..., Any]] = []
# handler(case=...) -> list[dict] — open commitments to brief in a hand-off:
# [{"id": int, "description": str, "due_at": iso str}]
open_commitments: list[Callable[..., list[dict]]] = []


def run(handlers: list[Callable[..., Any]], **kwargs: Any) -> None:
    for handler in handlers:
        handler(**kwargs)


def collect_open_commitments(case: Case) -> list[dict]:
    items: list[dict] = []
    for handler in open_commitments:
        items.extend(handler(case=case))
    return items


__all__ = ["case_opened", "handoff_accepted", "case_closed", "open_commitments", "run", "Handoff"]
