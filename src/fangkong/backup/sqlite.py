"""SQLite: an online copy through SQLite's backup API, and a restore through it too.

A file copy of a live WAL database misses what still sits in the ``-wal`` file; the backup API
reads the committed state, WAL included, in one step (one read transaction), so writers go on
and the copy is one consistent moment.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from fangkong.backup.archive import BackupRefused
from fangkong.backup.inspect import Snapshot, holds_data, snapshot

FILE = "database.sqlite3"
BUSY_MS = 20000  # as the application's own connections (settings)


def _connect(path: Path | str, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_MS / 1000)
    else:
        connection = sqlite3.connect(path, timeout=BUSY_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    return connection


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def dump(*, settings_dict: dict[str, Any], path: Path) -> Snapshot:
    """Copy the live database to ``path`` (one self-contained file, integrity checked) and
    read the manifest's facts from the copy, so they describe exactly what was copied."""
    source_path = Path(settings_dict["NAME"])
    if not source_path.is_file():
        raise BackupRefused(_("There is no database at %(path)s.") % {"path": source_path})
    source, copy = _connect(source_path), sqlite3.connect(path)
    try:
        source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy
        (integrity,) = copy.execute("PRAGMA quick_check").fetchone()
        if integrity != "ok":
            raise BackupRefused(
                _("The copy fails SQLite's integrity check: %(result)s") % {"result": integrity}
            )
        return snapshot(copy.cursor(), tables=_tables(copy))
    finally:
        source.close()
        copy.close()


def read(path: Path) -> Snapshot:
    """The facts of a database file (a backup or a restored target), read without changing it."""
    connection = _connect(path, read_only=True)
    try:
        return snapshot(connection.cursor(), tables=_tables(connection))
    finally:
        connection.close()


def holds(settings_dict: dict[str, Any]) -> bool:
    target = Path(settings_dict["NAME"])
    if not target.is_file():
        return False
    connection = _connect(target, read_only=True)
    try:
        return holds_data(connection.cursor(), tables=_tables(connection))
    finally:
        connection.close()


def load(*, settings_dict: dict[str, Any], path: Path) -> None:
    """Replace the target database's content with the backup, page by page, under SQLite's
    write lock (other processes see the old or the new database, never a mix)."""
    target = Path(settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    source, destination = _connect(path, read_only=True), _connect(target)
    try:
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        destination.close()


def read_target(settings_dict: dict[str, Any]) -> Snapshot:
    return read(Path(settings_dict["NAME"]))
