"""Plain rows written many at once, for the sets the batch services write (audit events, test days).

Django's ``bulk_create`` builds a model instance and compiles every value of every row; for tens of
thousands of narrow rows that is most of the time a batch takes. ``rows_insert`` sends one
parameterised ``INSERT`` with the rows as ``executemany`` (SQLite and psycopg run it as one
prepared statement; PostgreSQL gets the rows by ``COPY``), adapting each value by its column's
type once. With ``ids=True`` the rows'
ids are reserved first (``ids_reserve``) and written with them, so the caller knows them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def _adapter(field: models.Field[Any, Any]) -> Any:
    """How a Python value of ``field`` becomes a query parameter (the common cases directly)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField | models.DateField):
        # a batch repeats few distinct times (now, due times): each is adapted once
        adapt = (
            ops.adapt_datetimefield_value
            if isinstance(field, models.DateTimeField)
            else ops.adapt_datefield_value
        )
        seen: dict[Any, Any] = {None: None}

        def adapted(value: Any) -> Any:
            if value not in seen:
                seen[value] = adapt(value)
            return seen[value]

        return adapted
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.ForeignKey):
        return lambda v: v
    if isinstance(field, models.GenericIPAddressField | models.BooleanField):  # few distinct values
        known: dict[Any, Any] = {}

        def prepared(value: Any) -> Any:
            if value not in known:
                known[value] = field.get_db_prep_save(value, connection)
            return known[value]

        return prepared
    return lambda v: field.get_db_prep_save(v, connection)


def ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys of ``model``'s table, for rows written in this transaction.

    PostgreSQL: taken from the column's sequence (never handed out twice). SQLite: after the
    largest id used so far; safe because the transaction holds SQLite's one write lock from its
    start (``transaction_mode = IMMEDIATE``), so nobody else inserts until it ends."""
    if count <= 0:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ids_reserve needs a transaction")
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quote(pk)}), 0) FROM {quote(table)}")  # noqa: S608 - names quoted
        largest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        used = cursor.fetchone()
        start = max(largest, used[0] if used else 0) + 1
    return list(range(start, start + count))


def rows_insert(
    model: type[models.Model], *, columns: Sequence[str], rows: Sequence[Sequence[Any]], ids: bool = False
) -> list[int]:
    """Insert ``rows`` (values in the order of ``columns``, field names) into ``model``'s table;
    returns their ids when ``ids`` (reserved first), else an empty list."""
    if not rows:
        return []
    if ids:
        reserved = ids_reserve(model, len(rows))
        columns = [model._meta.pk.name, *columns]
        rows = [(pk, *row) for pk, row in zip(reserved, rows, strict=True)]
    fields: list[Any] = [model._meta.get_field(name) for name in columns]
    adapt = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    values = [[a(v) for a, v in zip(adapt, row, strict=True)] for row in rows]
    if connection.vendor == "postgresql":  # COPY: the server's own bulk load, one stream
        _copy(f"COPY {table} ({names}) FROM STDIN", values)
    else:
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - names quoted
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
    return reserved if ids else []


def _copy(sql: str, values: list[list[Any]]) -> None:
    """Stream ``values`` into PostgreSQL with ``COPY … FROM STDIN`` (psycopg 3), logged like an
    ``executemany`` ("N times: COPY …") so that query counts see it."""
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in values:
            copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{len(values)} times: {sql}", "time": f"{time.monotonic() - started:.3f}"}
        )


def objects_insert(objects: Sequence[M]) -> Sequence[M]:
    """``bulk_create``'s fast twin for unsaved instances of one model: their ids are reserved and
    set, ``auto_now``/``auto_now_add`` times filled, and every concrete column written by one
    ``executemany`` (no per-row SQL compilation). Model ``save`` hooks and signals do not run,
    as with ``bulk_create``."""
    if not objects:
        return objects
    model = type(objects[0])
    now = timezone.now()
    fields: list[Any] = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objects:
        for field in stamped:
            if getattr(field, "auto_now", False) or getattr(obj, field.attname) is None:
                setattr(obj, field.attname, now)
    ids = rows_insert(
        model,
        columns=[f.name for f in fields],
        rows=[tuple(getattr(obj, f.attname) for f in fields) for obj in objects],
        ids=True,
    )
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
    return objects
