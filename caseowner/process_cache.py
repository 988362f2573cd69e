"""Rows read on every write and changed a few times a year (a team's business calendar, its
webhook endpoints), kept in each process's memory and dropped everywhere when they change.

A ``ProcessCache`` is a dict in the process, valid for one *version*: a number in the
shared cache (Redis in production), read once per look-up (one cache round trip instead of
the rows' statements). A change bumps the version, so every process reads the rows afresh
on its next look-up: ``changed()`` is called by the model's ``post_save``/``post_delete``
receivers and by services that change rows without signals (``bulk_create``).

The bump happens at once (the writer's own transaction sees its change) and again when the
writer commits (a process that read the old rows between the two stores them under the
first bump's version, which is then already stale). Rows read inside a transaction that
changed them and has not committed are not stored: a rollback would leave them behind.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_migrate
from django.dispatch import receiver

T = TypeVar("T")

# Entries a process keeps per cache before starting afresh (teams × scopes, small).
MAX_ENTRIES = 5000

_EVERY: list[ProcessCache] = []


class ProcessCache(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._version_key = f"caseowner:process-cache:{name}:version"
        self._entries: dict[Hashable, tuple[object, T]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # this thread's changes awaiting their commit
        self._counter = itertools.count()
        _EVERY.append(self)

    def _version(self) -> object:
        version = cache.get(self._version_key)
        if version is None:  # a number no process has used (the key may have been evicted)
            cache.add(self._version_key, time.time_ns(), timeout=None)
            version = cache.get(self._version_key)
        return version

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value of ``key``: from memory when nothing changed since it was read, else
        ``load()`` (and kept, unless this thread's transaction changed the rows)."""
        version = self._version()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        value = load()
        if not self._changed_in_open_transaction():
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (version, value)
        return value

    def changed(self) -> None:
        """The rows changed: every process reads them afresh, now and after the commit."""
        self._bump()
        with self._lock:
            self._entries.clear()
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            return
        pending = self._pending()
        marker = next(self._counter)

        def committed() -> None:
            pending.pop(marker, None)
            self._bump()

        pending[marker] = committed
        transaction.on_commit(committed)

    def _pending(self) -> dict[int, Callable[[], None]]:
        if not hasattr(self._local, "pending"):
            self._local.pending = {}
        return self._local.pending

    def _changed_in_open_transaction(self) -> bool:
        pending = self._pending()
        if not pending:
            return False
        waiting = {id(item[1]) for item in transaction.get_connection().run_on_commit}
        for marker, callback in list(pending.items()):
            if id(callback) not in waiting:  # rolled back: Django dropped the callback
                del pending[marker]
        return bool(pending)

    def _bump(self) -> None:
        try:
            cache.incr(self._version_key)
        except ValueError:  # no version yet (or evicted): a new one nobody has used
            cache.set(self._version_key, time.time_ns(), timeout=None)


@receiver(post_migrate, dispatch_uid="process_caches_after_migrate")
def _forget_everything(**kwargs: object) -> None:
    """A migration or a flush (``manage.py flush``, a test's truncation: no row signals) may
    have changed any row: every cache starts afresh."""
    for kept in _EVERY:
        kept._bump()
        with kept._lock:
            kept._entries.clear()
