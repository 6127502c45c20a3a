"""``fangkong backup DEST [--keys FILE]``: an online, consistent backup and its separate key archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.backup.archive import BackupError
from fangkong.backup.services import backup_create


class Command(BaseCommand):
    help = "Back up the database into a new directory DEST (manifest included) and the keys into a separate archive (default DEST.keys.json, mode 0600)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "dest", type=Path, help="a new or empty directory for the database copy and its manifest"
        )
        parser.add_argument(
            "--keys",
            type=Path,
            default=None,
            help="where to write the key archive (default: DEST.keys.json, beside DEST)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(directory=options["dest"], keys_path=options["keys"])
        except BackupError as refusal:
            raise CommandError(str(refusal)) from refusal
        manifest = result.manifest
        for name, entry in manifest["files"].items():
            self.stdout.write(f"{result.directory / name}  {entry['bytes']} bytes  sha256 {entry['sha256']}")
        self.stdout.write(str(result.directory / "manifest.json"))
        counts = ", ".join(f"{table} {n}" for table, n in manifest["row_counts"].items())
        self.stdout.write(
            _("Backup %(id)s of the %(vendor)s database: %(counts)s.")
            % {"id": manifest["id"], "vendor": manifest["database"]["vendor"], "counts": counts}
        )
        self.stdout.write(_("Key archive (mode 0600): %(path)s") % {"path": result.keys_path})
        self.stderr.write(
            self.style.WARNING(
                _(
                    "Store the key archive apart from the data: another medium, another place. Without it the encrypted ID numbers and phones in this backup cannot be read; whoever holds both can read them all."
                )
            )
        )
