"""The demo city's org tree (鹏城市, a fictional city): a pure function of a seed.

City 440300 → 4 districts (440303–440306, valid resident-ID area codes) → 4 streets (街道) each
→ 4 communities (社区) each → 8 grids (网格) each: 1 + 4 + 16 + 64 + 512 units. Codes follow the
administrative-division style (street = district + 3 digits, community and grid likewise).
Names are drawn with a numpy Generator, unique in the whole city (so within every parent too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CITY_CODE = "440300"
CITY_NAME = "鹏城市"
DISTRICT_CODES = ("440303", "440304", "440305", "440306")
DISTRICT_NAMES = ("东湖区", "莲花区", "南海区", "西乡区")
STREETS_PER_DISTRICT = 4
COMMUNITIES_PER_STREET = 4
GRIDS_PER_COMMUNITY = 8

# Street names: well-worn place-name stems of a southern Chinese city, all fictional here.
_STREET_STEMS = (
    "东门 翠竹 桂园 黄贝 莲塘 清水河 南湖 笋岗 东晓 园岭 沙头 梅林 华富 香蜜湖 南园 华强 福保 蛇口"
    " 招商 粤海 南头 沙河 西丽 桃源 新安 航城 福永 沙井 松岗 石岩 龙华 民治 观澜 大浪 布吉 坂田"
)
STREET_STEMS = tuple(_STREET_STEMS.split())
# Community names: two characters, a first from one list and a second from the other.
COMMUNITY_FIRST = tuple("湖翠桂莲清金银松柏竹梅桃杏枫荔榕凤鹏海湾安宁和乐康泰福禄新兴富华锦绣")
COMMUNITY_SECOND = tuple("贝园苑湾岭塘林源田坑围岗村庄景馨")


@dataclass(frozen=True)
class UnitSpec:
    """One org unit to create; ``children`` are the units directly below it."""

    code: str
    name: str
    level: str
    children: tuple[UnitSpec, ...] = ()


@dataclass(frozen=True)
class GridRef:
    """Where a grid sits: its code and the district whose code is the residents' ID area code."""

    code: str
    name: str
    district_code: str


def city_spec(*, seed: int) -> UnitSpec:
    """The whole demo tree for ``seed`` (the same seed always gives the same tree)."""
    rng = np.random.default_rng([seed, 1])
    street_count = len(DISTRICT_CODES) * STREETS_PER_DISTRICT
    community_count = street_count * COMMUNITIES_PER_STREET
    street_names = iter(
        STREET_STEMS[i] + "街道" for i in rng.choice(len(STREET_STEMS), size=street_count, replace=False)
    )
    pairs = [a + b for a in COMMUNITY_FIRST for b in COMMUNITY_SECOND if a != b]
    community_names = iter(
        pairs[i] + "社区" for i in rng.choice(len(pairs), size=community_count, replace=False)
    )
    districts = []
    for district_code, district_name in zip(DISTRICT_CODES, DISTRICT_NAMES, strict=True):
        streets = []
        for s in range(1, STREETS_PER_DISTRICT + 1):
            street_code = f"{district_code}{s:03d}"
            communities = []
            for c in range(1, COMMUNITIES_PER_STREET + 1):
                community_code = f"{street_code}{c:03d}"
                grids = tuple(
                    UnitSpec(code=f"{community_code}{g:03d}", name=f"第{g}网格", level="grid")
                    for g in range(1, GRIDS_PER_COMMUNITY + 1)
                )
                communities.append(
                    UnitSpec(
                        code=community_code, name=next(community_names), level="community", children=grids
                    )
                )
            streets.append(
                UnitSpec(
                    code=street_code, name=next(street_names), level="street", children=tuple(communities)
                )
            )
        districts.append(
            UnitSpec(code=district_code, name=district_name, level="district", children=tuple(streets))
        )
    return UnitSpec(code=CITY_CODE, name=CITY_NAME, level="city", children=tuple(districts))


def grid_refs(city: UnitSpec) -> list[GridRef]:
    """The grids of ``city`` in code order, each with its district's code."""
    refs: list[GridRef] = []
    for district in city.children:
        for street in district.children:
            for community in street.children:
                refs.extend(
                    GridRef(code=g.code, name=g.name, district_code=district.code) for g in community.children
                )
    return refs
