"""Engine backends: each implements ``engine.matching.Backend`` over the Parquet layout."""

from __future__ import annotations

__all__: list[str] = []
