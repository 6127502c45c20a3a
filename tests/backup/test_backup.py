"""Backup and restore round trips on the database the suite runs on (SQLite or PostgreSQL):
data with encrypted PII is backed up, changed, restored and read back; wrong keys, a damaged
file and a target that holds data are refused with nothing changed."""

from __future__ import annotations

import json
import secrets
import sqlite3
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils.translation import gettext as _

from fangkong.audit.models import AuditEvent
from fangkong.people.crypto import decrypt
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def backup(dest: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("backup", str(dest), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def restore(src: Path, *args: str) -> str:
    out = StringIO()
    call_command("restore", str(src), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def id_numbers() -> dict[str, str]:
    return {p.name: decrypt(p.id_number_cipher) for p in Person.objects.all()}


def scratch_people(url: str) -> dict[str, str]:
    """Name → decrypted ID number, read straight from the scratch database."""
    query = "SELECT name, id_number_cipher FROM people_person"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            rows = db.execute(query).fetchall()
    else:
        with psycopg.connect(url) as db:
            rows = db.execute(query).fetchall()
    return {name: decrypt(cipher) for name, cipher in rows}


def test_round_trip_restores_people_and_their_encrypted_ids(
    people: list[Person], tmp_path: Path, scratch_url: str
) -> None:
    before = id_numbers()
    dest = tmp_path / "backup"
    out, err = backup(dest)
    keys = tmp_path / "backup.keys.json"
    assert keys.stat().st_mode & 0o777 == 0o600
    assert json.loads(keys.read_text())["keys"]["FANGKONG_PII_KEY"] == settings.FANGKONG_PII_KEY
    assert not list(dest.glob("*keys*"))  # the keys are not beside the data
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["row_counts"]["people_person"] == 2
    assert manifest["database"]["vendor"] == connection.vendor
    assert "0001_initial" in manifest["migrations"]["people"]
    assert manifest["id"] in out and str(keys) in out
    warning = _(
        "Store the key archive apart from the data: another medium, another place. Without it the encrypted "
        "ID numbers and phones in this backup cannot be read; whoever holds both can read them all."
    )
    assert warning in err

    restore(dest, "--database-url", scratch_url)  # an empty scratch target: no --force needed
    assert scratch_people(scratch_url) == before

    Person.objects.filter(name="李红").delete()
    Person.objects.update(name="改名")
    with pytest.raises(CommandError, match="--force"):
        restore(dest)
    assert set(id_numbers()) == {"改名"}  # refused: nothing changed

    restore(dest, "--force")
    assert id_numbers() == before
    assert AuditEvent.objects.filter(action="backup.restore", target_id=manifest["id"]).count() == 1


def test_restore_refuses_keys_that_do_not_decrypt(people: list[Person], tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    backup(dest)
    wrong = tmp_path / "wrong.keys.json"
    document = json.loads((tmp_path / "backup.keys.json").read_text())
    document["keys"]["FANGKONG_PII_KEY"] = secrets.token_urlsafe(32)
    wrong.write_text(json.dumps(document))
    Person.objects.update(name="改名")

    with pytest.raises(CommandError) as refusal:
        restore(dest, "--keys", str(wrong), "--force")

    assert str(refusal.value) == _(
        "The key archive does not decrypt this backup's encrypted ID numbers; nothing was restored. "
        "Use the key archive written with this backup."
    )
    assert set(Person.objects.values_list("name", flat=True)) == {"改名"}


def test_restore_refuses_a_damaged_backup(people: list[Person], tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    backup(dest)
    data = next(p for p in dest.iterdir() if p.name.startswith("database."))
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    data.write_bytes(bytes(blob))
    Person.objects.update(name="改名")

    with pytest.raises(CommandError) as refusal:
        restore(dest, "--force")

    assert str(data) in str(refusal.value)  # the message names the damaged file
    assert set(Person.objects.values_list("name", flat=True)) == {"改名"}


def test_restore_installs_local_keys_and_refuses_to_contradict_the_environment(
    people: list[Person], tmp_path: Path, monkeypatch: Any
) -> None:
    """Keys from the local key file are replaced by the archive's; a PII key set in the
    environment that differs from the archive stops the restore before it starts."""
    dest = tmp_path / "backup"
    backup(dest)
    archive = json.loads((tmp_path / "backup.keys.json").read_text())["keys"]
    var = tmp_path / "var"
    var.mkdir()
    for name in archive:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    Person.objects.update(name="改名")

    with override_settings(FANGKONG_PII_KEY="another-key", VAR_DIR=var):
        monkeypatch.setenv("FANGKONG_PII_KEY", "another-key")
        with pytest.raises(CommandError, match="FANGKONG_PII_KEY"):
            restore(dest, "--force")
        assert set(Person.objects.values_list("name", flat=True)) == {"改名"}

        monkeypatch.delenv("FANGKONG_PII_KEY")
        restore(dest, "--force")

    local = var / "local-keys.json"
    assert json.loads(local.read_text())["FANGKONG_PII_KEY"] == archive["FANGKONG_PII_KEY"]
    assert local.stat().st_mode & 0o777 == 0o600
    assert {p.name for p in Person.objects.all()} == {"王小明", "李红"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_backup_holds_writes_still_in_the_wal(people: list[Person], tmp_path: Path) -> None:
    """The failure a file copy showed: the newest writes sit in the -wal file, and the backup
    API copies them."""
    wal = Path(f"{connection.settings_dict['NAME']}-wal")
    assert wal.stat().st_size > 0  # the people are still in the WAL, not in the main file
    dest = tmp_path / "backup"
    backup(dest)
    with sqlite3.connect(dest / "database.sqlite3") as copy:
        assert copy.execute("SELECT COUNT(*) FROM people_person").fetchone() == (2,)
