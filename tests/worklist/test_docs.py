"""docs/worklist.md states the table of kinds: every kind, its role and its ending events."""

from pathlib import Path

from fangkong.worklist.kinds import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "worklist.md"


def test_the_lifecycle_page_lists_every_kind_with_its_role_and_events():
    section = DOC.read_text(encoding="utf-8").split("## Who does what")[1].split("\n## ")[0]
    kinds = {
        line.split("|")[1].strip().strip("`"): line for line in section.splitlines() if line.startswith("| `")
    }
    assert set(kinds) == set(KINDS)
    for kind, rule in KINDS.items():
        row = kinds[kind]
        assert rule.role.value in row, kind
        for event in rule.ends:
            assert f"`{event}`" in row, (kind, event)
        for role in rule.also:
            assert role.value in row, (kind, role)
