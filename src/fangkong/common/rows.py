"""Plain rows written many at once, for the sets the batch services write (audit events, test days).

Django's ``bulk_create`` builds a model instance and compiles every value of every row; for tens of
thousands of narrow rows that is most of the time a batch takes. ``rows_insert`` sends one
parameterised ``INSERT`` with the rows as ``executemany`` (SQLite and psycopg run it as one
prepared statement), adapting each value by its column's type once. It returns nothing: use it
for rows whose ids the caller does not need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def _adapter(field: models.Field[Any, Any]) -> Any:
    """How a Python value of ``field`` becomes a query parameter (the common cases directly)."""
    if isinstance(field, models.DateTimeField):
        return lambda v: None if v is None else connection.ops.adapt_datetimefield_value(v)
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else connection.ops.adapt_datefield_value(v)
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.ForeignKey):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


def rows_insert(model: type[models.Model], *, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in the order of ``columns``, field names) into ``model``'s table."""
    if not rows:
        return 0
    fields: list[Any] = [model._meta.get_field(name) for name in columns]
    adapt = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608 - names quoted
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[a(v) for a, v in zip(adapt, row, strict=True)] for row in rows])
    return len(rows)
