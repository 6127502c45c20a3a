"""Deployment checks (``fangkong check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from fangkong.protocols import ProfileError, load_profile


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


@register()
def protocol_loads(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The active protocol profile must load; a bad file is reported with the key at fault."""
    try:
        load_profile(settings.FANGKONG_PROTOCOL)
    except ProfileError as error:
        return [Error(str(error), hint="Fix the profile or set FANGKONG_PROTOCOL.", id="fangkong.E001")]
    return []
