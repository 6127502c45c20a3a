"""The demo city's outlines: every unit has one, and children tile their parent exactly."""

from __future__ import annotations

from fangkong.demo.city import city_spec
from fangkong.demo.geometry import unit_outlines


def _box(outline):
    xs = [x for x, _ in outline["coordinates"][0]]
    ys = [y for _, y in outline["coordinates"][0]]
    return min(xs), min(ys), max(xs), max(ys)


def _area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def test_every_unit_has_an_outline_and_children_tile_their_parent():
    spec = city_spec(seed=2022)
    outlines = unit_outlines(spec)
    stack = [spec]
    while stack:
        node = stack.pop()
        assert node.code in outlines
        if node.children:
            parent = _box(outlines[node.code])
            boxes = [_box(outlines[child.code]) for child in node.children]
            for b in boxes:
                assert parent[0] - 1e-6 <= b[0] < b[2] <= parent[2] + 1e-6
                assert parent[1] - 1e-6 <= b[1] < b[3] <= parent[3] + 1e-6
            assert abs(sum(_area(b) for b in boxes) - _area(parent)) < 1e-9
            stack.extend(node.children)
