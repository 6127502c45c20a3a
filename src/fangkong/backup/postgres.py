"""PostgreSQL: ``pg_dump`` in custom format from an exported snapshot, ``pg_restore`` back.

The manifest's facts are read in the same REPEATABLE READ snapshot that ``pg_dump`` dumps
(``--snapshot``), so counts and migrations describe the dump exactly while writers go on.
The tools take the connection from ``PG*`` variables, so no password shows in a process list.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.utils.translation import gettext as _

from fangkong.backup.archive import BackupRefused, SampleRow
from fangkong.backup.inspect import SAMPLES, Snapshot, holds_data, snapshot

FILE = "database.pgdump"
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"


def _conninfo(settings_dict: dict[str, Any]) -> dict[str, Any]:
    info = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    sslmode = settings_dict.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        info["sslmode"] = sslmode
    return {key: value for key, value in info.items() if value is not None}


def _tool_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The process environment with the settings' connection on top: what the settings leave
    out (a host, a certificate) comes from ``PG*`` variables, as it does for psycopg."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        "sslmode": "PGSSLMODE",
    }
    env = dict(os.environ)
    env.update({names[key]: str(value) for key, value in _conninfo(settings_dict).items()})
    return env


def _run(argv: list[str], *, settings_dict: dict[str, Any]) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise BackupRefused(
            _("%(tool)s is not installed; install the PostgreSQL client of the server's version.")
            % {"tool": argv[0]}
        )
    done = subprocess.run(  # noqa: S603 (our own argv; the paths are arguments, no shell)
        [tool, *argv[1:]], env=_tool_env(settings_dict), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupRefused(_("%(tool)s failed: %(error)s") % {"tool": argv[0], "error": done.stderr.strip()})


def _connect(settings_dict: dict[str, Any]) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(**_conninfo(settings_dict))
    except psycopg.OperationalError as error:
        raise BackupRefused(
            _("Cannot connect to the database %(name)s: %(error)s")
            % {"name": settings_dict["NAME"], "error": error}
        ) from error


def dump(*, settings_dict: dict[str, Any], path: Path) -> Snapshot:
    """Dump the database to ``path`` and read the manifest's facts from the same snapshot."""
    with _connect(settings_dict) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone() or ("",)
            facts = snapshot(cursor, tables=_tables(cursor))
            _run(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot_id}", f"--file={path}"],
                settings_dict=settings_dict,
            )
        connection.rollback()
    return facts


def _tables(cursor: Any) -> set[str]:
    cursor.execute(TABLES)
    return {row[0] for row in cursor.fetchall()}


def read_target(settings_dict: dict[str, Any]) -> Snapshot:
    with _connect(settings_dict) as connection, connection.cursor() as cursor:
        return snapshot(cursor, tables=_tables(cursor))


def holds(settings_dict: dict[str, Any]) -> bool:
    with _connect(settings_dict) as connection, connection.cursor() as cursor:
        return holds_data(cursor, tables=_tables(cursor))


def load(*, settings_dict: dict[str, Any], path: Path) -> None:
    """Restore into the target in one transaction: on any error nothing is changed."""
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={settings_dict['NAME']}",
            str(path),
        ],
        settings_dict=settings_dict,
    )


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _copy_field(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)


def read_dump_samples(path: Path) -> list[SampleRow]:
    """The first encrypted ID numbers in a dump, read from its COPY data with ``pg_restore``
    (nothing is restored); the rest of the table is not read."""
    tool = shutil.which("pg_restore")
    if tool is None:
        raise BackupRefused(
            _("%(tool)s is not installed; install the PostgreSQL client of the server's version.")
            % {"tool": "pg_restore"}
        )
    table = apps.get_model("people", "Person")._meta.db_table
    argv = [tool, "--data-only", f"--table={table}", "--file=-", str(path)]
    samples: list[SampleRow] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:  # noqa: S603
        assert process.stdout is not None
        columns: list[str] = []
        for line in process.stdout:
            if not columns:
                match = re.match(r"COPY \S+ \((.*)\) FROM stdin;", line)
                columns = [name.strip().strip('"') for name in match.group(1).split(",")] if match else []
                continue
            if line.startswith("\\.") or len(samples) == SAMPLES:
                break
            row = dict(zip(columns, line.rstrip("\n").split("\t"), strict=True))
            cipher = _copy_field(row["id_number_cipher"])
            samples.append(
                SampleRow(
                    _copy_field(row["id_type"]),
                    bytes.fromhex(cipher[2:]),
                    _copy_field(row["id_number_index"]),
                )
            )
        process.kill()
    return samples
