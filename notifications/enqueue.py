"""Queueing messages in the outbox: recipients, templates and keys in, rows out, in the
caller's transaction. Nothing about cases; delivery is ``notifications.services``."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from notifications.models import (
    DeliveryLog,
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTag,
    RecipientKind,
    WebhookEndpoint,
)
from notifications.telemetry import current_request_id


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    kind: str = RecipientKind.CUSTOMER


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: str

    def as_json(self) -> dict:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": self.content,
        }


@dataclass(frozen=True)
class EmailHeaders:
    """What an email says beside the defaults. ``from_name`` is the display name before the
    organisation's own address (the address never changes: it is the one SPF and DKIM
    vouch for); ``auto_submitted`` is RFC 3834's field ("no" for a person's own words)."""

    from_name: str = ""
    reply_to: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-generated"

    def as_json(self) -> dict:
        data = {
            "from_name": self.from_name,
            "reply_to": self.reply_to,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "auto_submitted": self.auto_submitted,
        }
        return {k: v for k, v in data.items() if v}


@dataclass(frozen=True)
class Outgoing:
    """One message for ``notification_enqueue_many`` (the arguments of ``notification_enqueue``)."""

    recipient: Recipient
    template: str
    context: dict
    dedupe_key: str
    send_after: datetime | None = None
    tags: Sequence[str] = ()
    attachments: Iterable[Attachment] = ()
    channel: str = NotificationChannel.EMAIL
    webhook_endpoint: WebhookEndpoint | None = None
    headers: EmailHeaders | None = None
    # Why the recipient cannot be reached on ``channel``: the row is written final, as
    # ``no_route``, and never attempted.
    no_route: str = ""


# --- one write per service call ----------------------------------------------------------------


@dataclass
class _Batch:
    pending: list[Outgoing] = dataclasses.field(default_factory=list)
    # len(connection.atomic_blocks) where each open level of the batch began
    depths: list[int] = dataclasses.field(default_factory=list)
    # what the transaction read once and asks again (``outbox_memo``)
    memo: dict[object, object] = dataclasses.field(default_factory=dict)


_local = threading.local()


def _batch() -> _Batch | None:
    return getattr(_local, "batch", None)


def _atomic_depth() -> int:
    return len(transaction.get_connection().atomic_blocks)


@contextmanager
def outbox_batch() -> Iterator[None]:
    """A transaction (``transaction.atomic``) in which every message queued with
    ``later=True`` is written in one go just before it ends: one ``notification_enqueue_many``
    (one statement on PostgreSQL) for a whole service call, where ``on_commit`` would come
    too late. A service uses it as its decorator instead of ``transaction.atomic``; one called
    inside another joins it (its own atomic is a savepoint) and the outermost one writes.

    Messages wait only in the block's own atomic level: one queued inside a savepoint opened
    since goes at once, and so does everything in a block nested under such a savepoint, so
    a savepoint rolled back never leaves a waiting message behind. A message queued without
    ``later`` (its caller reads the row) writes the waiting ones with it, in the order
    queued. When a block ends with an exception, the messages waiting when it began wait
    again (written meanwhile or not: a key already in the outbox is skipped, so writing one
    twice is harmless) and its own are dropped."""
    with transaction.atomic():
        batch = _batch()
        outermost = batch is None
        if batch is None:
            batch = _local.batch = _Batch()
        depth = _atomic_depth()
        # a block directly inside its parent's atomic holds; any other is written at once
        holds = outermost or (bool(batch.depths) and batch.depths[-1] == depth - 1)
        before = list(batch.pending)
        batch.depths.append(depth if holds else -1)
        try:
            yield
        except BaseException:
            batch.pending = before
            raise
        finally:
            batch.depths.pop()
            if outermost:
                _local.batch = None
        if outermost and batch.pending:
            notification_enqueue_many(batch.pending)


def outbox_memo() -> dict[object, object] | None:
    """A dict that lives as long as the current ``outbox_batch`` (one service call's
    transaction), for rows it asks about several times; None outside a batch. Whoever keeps
    rows here drops them when the rows change (a ``post_save`` receiver)."""
    batch = _batch()
    return batch.memo if batch is not None else None


def outbox_holds() -> bool:
    """Whether a message queued now with ``later=True`` would wait for its batch."""
    return _holding() is not None


def _holding() -> _Batch | None:
    """The batch a message may wait in now (see ``outbox_batch``), or None."""
    batch = _batch()
    if batch is None or not batch.depths or batch.depths[-1] != _atomic_depth():
        return None
    return batch


def notification_enqueue(
    *,
    recipient: Recipient,
    template: str,
    context: dict,
    dedupe_key: str,
    send_after: datetime | None = None,
    tags: Sequence[str] = (),
    attachments: Iterable[Attachment] = (),
    channel: str = NotificationChannel.EMAIL,
    webhook_endpoint: WebhookEndpoint | None = None,
    headers: EmailHeaders | None = None,
    no_route: str = "",
    later: bool = False,
) -> Notification | None:
    """Queue one message in the caller's transaction; None if the key was used before.
    ``later``: the caller does not read the row, so inside an ``outbox_batch`` the message
    waits to be written with the others (None is returned then).

    ``context`` must be JSON-serialisable: the message is rendered when it is sent.
    ``no_route`` (why the recipient cannot be reached on ``channel``) writes the row as
    ``no_route``, final and never attempted, so the outbox records what was not sent and why.
    """
    outgoing = Outgoing(
        recipient=recipient,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        send_after=send_after,
        tags=tags,
        attachments=attachments,
        channel=channel,
        webhook_endpoint=webhook_endpoint,
        headers=headers,
        no_route=no_route,
    )
    return notification_enqueue_many([outgoing], later=later)[0]


# Fields written on insert; ``created_at`` takes the database's default.
_INSERT_FIELDS = (
    "channel",
    "recipient_address",
    "recipient_name",
    "recipient_kind",
    "template",
    "context",
    "attachments",
    "headers",
    "dedupe_key",
    "tags",
    "webhook_endpoint",
    "send_after",
    "status",
    "attempts",
    "last_error",
    "provider_message_id",
    "request_id",
    "finished_at",
)


def notification_enqueue_many(
    messages: Sequence[Outgoing], *, later: bool = False
) -> list[Notification | None]:
    """Queue messages in the caller's transaction in a fixed number of statements whatever
    their number: on PostgreSQL one (``_insert_with_tags``: the insert, the delivery log's
    check and the tags), elsewhere three (one ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING``, one look-up of the keys in the delivery log, one insert of the tags).
    Returns, for each message, its row, or None when its address is empty or its key was
    used before (a key used twice in one call queues the first). A used key never disturbs
    the caller's transaction.

    Inside an ``outbox_batch``, ``later=True`` holds the messages to be written with the
    batch (all None is returned); without ``later`` the held ones are written with these.
    """
    batch = _holding()
    if batch is not None:
        if later:
            batch.pending.extend(messages)
            return [None] * len(messages)
        held, batch.pending = batch.pending, []
        if held:
            return notification_enqueue_many([*held, *messages])[len(held) :]
    now = timezone.now()
    request_id = current_request_id()
    rows: dict[str, Notification] = {}
    for m in messages:
        if not (m.recipient.address or m.no_route) or m.dedupe_key in rows:
            continue
        final = (
            {
                "status": NotificationStatus.NO_ROUTE,
                "last_error": f"no_route: {m.no_route}"[:2000],
                "finished_at": now,
            }
            if m.no_route
            else {}
        )
        rows[m.dedupe_key] = Notification(
            channel=m.channel,
            recipient_address=m.recipient.address,
            recipient_name=m.recipient.name,
            recipient_kind=m.recipient.kind,
            template=m.template,
            context=m.context,
            attachments=[a.as_json() for a in m.attachments],
            headers=m.headers.as_json() if m.headers else {},
            dedupe_key=m.dedupe_key,
            tags=list(dict.fromkeys(m.tags)),
            webhook_endpoint=m.webhook_endpoint,
            send_after=m.send_after or now,
            request_id=request_id,
            **final,
        )
    if transaction.get_connection().vendor == "postgresql":
        inserted, moving = _insert_with_tags(list(rows.values()))
        _drop_archived(inserted, moving)
    else:
        inserted = _insert_ignoring_used_keys(list(rows.values()))
        # Checked after the insert: a row being archived at this moment holds the unique
        # key until its move commits, and is then visible here.
        _drop_archived(inserted, list(inserted))
        tags = [NotificationTag(notification=n, tag=t) for n in inserted.values() for t in n.tags]
        if tags:
            NotificationTag.objects.bulk_create(tags)
    queued: set[str] = set()
    result: list[Notification | None] = []
    for m in messages:
        n = inserted.get(m.dedupe_key) if (m.recipient.address or m.no_route) else None
        result.append(n if n is not None and m.dedupe_key not in queued else None)
        if n is not None:
            queued.add(m.dedupe_key)
    return result


def _drop_archived(inserted: dict[str, Notification], keys: Sequence[str]) -> None:
    """Delete (with their tags) the rows just inserted among ``keys`` whose key the delivery
    log holds, and leave them out of ``inserted``: one look-up, none for no keys."""
    if keys:
        archived = set(
            DeliveryLog.objects.filter(dedupe_key__in=list(keys)).values_list(
                "dedupe_key", flat=True
            )
        )
        if archived:
            Notification.objects.filter(dedupe_key__in=archived).filter(
                pk__in=[inserted[k].pk for k in archived]
            ).delete()
            for key in archived:
                del inserted[key]


def _insert_ignoring_used_keys(rows: list[Notification]) -> dict[str, Notification]:
    """Insert ``rows`` in one statement; those whose key exists are skipped. Returns the
    inserted rows by key, with their id and creation time."""
    if not rows:
        return {}
    connection = transaction.get_connection()
    columns, values, params = _values(rows, cast=False)
    sql = (
        f"INSERT INTO {_NOTIFICATION} ({columns}) VALUES {values} "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key, created_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _returned(rows, [(pk, key, created) for pk, key, created in cursor.fetchall()])


_NOTIFICATION = f'"{Notification._meta.db_table}"'
_TAG = f'"{NotificationTag._meta.db_table}"'
_DELIVERY_LOG = f'"{DeliveryLog._meta.db_table}"'


def _insert_with_tags(rows: list[Notification]) -> tuple[dict[str, Notification], list[str]]:
    """PostgreSQL: ``_insert_ignoring_used_keys``, the delivery log's check and the tags in
    one statement. A key the delivery log holds is not inserted; nor one the outbox holds.

    Returns the inserted rows by key, and the keys to look up in the delivery log once more:
    those whose row was in the outbox when the statement began (its snapshot) and was gone
    when the insert reached it. That is a row being archived, whose move committed while the
    insert waited for it (or just before): the statement's snapshot does not see it in the
    log, a next statement does (``_drop_archived``). Any other key needs no second look."""
    if not rows:
        return {}, []
    connection = transaction.get_connection()
    columns, values, params = _values(rows, cast=True)
    tag_keys = [row.dedupe_key for row in rows for _tag in row.tags]
    tag_names = [tag for row in rows for tag in row.tags]
    sql = (
        f"WITH ins AS (INSERT INTO {_NOTIFICATION} ({columns}) "
        f"SELECT * FROM (VALUES {values}) AS v ({columns}) "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_DELIVERY_LOG} d WHERE d.dedupe_key = v.dedupe_key) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key, created_at), "
        f"tagged AS (INSERT INTO {_TAG} (notification_id, tag) SELECT ins.id, t.tag FROM ins "
        "JOIN unnest(%s::varchar[], %s::varchar[]) AS t (dedupe_key, tag) "
        "ON t.dedupe_key = ins.dedupe_key) "
        "SELECT ins.id, ins.dedupe_key, ins.created_at, EXISTS (SELECT 1 FROM "
        f"{_NOTIFICATION} n WHERE n.dedupe_key = ins.dedupe_key) FROM ins"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, tag_keys, tag_names])
        found = cursor.fetchall()
    inserted = _returned(rows, [(pk, key, created) for pk, key, created, _held in found])
    return inserted, [key for _pk, key, _created, held in found if held]


def _values(rows: list[Notification], *, cast: bool) -> tuple[str, str, list[object]]:
    """The quoted columns, the VALUES rows (typed: ``cast``, for a VALUES list outside an
    INSERT) and their parameters."""
    connection = transaction.get_connection()
    fields = [f for f in Notification._meta.concrete_fields if f.name in _INSERT_FIELDS]
    params: list[object] = []
    for row in rows:
        for field in fields:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    marks = [f"%s::{f.db_type(connection)}" if cast else "%s" for f in fields]
    placeholders = "(" + ", ".join(marks) + ")"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return columns, ", ".join([placeholders] * len(rows)), params


def _returned(rows: list[Notification], found: list[tuple]) -> dict[str, Notification]:
    """The rows the insert returned (id, key, created_at), by key, as saved instances."""
    connection = transaction.get_connection()
    meta = Notification._meta
    by_key = {row.dedupe_key: row for row in rows}
    column = meta.get_field("created_at").get_col(meta.db_table)
    converters = connection.ops.get_db_converters(column)
    inserted: dict[str, Notification] = {}
    for pk, key, created in found:
        row = by_key[key]
        row.pk = pk
        for convert in converters:
            created = convert(created, column, connection)
        row.created_at = created
        row._state.adding = False
        row._state.db = connection.alias
        inserted[key] = row
    return inserted


def notification_cancel(
    *, tag: str | None = None, key_prefix: str | None = None, tags: Sequence[str] = ()
) -> int:
    """Cancel pending notifications by tag (or any of ``tags``) or dedupe-key prefix, in the
    caller's transaction."""
    return _cancelled(tag=tag, key_prefix=key_prefix, tags=tags).update(**_cancel_values())


def notification_cancel_statement(
    *, tag: str | None = None, key_prefix: str | None = None, tags: Sequence[str] = ()
) -> tuple[str, tuple]:
    """``notification_cancel``'s UPDATE as SQL and its parameters, not run: for a caller that
    runs it with a write of its own in one statement (PostgreSQL's ``WITH``)."""
    return update_statement(_cancelled(tag=tag, key_prefix=key_prefix, tags=tags), _cancel_values())


def update_statement(rows: QuerySet, values: dict[str, object]) -> tuple[str, tuple]:
    """``rows.update(**values)`` as SQL and its parameters, not run (rows filtered on their
    own table's columns, or by subqueries: no joins)."""
    query: Any = rows.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(rows.db).as_sql()


def _cancel_values() -> dict[str, object]:
    return {"status": NotificationStatus.CANCELLED, "finished_at": timezone.now()}


def _cancelled(
    *, tag: str | None, key_prefix: str | None, tags: Sequence[str]
) -> QuerySet[Notification]:
    if not tag and not key_prefix and not tags:
        raise ValueError("notification_cancel needs a tag or a key prefix")
    condition = Q(status=NotificationStatus.PENDING)
    wanted = [*([tag] if tag else []), *tags]
    if wanted:
        tagged = NotificationTag.objects.filter(tag__in=wanted)
        if len(wanted) == 1:
            tagged = NotificationTag.objects.filter(tag=wanted[0])
        condition &= Q(id__in=tagged.values("notification_id"))
    if key_prefix:
        condition &= Q(dedupe_key__startswith=key_prefix)
    return Notification.objects.filter(condition)
