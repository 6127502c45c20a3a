"""PII at rest: AES-256-GCM for the value, HMAC-SHA256 blind index for exact-match lookup.

Ciphertext layout: 1 version byte, 12-byte nonce, ciphertext+tag. The blind index is keyed
separately and takes a ``purpose`` (e.g. the ID type), so equal strings of different kinds do not
share an index value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = b"\x01"


def _key_bytes(value: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raw = b""
    if len(raw) == 32:
        return raw
    return hashlib.sha256(value.encode("utf-8")).digest()


@lru_cache(maxsize=4)
def _aead(key: str) -> AESGCM:
    return AESGCM(_key_bytes(key))


def encrypt(plaintext: str) -> bytes:
    nonce = os.urandom(12)
    return VERSION + nonce + _aead(settings.FANGKONG_PII_KEY).encrypt(nonce, plaintext.encode("utf-8"), None)


def decrypt(blob: bytes | memoryview, *, key: str | None = None) -> str:
    """The plaintext of ``blob``, under the configured key or ``key`` (a backup's key being
    checked before a restore); a wrong key raises ``cryptography.exceptions.InvalidTag``."""
    data = bytes(blob)
    if data[:1] != VERSION:
        raise ValueError("unknown PII ciphertext version")
    aead = _aead(settings.FANGKONG_PII_KEY if key is None else key)
    return aead.decrypt(data[1:13], data[13:], None).decode("utf-8")


def blind_index(value: str, *, purpose: str, key: str | None = None) -> str:
    raw = _key_bytes(settings.FANGKONG_PII_INDEX_KEY if key is None else key)
    return hmac.new(raw, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
