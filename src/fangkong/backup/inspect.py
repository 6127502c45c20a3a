"""What a database holds, read through a plain DB-API cursor (sqlite3 or psycopg), so that the
same reading serves the live database, a backup file and a restore target that Django does not
know: the applied migrations, row counts of the tables that matter, and sample encrypted rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from fangkong.backup.archive import SampleRow

# The tables counted in the manifest and compared after a restore.
COUNTED = (
    "auth.User",
    "orgs.OrgUnit",
    "people.Person",
    "cases.Case",
    "contacts.Contact",
    "quarantine.QuarantineOrder",
    "worklist.WorkItem",
    "audit.AuditEvent",
)
# Tables that ``migrate`` fills by itself: rows there do not make a database "in use".
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}
SAMPLES = 3


@dataclass
class Snapshot:
    migrations: dict[str, list[str]] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    samples: list[SampleRow] = field(default_factory=list)


def _quote(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def _person_table() -> str:
    return str(apps.get_model("people", "Person")._meta.db_table)


def snapshot(cursor: Any, *, tables: set[str]) -> Snapshot:
    """Migrations, counts and up to ``SAMPLES`` encrypted ID numbers of the database behind
    ``cursor``; ``tables`` are the tables it has (a missing table is left out, not an error)."""
    result = Snapshot()
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            result.migrations.setdefault(str(app), []).append(str(name))
    for label in COUNTED:
        table = apps.get_model(label)._meta.db_table
        if table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (a model's table name)
            result.row_counts[table] = int(cursor.fetchone()[0])
    person = _person_table()
    if person in tables:
        cursor.execute(
            f"SELECT id_type, id_number_cipher, id_number_index FROM {_quote(person)} ORDER BY id LIMIT {SAMPLES}"  # noqa: S608
        )
        result.samples = [SampleRow(str(t), bytes(c), str(i)) for t, c, i in cursor.fetchall()]
    return result


def holds_data(cursor: Any, *, tables: set[str]) -> bool:
    """Whether any table beyond what ``migrate`` writes by itself has a row."""
    for table in sorted(tables - BOOKKEEPING):
        cursor.execute(f"SELECT 1 FROM {_quote(table)} LIMIT 1")  # noqa: S608
        if cursor.fetchone() is not None:
            return True
    return False
