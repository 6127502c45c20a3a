"""The masking rule of names, shared by the apps that show or search masked names (people, worklist)."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first and last character; two-character names keep the first."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
