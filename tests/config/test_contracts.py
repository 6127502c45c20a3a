"""The import-linter contracts (pyproject.toml) name every package of fangkong: a new app that
no contract mentions would escape the layers and could call the engine unchecked."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import fangkong

PYPROJECT = Path(fangkong.__file__).resolve().parents[2] / "pyproject.toml"


def _named(contract: dict) -> set[str]:
    names: set[str] = set()
    for key in ("layers", "source_modules", "forbidden_modules"):
        for entry in contract.get(key, []):
            for part in entry.replace("(", " ").replace(")", " ").replace("|", " ").replace(":", " ").split():
                names.add(part.removeprefix("fangkong."))
    return names


def test_every_package_is_in_the_layers_or_stands_alone():
    contracts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    packages = {m.name for m in pkgutil.iter_modules(fangkong.__path__)}
    layered = _named(next(c for c in contracts if c["type"] == "layers"))
    alone = next(c for c in contracts if "stand alone" in c["name"])
    bridges = next(c for c in contracts if "bridges" in c["name"])
    standing_alone = {m.removeprefix("fangkong.") for m in alone["source_modules"]}
    assert packages - layered - standing_alone == set(), "packages in no layer"
    platform = packages - standing_alone
    assert platform <= {m.removeprefix("fangkong.") for m in alone["forbidden_modules"]}, "engine may import"
    assert platform <= {m.removeprefix("fangkong.") for m in bridges["source_modules"]}, "may call the engine"
