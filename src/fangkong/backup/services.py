"""``backup_create`` and ``backup_restore``: the data in one place, the keys in another.

Rules: a backup never overwrites (a non-empty directory or an existing key archive is refused);
a restore changes nothing until the manifest's checksums hold, the key archive decrypts sample
rows of the backup, and the target is empty or ``force`` is given; after loading, the target is
read back and must match the manifest. Both are audited with no actor (the system).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_rows
from fangkong.backup import postgres, sqlite
from fangkong.backup.archive import (
    LOCAL_KEY_NAMES,
    MANIFEST_FORMAT,
    PII_KEYS,
    BackupRefused,
    RestoreMismatch,
    SampleRow,
    fingerprint,
    keys_check,
    keys_read,
    keys_write,
    manifest_read,
    manifest_write,
    sha256_file,
    write_private,
)
from fangkong.backup.inspect import Snapshot

log = logging.getLogger(__name__)
VENDORS: dict[str, ModuleType] = {"sqlite": sqlite, "postgresql": postgres}


@dataclass
class BackupResult:
    directory: Path
    keys_path: Path
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    target: str
    notes: list[str] = field(default_factory=list)


def default_keys_path(directory: Path) -> Path:
    """Beside the backup directory, not in it: copying the directory does not take the keys."""
    return directory.with_name(directory.name + ".keys.json")


def _vendor(settings_dict: dict[str, Any]) -> str:
    engine = str(settings_dict.get("ENGINE", ""))
    for vendor in VENDORS:
        if vendor in engine:
            return vendor
    raise BackupRefused(_("Backups support SQLite and PostgreSQL, not %(engine)s.") % {"engine": engine})


def backup_create(*, directory: Path, keys_path: Path | None = None) -> BackupResult:
    """Copy the configured database into ``directory`` (created, mode 0700) with its manifest,
    and the keys into ``keys_path`` (mode 0600, default ``<directory>.keys.json``)."""
    keys_path = (keys_path or default_keys_path(directory)).resolve()
    directory = directory.resolve()
    if keys_path.is_relative_to(directory):
        raise BackupRefused(
            _("The key archive must be kept apart from the data, not inside the backup directory.")
        )
    if keys_path.exists():
        raise BackupRefused(_("The key archive %(path)s already exists; name another.") % {"path": keys_path})
    if directory.exists() and any(directory.iterdir()):
        raise BackupRefused(
            _("%(path)s is not empty; a backup goes into a new directory.") % {"path": directory}
        )
    settings_dict = connections["default"].settings_dict
    vendor = _vendor(settings_dict)
    module = VENDORS[vendor]
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = timezone.now()
    try:
        data = directory / module.FILE
        facts: Snapshot = module.dump(settings_dict=settings_dict, path=data)
        data.chmod(0o600)
        keys = {name: str(getattr(settings, name)) for name in LOCAL_KEY_NAMES}
        manifest = _manifest(
            vendor=vendor,
            settings_dict=settings_dict,
            data=data,
            facts=facts,
            keys=keys,
            keys_path=keys_path,
            started=started,
        )
        manifest_write(directory, manifest)
        keys_write(path=keys_path, keys=keys, backup_id=manifest["id"], created_at=manifest["created_at"])
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        else:  # an empty directory given: leave it empty again
            for written in directory.iterdir():
                written.unlink()
        raise
    audit_rows(
        actor=None,
        action="backup.create",
        rows=[
            (
                "backup",
                manifest["id"],
                str(directory),
                None,
                {"database": vendor, "row_counts": manifest["row_counts"]},
            )
        ],
    )
    log.info("backup %s written to %s (keys: %s)", manifest["id"], directory, keys_path)
    return BackupResult(directory=directory, keys_path=keys_path, manifest=manifest)


def _manifest(
    *,
    vendor: str,
    settings_dict: dict[str, Any],
    data: Path,
    facts: Snapshot,
    keys: dict[str, str],
    keys_path: Path,
    started: Any,
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "id": uuid.uuid4().hex,
        "created_at": timezone.localtime(started).isoformat(),
        "finished_at": timezone.localtime().isoformat(),
        "database": {"vendor": vendor, "name": Path(str(settings_dict["NAME"])).name},
        "files": {data.name: {"sha256": sha256_file(data), "bytes": data.stat().st_size}},
        "migrations": facts.migrations,
        "row_counts": facts.row_counts,
        "keys": {
            "archive": keys_path.name,
            "fingerprints": {name: fingerprint(value) for name, value in keys.items()},
        },
    }


def backup_restore(
    *, directory: Path, keys_path: Path | None = None, force: bool = False, database_url: str | None = None
) -> RestoreResult:
    """Restore the backup in ``directory`` into the configured database, or into the one at
    ``database_url`` (to test a backup in a scratch database; then the instance's keys and
    audit trail are left alone)."""
    manifest = manifest_read(directory)
    keys = keys_read(keys_path or default_keys_path(directory))
    vendor = manifest["database"]["vendor"]
    module = VENDORS.get(vendor)
    configured = database_url is None
    settings_dict: dict[str, Any] = (
        dict(connections["default"].settings_dict)
        if configured
        else dict(dj_database_url.parse(database_url or ""))
    )
    if module is None or _vendor(settings_dict) != vendor:
        raise BackupRefused(
            _("This is a %(vendor)s backup; it restores only into a %(vendor)s database.")
            % {"vendor": vendor}
        )
    data = directory / module.FILE
    samples: list[SampleRow] = (
        sqlite.read(data).samples if vendor == "sqlite" else postgres.read_dump_samples(data)
    )
    keys_check(keys=keys, samples=samples, manifest=manifest)
    notes: list[str] = []
    install = _keys_to_install(keys=keys, notes=notes) if configured else {}
    if module.holds(settings_dict) and not force:
        raise BackupRefused(
            _("The target database already holds data; nothing was restored. Give --force to replace it.")
        )
    if configured:
        connections["default"].close()
    module.load(settings_dict=settings_dict, path=data)
    _verify(facts=module.read_target(settings_dict), manifest=manifest, keys=keys)
    if install:
        _local_keys_install(install)
        notes.append(
            _("The backup's keys were written to %(path)s; restart the web server and the worker.")
            % {"path": Path(settings.VAR_DIR) / "local-keys.json"}
        )
    notes.extend(_migration_notes(manifest))
    target = str(settings_dict["NAME"])
    if configured:
        audit_rows(
            actor=None,
            action="backup.restore",
            rows=[
                (
                    "backup",
                    manifest["id"],
                    str(directory),
                    None,
                    {
                        "created_at": manifest["created_at"],
                        "forced": force,
                        "row_counts": manifest["row_counts"],
                    },
                )
            ],
        )
    log.info("backup %s of %s restored into %s", manifest["id"], manifest["created_at"], target)
    return RestoreResult(manifest=manifest, target=target, notes=notes)


def _verify(*, facts: Snapshot, manifest: dict[str, Any], keys: dict[str, str]) -> None:
    """The restored database must be the one the manifest describes, and readable by the keys."""
    if facts.row_counts != manifest["row_counts"] or facts.migrations != manifest["migrations"]:
        raise RestoreMismatch(
            _("The restored database does not match the manifest (rows %(found)s, expected %(expected)s).")
            % {"found": facts.row_counts, "expected": manifest["row_counts"]}
        )
    try:
        keys_check(keys=keys, samples=facts.samples, manifest=manifest)
    except BackupRefused as refusal:
        raise RestoreMismatch(str(refusal)) from refusal


def _keys_to_install(*, keys: dict[str, str], notes: list[str]) -> dict[str, str]:
    """The archive's keys that differ from this instance's: those from the local key file are
    installed after the restore; PII keys set in the environment must be changed first (refused),
    since the restored ID numbers could not be read; a different SECRET_KEY only ends sessions."""
    install: dict[str, str] = {}
    for name in LOCAL_KEY_NAMES:
        if keys[name] == getattr(settings, name):
            continue
        if not _from_environment(name):
            install[name] = keys[name]
        elif name in PII_KEYS:
            raise BackupRefused(
                _(
                    "%(name)s in the environment differs from the key archive: the restored ID numbers and phones could not be read. Set it from the archive, then restore again; nothing was restored."
                )
                % {"name": name}
            )
        else:
            notes.append(
                _(
                    "%(name)s in the environment differs from the key archive: sessions and links signed before the backup will not be accepted."
                )
                % {"name": name}
            )
    return install


def _from_environment(name: str) -> bool:
    """Whether settings took ``name`` from the environment (``NAME`` or ``NAME_FILE``) rather
    than the local key file, as ``fangkong.config.env.secret`` decides."""
    return bool(os.environ.get(name) or os.environ.get(f"{name}_FILE"))


def _local_keys_install(install: dict[str, str]) -> None:
    path = Path(settings.VAR_DIR) / "local-keys.json"
    current: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if path.exists():
        path.replace(path.with_name(f"local-keys.{timezone.now():%Y%m%dT%H%M%S}.json"))
    write_private(path, json.dumps({**current, **install}, indent=2))


def _migration_notes(manifest: dict[str, Any]) -> list[str]:
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    notes = []
    if known - applied:
        notes.append(
            _("This version has %(n)d migrations the backup lacks: run “fangkong migrate”.")
            % {"n": len(known - applied)}
        )
    if applied - known:
        notes.append(
            _("The backup has %(n)d migrations this version does not know: it was made by a newer fangkong.")
            % {"n": len(applied - known)}
        )
    return notes
