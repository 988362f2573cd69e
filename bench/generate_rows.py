"""The generator's ground: the counts at a scale and writing rows with COPY."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Model

SEED = 20261125
YEARS = 3
HOT_OPEN_CASES = 300


@dataclass(frozen=True)
class Counts:
    scale: float
    teams: int
    agents: int
    customers: int
    cases: int
    handoffs: int
    commitments: int
    notifications: int
    hot_open: int

    @classmethod
    def for_scale(cls, scale: float) -> Counts:
        def n(full: int, minimum: int = 1) -> int:
            return max(minimum, round(full * scale))

        teams = n(20)
        return cls(
            scale=scale,
            teams=teams,
            # every team needs two agents besides the hot one, so hand-offs have a receiver
            agents=max(n(500), 2 * teams + 1),
            customers=n(200_000),
            cases=n(1_000_000, 10),
            handoffs=n(300_000),
            commitments=n(2_000_000),
            notifications=n(2_000_000),
            hot_open=max(1, round(HOT_OPEN_CASES * min(1.0, scale / 0.01))),
        )


# --- writing rows ---------------------------------------------------------------------------


def _adapt(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if hasattr(value, "value") and type(value).__module__ != "builtins":  # TextChoices
        return value.value
    return value


@dataclass
class Table:
    """The columns a generator fills; every other column gets its model default."""

    model: type[Model]
    columns: Sequence[str]
    extra_columns: list[str] = field(default_factory=list)
    extra_values: tuple = ()

    def __post_init__(self) -> None:
        fields = {f.column: f for f in self.model._meta.local_concrete_fields}
        unknown = [c for c in self.columns if c not in fields]
        if unknown:
            raise RuntimeError(f"{self.model.__name__} has no column(s) {unknown}")
        extra_cols, extra_vals = [], []
        for column, f in fields.items():
            if column in self.columns or f.db_default is not NOT_PROVIDED:
                continue
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.empty_strings_allowed and f.blank:
                value = ""
            else:
                raise RuntimeError(
                    f"the generator does not fill {self.model.__name__}.{f.name}, a required "
                    "column without a default: add it to the generator (bench/generate_*.py)"
                )
            extra_cols.append(column)
            extra_vals.append(_adapt(value))
        self.extra_columns = extra_cols
        self.extra_values = tuple(extra_vals)

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def copy(self, rows: Iterable[tuple]) -> int:
        """COPY the rows in; secondary indexes are dropped first and built once at the end
        (a sorted build is several times faster than a million index insertions)."""
        cols = ", ".join(f'"{c}"' for c in [*self.columns, *self.extra_columns])
        extra = self.extra_values
        count = 0
        with connection.cursor() as cur:
            rebuild = _drop_secondary_indexes(cur, self.name)
            raw = cur.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f'COPY "{self.name}" ({cols}) FROM STDIN') as copy:
                write = copy.write_row
                for row in rows:
                    write(row + extra)
                    count += 1
            for definition in rebuild:
                cur.execute(definition)
        return count


def _drop_secondary_indexes(cur, table: str) -> list[str]:  # a DB-API cursor
    """Drop the table's indexes that no constraint owns; return their definitions."""
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [f'"{table}"'],
    )
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _, definition in found]


def _reset_sequences(models: Iterable[type[Model]]) -> None:
    with connection.cursor() as cur:
        for model in models:
            table, pk = model._meta.db_table, model._meta.pk.column
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                f'COALESCE((SELECT max("{pk}") FROM "{table}"), 0) + 1, false)',
                [table, pk],
            )


def _fast_session() -> None:
    """Bulk loading: no per-row foreign-key triggers (superuser only), no fsync wait."""
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        # planning a million cases in Python takes longer than the app's idle limit
        cur.execute("SET idle_in_transaction_session_timeout = 0")
        cur.execute("SET maintenance_work_mem = '512MB'")
        try:
            with transaction.atomic():
                cur.execute("SET session_replication_role = replica")
        except Exception:  # not a superuser: foreign keys are checked as usual
            pass


def _normal_session() -> None:
    with connection.cursor() as cur:
        try:
            cur.execute("SET session_replication_role = DEFAULT")
        except Exception:
            pass


def _model(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _log(message: str) -> None:
    print(f"  generate: {message}", flush=True)
