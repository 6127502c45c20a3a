"""SMS backends, chosen like Django's EMAIL_BACKEND by ``settings.FANGKONG_SMS_BACKEND``."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from fangkong.notify.backends.base import BaseBackend, Outgoing, Result

__all__ = ["BaseBackend", "Outgoing", "Result", "get_backend"]


def get_backend(path: str | None = None) -> BaseBackend:
    """An instance of the configured backend (or of ``path``)."""
    backend: BaseBackend = import_string(path or settings.FANGKONG_SMS_BACKEND)()
    return backend
