"""Synthetic mobility: layout, local-day partitions, reproducibility and plausible movements."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fangkong.engine.synth import (
    CHECKINS_SCHEMA,
    NOISE_MAX_M,
    PING_GAP_MAX_S,
    PING_GAP_MIN_S,
    PINGS_SCHEMA,
    VENUES_SCHEMA,
    BBox,
    Role,
    city_build,
    local_midnight_utc_s,
    people_chunk,
    synth_city,
)
from fangkong.engine.synth.__main__ import main
from fangkong.engine.synth.geo import DEMO_BBOX, distance_m

START = date(2022, 3, 7)  # a Monday
PEOPLE = 900
DAYS = 2
CHUNK = 400
SEED = 7
US = 1_000_000


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "city"
    synth_city(people=PEOPLE, days=DAYS, out=out, seed=SEED, start=START, chunk=CHUNK)
    return out


def _day_dirs(root: Path, what: str) -> list[Path]:
    return sorted((root / what).glob("day=*"))


def _read(root: Path, what: str, day: date) -> pa.Table:
    files = sorted((root / what / f"day={day.isoformat()}").glob("*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])


def _np(table: pa.Table, column: str) -> np.ndarray:
    col = table.column(column)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return np.asarray(col.to_numpy())


def test_files_have_the_shared_schemas_and_a_manifest(city: Path) -> None:
    for path in (city / "pings").rglob("*.parquet"):
        assert pq.read_schema(path).equals(PINGS_SCHEMA)
    for path in (city / "checkins").rglob("*.parquet"):
        assert pq.read_schema(path).equals(CHECKINS_SCHEMA)
    assert pq.read_schema(city / "venues.parquet").equals(VENUES_SCHEMA)
    assert [p.name for p in _day_dirs(city, "pings")] == ["day=2022-03-07", "day=2022-03-08"]
    assert [p.name for p in _day_dirs(city, "checkins")] == ["day=2022-03-07", "day=2022-03-08"]
    assert len(list((city / "pings" / "day=2022-03-07").glob("*.parquet"))) == 3  # 900 people, chunks of 400
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == SEED
    assert manifest["people"] == PEOPLE
    assert manifest["days"] == DAYS
    assert manifest["start"] == "2022-03-07"
    assert manifest["bbox"] == {"west": 113.80, "south": 22.48, "east": 114.40, "north": 22.76}
    assert manifest["generator"] == "fangkong.engine.synth"
    assert manifest["generator_version"] == 1


def test_pings_are_partitioned_by_local_day_with_utc_timestamps(city: Path) -> None:
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        ts = _np(_read(city, "pings", day), "ts")
        lo = local_midnight_utc_s(day) * US
        assert (
            lo
            == int(np.datetime64(f"{day.isoformat()}T00:00").astype("datetime64[us]").astype(np.int64))
            - 8 * 3600 * US
        )
        assert ts.min() >= lo
        assert ts.max() < lo + 86_400 * US
        late = ts[ts >= lo + (23 * 3600 + 45 * 60) * US]  # after 23:45 local: still this day's partition
        early_utc_date = ts[ts < lo + 8 * 3600 * US]  # before 08:00 local: the previous UTC date
        assert len(late) > 0
        assert len(early_utc_date) > 0


def test_pings_come_every_5_to_15_minutes_sorted_per_person(city: Path) -> None:
    table = _read(city, "pings", START)
    person = _np(table, "person_id")
    ts = _np(table, "ts")
    same = person[1:] == person[:-1]
    assert np.all(person[1:] >= person[:-1])
    gaps = np.diff(ts)[same]
    assert gaps.min() >= PING_GAP_MIN_S * US
    assert gaps.max() <= PING_GAP_MAX_S * US
    assert len(np.unique(person)) == PEOPLE
    assert 130 <= len(ts) / PEOPLE <= 160


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = synth_city(people=250, days=1, out=tmp_path / "a", seed=3, start=START, chunk=100)
    b = synth_city(people=250, days=1, out=tmp_path / "b", seed=3, start=START, chunk=100)
    assert (a.pings, a.checkins, a.bytes) == (b.pings, b.checkins, b.bytes)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 8  # manifest, venues, 3 chunks × (pings, checkins)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    for rel in files:
        if rel.suffix == ".parquet":
            assert pq.read_table(tmp_path / "a" / rel).equals(pq.read_table(tmp_path / "b" / rel))


def test_different_seeds_give_different_cities(tmp_path: Path) -> None:
    synth_city(people=250, days=1, out=tmp_path / "a", seed=3, start=START)
    synth_city(people=250, days=1, out=tmp_path / "b", seed=4, start=START)
    a = _read(tmp_path / "a", "pings", START)
    b = _read(tmp_path / "b", "pings", START)
    assert not a.equals(b)
    assert not pq.read_table(tmp_path / "a" / "venues.parquet").equals(
        pq.read_table(tmp_path / "b" / "venues.parquet")
    )


def test_people_who_stay_home_ping_only_near_home(city: Path) -> None:
    town = city_build(people=PEOPLE, seed=SEED, bbox=DEMO_BBOX)
    pings = _read(city, "pings", START)
    checked_in = set(_np(_read(city, "checkins", START), "person_id").tolist())
    person = _np(pings, "person_id")
    lon, lat = _np(pings, "lon"), _np(pings, "lat")
    homebodies = 0
    movers = 0
    for chunk_index, first in enumerate(range(0, PEOPLE, CHUNK)):
        group = people_chunk(
            city=town,
            seed=SEED,
            chunk_index=chunk_index,
            first_id=first + 1,
            count=min(CHUNK, PEOPLE - first),
        )
        home_of = dict(
            zip(group.person_id.tolist(), zip(group.home_lon, group.home_lat, strict=True), strict=True)
        )
        for pid, role in zip(group.person_id.tolist(), group.role.tolist(), strict=True):
            sel = person == pid
            hlon, hlat = home_of[pid]
            d = distance_m(
                bbox=DEMO_BBOX,
                lon1=lon[sel],
                lat1=lat[sel],
                lon2=np.full(sel.sum(), hlon),
                lat2=np.full(sel.sum(), hlat),
            )
            stays_home = role == Role.PRESCHOOL or (
                role in (Role.RETIRED, Role.AT_HOME) and pid not in checked_in
            )
            if stays_home:
                homebodies += 1
                assert d.max() <= NOISE_MAX_M + 0.5, (pid, role)
            elif role == Role.WORKER and d.max() > 2_000:
                movers += 1
    assert homebodies >= 40
    assert movers >= 200  # most workers go some way from home on a Monday


def test_checkins_are_at_real_venues_where_the_person_is(city: Path) -> None:
    venues = pq.read_table(city / "venues.parquet")
    venue_ids = _np(venues, "venue_id")
    vlon = dict(zip(venue_ids.tolist(), _np(venues, "lon").tolist(), strict=True))
    vlat = dict(zip(venue_ids.tolist(), _np(venues, "lat").tolist(), strict=True))
    pings = _read(city, "pings", START)
    person, ts = _np(pings, "person_id"), _np(pings, "ts")
    lon, lat = _np(pings, "lon"), _np(pings, "lat")
    checkins = _read(city, "checkins", START)
    assert len(checkins) > PEOPLE // 2
    assert set(_np(checkins, "venue_id").tolist()) <= set(venue_ids.tolist())
    check_out = checkins.column("check_out")
    assert 0 < check_out.null_count < len(checkins) // 2  # some forget to check out, most do not
    cin = _np(checkins, "check_in")
    cout = check_out.cast(pa.int64()).to_numpy(zero_copy_only=False)
    present = ~np.isnan(cout.astype(np.float64))
    assert np.all(cout[present] > cin[present])
    lo = local_midnight_utc_s(START) * US
    assert cin.min() >= lo
    assert np.nanmax(cout.astype(np.float64)) < lo + 86_400 * US
    cperson, cvenue = _np(checkins, "person_id"), _np(checkins, "venue_id")
    seen = 0
    for i in np.flatnonzero(present):
        sel = (person == cperson[i]) & (ts >= cin[i]) & (ts <= cout[i])
        if sel.any():
            v = int(cvenue[i])
            n = int(sel.sum())
            d = distance_m(
                bbox=DEMO_BBOX,
                lon1=lon[sel],
                lat1=lat[sel],
                lon2=np.full(n, vlon[v]),
                lat2=np.full(n, vlat[v]),
            )
            assert d.max() <= NOISE_MAX_M + 0.5
            seen += 1
    assert seen > 100


def test_everything_lies_inside_the_bounding_box(city: Path, tmp_path: Path) -> None:
    box = BBox(west=114.00, south=22.50, east=114.05, north=22.53)
    synth_city(people=300, days=1, out=tmp_path / "small", seed=1, start=START, bbox=box)
    for root, bbox in ((city, DEMO_BBOX), (tmp_path / "small", box)):
        pings = pa.concat_tables([pq.read_table(p) for p in sorted((root / "pings").rglob("*.parquet"))])
        venues = pq.read_table(root / "venues.parquet")
        for table in (pings, venues):
            lon, lat = _np(table, "lon"), _np(table, "lat")
            assert bbox.west <= lon.min() and lon.max() <= bbox.east
            assert bbox.south <= lat.min() and lat.max() <= bbox.north


def test_refuses_to_write_over_a_dataset_and_bad_sizes(city: Path, tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        synth_city(people=10, days=1, out=city, start=START)
    with pytest.raises(ValueError, match="at least 1"):
        synth_city(people=0, days=1, out=tmp_path / "none")


def test_command_line_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert (
        main(["--people", "120", "--days", "1", "--out", str(out), "--seed", "5", "--start", "2022-03-07"])
        == 0
    )
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["people"] == 120
    assert summary["pings"] == pq.read_table(out / "pings" / "day=2022-03-07").num_rows
    assert "120/120 person-days (100%)" in captured.err
    assert main(["--people", "120", "--out", str(out)]) == 2
