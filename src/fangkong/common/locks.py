"""Serialising writers on a key that has no row yet (e.g. "the requests of this phone").

``serialise(key=...)`` inside a transaction makes every other transaction that serialises the same
key wait until this one ends. On PostgreSQL it takes a transaction-scoped advisory lock on a 63-bit
hash of the key; on SQLite every writing transaction already runs alone (``BEGIN IMMEDIATE``).
A ``select_for_update`` cannot do this: it locks the rows found, and the first writer finds none.
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.db.models import Model


def serialise(*, key: str) -> None:
    if connection.vendor != "postgresql":
        return
    number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def lock_fresh(obj: Model) -> None:
    """Lock ``obj``'s row until the transaction ends and re-read it, so that the checks that
    follow see what is stored now, not what a page loaded earlier (two decisions at once: the
    second waits, then sees the first)."""
    type(obj)._default_manager.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True).first()
    obj.refresh_from_db()
