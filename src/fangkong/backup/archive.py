"""The files of a backup: the manifest beside the database copy, and the key archive apart.

A backup is a directory holding ``manifest.json`` and one database file (``database.sqlite3``
or ``database.pgdump``). The key archive is a separate JSON file, created with mode 0600, that
must be stored apart from the data: whoever holds both can read every ID number and phone.
Key fingerprints in the manifest are HMACs of the keys, not hashes (a weak key's SHA-256 is
the AES key ``people.crypto`` derives from it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from django.utils.translation import gettext as _

from fangkong.people.crypto import blind_index, decrypt
from fangkong.people.idnumbers import normalize_document

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "fangkong-backup/1"
KEYS_FORMAT = "fangkong-keys/1"
# The keys of ``fangkong.config.env.LOCAL_KEY_NAMES`` (config sits above this app: not imported).
LOCAL_KEY_NAMES = ("SECRET_KEY", "FANGKONG_PII_KEY", "FANGKONG_PII_INDEX_KEY")
PII_KEYS = ("FANGKONG_PII_KEY", "FANGKONG_PII_INDEX_KEY")


class BackupError(Exception):
    """A backup or restore that did not succeed; the message says why."""


class BackupRefused(BackupError):
    """A backup or restore that stopped before changing anything."""


class RestoreMismatch(BackupError):
    """A restore that ran but whose result is not the database the manifest describes."""


@dataclass(frozen=True)
class SampleRow:
    """One person's encrypted ID number as stored: enough to prove a key archive right."""

    id_type: str
    cipher: bytes
    index: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(value: str) -> str:
    return hmac.new(value.encode("utf-8"), b"fangkong-backup-fingerprint", hashlib.sha256).hexdigest()[:16]


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 from the start (no window where others may read it);
    an existing file is never overwritten."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def keys_write(*, path: Path, keys: dict[str, str], backup_id: str, created_at: str) -> None:
    if path.exists():
        raise BackupRefused(_("The key archive %(path)s already exists; name another.") % {"path": path})
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": KEYS_FORMAT, "backup_id": backup_id, "created_at": created_at, "keys": keys}
    write_private(path, json.dumps(document, indent=2) + "\n")


def keys_read(path: Path) -> dict[str, str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupRefused(
            _("Cannot read the key archive %(path)s: %(error)s") % {"path": path, "error": error}
        ) from error
    keys = document.get("keys") if isinstance(document, dict) else None
    if (
        document.get("format") != KEYS_FORMAT
        or not isinstance(keys, dict)
        or any(not isinstance(keys.get(name), str) for name in LOCAL_KEY_NAMES)
    ):
        raise BackupRefused(_("%(path)s is not a fangkong key archive.") % {"path": path})
    return {name: keys[name] for name in LOCAL_KEY_NAMES}


def manifest_write(directory: Path, manifest: dict[str, Any]) -> None:
    write_private(directory / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def manifest_read(directory: Path) -> dict[str, Any]:
    """The manifest of the backup in ``directory``, its files checked against their SHA-256."""
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupRefused(
            _("Cannot read the manifest %(path)s: %(error)s") % {"path": path, "error": error}
        ) from error
    if manifest.get("format") != MANIFEST_FORMAT or not manifest.get("files"):
        raise BackupRefused(_("%(path)s is not a fangkong backup manifest.") % {"path": path})
    for name, entry in manifest["files"].items():
        file = directory / Path(name).name
        if not file.is_file() or sha256_file(file) != entry.get("sha256"):
            raise BackupRefused(
                _(
                    "The checksum of %(file)s does not match the manifest: the backup is damaged or incomplete."
                )
                % {"file": file}
            )
    return manifest


def keys_check(*, keys: dict[str, str], samples: list[SampleRow], manifest: dict[str, Any]) -> None:
    """Refuse keys that do not read the backup: each sample's ID number must decrypt under the
    archive's PII key and index to its stored blind index under the archive's index key. With no
    encrypted row to try, the fingerprints in the manifest decide."""
    wrong = _(
        "The key archive does not decrypt this backup's encrypted ID numbers; nothing was restored. Use the key archive written with this backup."
    )
    for sample in samples:
        try:
            number = decrypt(sample.cipher, key=keys["FANGKONG_PII_KEY"])
        except (InvalidTag, ValueError) as error:
            raise BackupRefused(wrong) from error
        index = blind_index(
            normalize_document(number), purpose=f"id:{sample.id_type}", key=keys["FANGKONG_PII_INDEX_KEY"]
        )
        if not hmac.compare_digest(index, sample.index):
            raise BackupRefused(wrong)
    expected = manifest.get("keys", {}).get("fingerprints", {})
    if not samples and any(expected.get(name) != fingerprint(keys[name]) for name in PII_KEYS):
        raise BackupRefused(wrong)
