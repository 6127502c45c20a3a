"""Deployment checks (``fangkong check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def keys_are_configured(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Production keys must come from the environment, not the generated local key file."""
    if settings.FANGKONG_KEYS_ARE_LOCAL:
        return [
            Warning(
                "SECRET_KEY, FANGKONG_PII_KEY or FANGKONG_PII_INDEX_KEY come from var/local-keys.json.",
                hint="Set them (or their *_FILE variants) from your secret store.",
                id="fangkong.W001",
            )
        ]
    return []
