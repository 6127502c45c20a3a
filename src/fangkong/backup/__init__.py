"""Backup and restore: an online, consistent copy of the database, its manifest, and a separate
archive of the keys without which the encrypted ID numbers and phones cannot be read."""
