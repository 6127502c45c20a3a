"""``fangkong restore SRC [--keys FILE] [--force] [--database-url URL]``: a checked restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.backup.archive import BackupError
from fangkong.backup.services import backup_restore


class Command(BaseCommand):
    help = (
        "Restore the backup in directory SRC after checking its checksums and that its key archive "
        "decrypts its data; refuses a database that holds data unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", type=Path, help="the backup directory (holding manifest.json)")
        parser.add_argument(
            "--keys", type=Path, default=None, help="the key archive (default: SRC.keys.json, beside SRC)"
        )
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")
        parser.add_argument(
            "--database-url",
            default=None,
            help="restore into this database instead of the configured one (to test a backup in a scratch database)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_restore(
                directory=options["src"],
                keys_path=options["keys"],
                force=options["force"],
                database_url=options["database_url"],
            )
        except BackupError as refusal:
            raise CommandError(str(refusal)) from refusal
        manifest = result.manifest
        counts = ", ".join(f"{table} {n}" for table, n in manifest["row_counts"].items())
        self.stdout.write(
            _("Restored backup %(id)s of %(at)s into %(target)s and checked it: %(counts)s.")
            % {"id": manifest["id"], "at": manifest["created_at"], "target": result.target, "counts": counts}
        )
        for note in result.notes:
            self.stderr.write(self.style.WARNING(note))
