"""Read configuration from the environment.

Every setting may come from ``NAME`` or, for secrets, from a file named by ``NAME_FILE``
(Docker/Kubernetes secrets). Keys that are not configured fall back to a local key file under
``var/`` created on first use, so that ``make demo`` needs no set-up; production sets them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def env(name: str, default: str | None = None) -> str | None:
    """The value of ``name``, or the content of the file named by ``name_FILE``, or ``default``."""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return default


def env_bool(name: str, *, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


LOCAL_KEY_NAMES = ("SECRET_KEY", "FANGKONG_PII_KEY", "FANGKONG_PII_INDEX_KEY")


def local_keys(var_dir: Path) -> dict[str, str]:
    """Keys kept in ``var/local-keys.json``, generated once; for development and the demo only."""
    path = var_dir / "local-keys.json"
    if path.exists():
        keys: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    else:
        keys = {}
    missing = [name for name in LOCAL_KEY_NAMES if name not in keys]
    if missing:
        for name in missing:
            keys[name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(keys, indent=2), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
    return keys


def secret(name: str, var_dir: Path) -> tuple[str, bool]:
    """A secret from the environment, else from the local key file; says which (True = local)."""
    value = env(name)
    if value:
        return value, False
    return local_keys(var_dir)[name], True
