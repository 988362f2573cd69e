"""Statements written once, parameters bound per call: for the hot read paths.

A ``Statement`` takes a function that builds a ``.values()`` queryset from named inputs (a
user, an instant, ...). The first call composes its SQL with stand-in values for the inputs,
twice with different stand-ins, and keeps the text and where each input goes among the
parameters; every later call binds the real values into that text and runs it through
Django's cursor (so it is counted, logged and wrapped like any query), with no queryset
built or compiled. The rows come back as dicts of the queryset's names, through the field
converters the ORM would apply (a JSON column is parsed as the ORM parses it).

Parameters travel apart from the text (psycopg's server-side binding), so PostgreSQL can
keep a statement's plan: on a direct connection a statement is prepared the first time the
connection runs it, and later calls skip the planner (planning the queue's statement took
twice as long as running it). Behind PgBouncer in transaction mode
(``DATABASE_POOLER=pgbouncer``, where ``DATABASE_PREPARED_STATEMENTS`` is off) nothing is
prepared: each call is an unnamed parse, bind and execute within its transaction. On
PostgreSQL the rows' ``timestamptz`` columns are read by psycopg's C loader (Django
registers a Python subclass of psycopg's loader, which psycopg cannot swap for its C one;
the instants are the same, in the connection's UTC). A build whose SQL depends on an
input's value in another way than as a parameter (two compositions differ) is refused at
composition; on other databases (SQLite) the queryset runs as built, every call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

try:  # psycopg's own loader class: registering it selects its C implementation when built
    from psycopg.types.datetime import TimestamptzLoader as _TimestamptzLoader
except ImportError:  # pragma: no cover - psycopg is the PostgreSQL driver in use
    _TimestamptzLoader = None  # type: ignore[assignment,misc]

# Stand-ins no real input equals, two sets, each input its own: a parameter equal to an
# input's stand-in in the first composition and to its other stand-in in the second is that
# input.
_INT, _AT = 2_000_000_011, datetime(2999, 1, 2, 3, 4, 5, 111, tzinfo=UTC)


def _stand_in(kind: Any, which: int, index: int) -> Any:
    number = _INT + 100 * index + 2 * which
    if kind == "user":
        from django.contrib.auth import get_user_model

        return get_user_model()(pk=number)
    if kind is int:
        return number
    if kind is datetime:
        return _AT - timedelta(days=400 * which, seconds=index)
    if kind is list:  # a list of ids bound as one array: ``= ANY(%s)``
        return [number, number + 1]
    raise TypeError(f"no stand-in for {kind!r}")


def any_of(field: str, ids: Any) -> Any:
    """``field = ANY(%s)``, a condition to filter on: a list of ids as one array parameter
    (PostgreSQL), so a statement's text does not change with how many there are, as
    ``__in`` would."""
    from django.contrib.postgres.fields import ArrayField
    from django.db.models import BigIntegerField, BooleanField, F, Func, Value

    return Func(
        F(field),
        Value(list(ids), output_field=ArrayField(BigIntegerField())),
        arg_joiner=" = ANY(",
        template="%(expressions)s)",
        output_field=BooleanField(),
    )


_CURSOR_CLASSES: dict[str, type] = {}


class _Text:
    """What Django's query log reads of the last statement (``cursor._query.query``), with
    the values in it, written only when read: a prepared run keeps no text of its own."""

    __slots__ = ("connection", "params", "sql")

    def __init__(self, connection: Any, sql: str, params: Any) -> None:
        self.connection, self.sql, self.params = connection, sql, params

    @property
    def query(self) -> bytes:
        from psycopg import ClientCursor

        return ClientCursor(self.connection).mogrify(self.sql, self.params).encode()


class _Logged:
    """A statement's cursor: its text and values for the query log."""

    prepare: bool | None = None

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        out = super().execute(query, params, prepare=self.prepare)  # type: ignore[misc]
        self._query = _Text(self.connection, query, params)  # type: ignore[attr-defined]
        return out


class _Preparing(_Logged):
    """Every statement prepared on the server at its first run on a connection."""

    prepare = True


def _server_binding(connection: Any) -> type:
    """The cursor class for a connection's statements: Django's server-binding cursor,
    counted for /metrics as the backend counts its own cursors where it does."""
    cls = _CURSOR_CLASSES.get(connection.alias)
    if cls is None:
        from django.conf import settings
        from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
            ServerBindingCursor,
        )
        from django_prometheus.db.common import DatabaseWrapperMixin, ExportingCursorWrapper

        mixin = _Preparing if settings.DATABASE_PREPARED_STATEMENTS else _Logged
        cls = type("StatementCursor", (mixin, ServerBindingCursor), {})
        if isinstance(connection, DatabaseWrapperMixin):
            cls = ExportingCursorWrapper(cls, connection.alias, connection.vendor)
        _CURSOR_CLASSES[connection.alias] = cls
    return cls


def _param(value: Any) -> Any:
    return value.pk if hasattr(value, "_meta") else value


class Refused(Exception):
    """The build's SQL is not the same text for every value of an input."""


def _literal_constants(
    sql: str, slots: list[str | None], constants: list[Any], using: str
) -> tuple[str, list[str | None], list[Any]]:
    """The text with every parameter that is not an input written in as a literal (a status,
    a kind): PostgreSQL sees the same constants whatever the inputs, so a partial index
    whose condition names them serves the statement's generic plan too."""
    connection: Any = connections[using]
    parts = sql.replace("%%", "\0").split("%s")
    if len(parts) != len(slots) + 1:
        return sql, slots, constants
    text, kept_slots, kept = [parts[0]], [], []
    for slot, constant, part in zip(slots, constants, parts[1:], strict=True):
        if slot is None and isinstance(constant, (str, int, bool)):
            text.append(connection.ops.compose_sql("%s", [constant]).replace("%", "\0"))
        else:
            text.append("%s")
            kept_slots.append(slot)
            kept.append(constant)
        text.append(part)
    return "".join(text).replace("\0", "%%"), kept_slots, kept


class _Composed:
    def __init__(self, sql: str, slots: list[str | None], constants: list[Any], compiler: Any):
        self.sql, self.slots, self.constants, self.compiler = sql, slots, constants, compiler
        query = compiler.query
        # a .values() build's names (a model build's rows become instances instead)
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)

    def params(self, inputs: dict[str, Any]) -> list[Any]:
        return [
            c if slot is None else _param(inputs[slot])
            for slot, c in zip(self.slots, self.constants, strict=True)
        ]


class Statement:
    """``build(**inputs)`` -> a ``.values()`` queryset; ``inputs`` names each input's kind
    (``"user"``, ``int``, ``datetime``, or ``list``: ids bound as one array, ``any_of``).
    ``rows(**values)`` runs it."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any]],
        *,
        elsewhere: Callable[..., QuerySet[Any]] | None = None,
        **inputs: Any,
    ) -> None:
        self.build = build
        # what runs on other databases, where ``build`` uses PostgreSQL's own SQL
        self.elsewhere = elsewhere or build
        self.inputs = inputs
        self._composed: dict[str, _Composed] = {}

    def _compose(self, using: str) -> _Composed:
        texts, params, compilers = [], [], []
        for which in (0, 1):
            inputs = enumerate(self.inputs.items())
            stand_ins = {name: _stand_in(kind, which, i) for i, (name, kind) in inputs}
            compiler = self.build(**stand_ins).query.get_compiler(using)
            sql, p = compiler.as_sql()
            texts.append(sql)
            params.append(list(p))
            compilers.append(compiler)
        if texts[0] != texts[1] or len(params[0]) != len(params[1]):
            raise Refused(f"{self.build.__name__}: the SQL changes with its inputs")
        slots: list[str | None] = []
        for a, b in zip(params[0], params[1], strict=True):
            slot = None
            for i, (name, kind) in enumerate(self.inputs.items()):
                if _param(_stand_in(kind, 0, i)) == a and _param(_stand_in(kind, 1, i)) == b:
                    slot = name
            if slot is None and a != b:
                raise Refused(f"{self.build.__name__}: a parameter follows an input unseen")
            slots.append(slot)
        sql, slots, constants = _literal_constants(texts[0], slots, params[0], using)
        return _Composed(sql, slots, constants, compilers[0])

    def _run(self, using: str, values: dict[str, Any]) -> tuple[_Composed, list[Any]]:
        composed = self._composed.get(using)
        if composed is None:
            composed = self._composed[using] = self._compose(using)
        connection: Any = connections[using]
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        # a server-binding cursor, wrapped as Django wraps its own (counted and logged)
        raw_cursor = _server_binding(connection)(connection.connection)
        with connection._prepare_cursor(raw_cursor) as cursor:
            if _TimestamptzLoader is not None:
                cursor.cursor.adapters.register_loader("timestamptz", _TimestamptzLoader)
            cursor.execute(composed.sql, composed.params(values))
            raw: list[Any] = cursor.fetchall()
        if composed.converters and raw:
            raw = list(composed.compiler.apply_converters(raw, composed.converters))
        return composed, raw

    def rows(self, *, using: str = "default", **values: Any) -> list[dict[str, Any]]:
        """The rows of a ``.values()`` build, as dicts."""
        if connections[using].vendor != "postgresql":
            return list(self.elsewhere(**values))
        composed, raw = self._run(using, values)
        names = composed.names
        return [dict(zip(names, row, strict=True)) for row in raw]

    def objects(self, *, using: str = "default", **values: Any) -> list[Any]:
        """The model instances of a model build (``select_related`` ones attached and
        annotations set), as Django's ``ModelIterable`` makes them from the same rows."""
        if connections[using].vendor != "postgresql":
            return list(self.elsewhere(**values))
        composed, raw = self._run(using, values)
        compiler = composed.compiler
        select, klass_info = compiler.select, compiler.klass_info
        annotation_col_map = compiler.annotation_col_map
        model_cls = klass_info["model"]
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, using)
        out = []
        for row in raw:
            obj = model_cls.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr_name, col_pos in (annotation_col_map or {}).items():
                setattr(obj, attr_name, row[col_pos])
            out.append(obj)
        return out
