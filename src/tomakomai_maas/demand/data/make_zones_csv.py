"""Build ``zones_tomakomai_central.csv`` from the assumptions listed below.

Run ``python src/tomakomai_maas/demand/data/make_zones_csv.py`` to rewrite the CSV; the test
suite checks that the shipped CSV equals :func:`build_zones`. Everything here that is not
a landmark coordinate or a city total from ``docs/tomakomai_facts.md`` is **assumed** and
listed in ``README.md`` beside this file.

Method
------
1. Geometry: a 5x5 grid of 600 m cells centred on JR苫小牧駅 (the ~3x3 km core), a row of
   three 600 m cells 1.5-2.1 km south of the station (the 港町 port area), and 11 larger
   zones along the 国道36号 corridor east to イオンモール苫小牧, JR沼ノ端駅 and 勇払. Zones
   containing a public landmark use the landmark's coordinates as centroid where the zone is
   defined around it (AEON, 沼ノ端駅, 勇払駅); grid cells keep the cell centre.
2. Population: covered residents = city figure x ``EMBEDDED_COVERED_SHARE`` per age band
   (rounded), i.e. the city age structure applied to every zone. The 勇払 zones are anchored
   on the ~900 households of 勇払地区 (facts §2.4, あいとまタクシー); the rest is split by
   ``area_km2 x density`` (relative density classes, assumed). Integer counts use the
   largest-remainder method so that the zone sums equal the covered totals exactly.
3. Attractions: relative weights anchored on landmarks (values assumed; see ``README.md``);
   ``school`` is proportional to the zone's 0-14 population (school positions not found).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tomakomai_maas.demand.zones import (
    EMBEDDED_COVERED_SHARE,
    STATION_LAT,
    STATION_LON,
    TOMAKOMAI,
    ZONE_COLUMNS,
    local_xy_km,
    offset_latlon,
)

log = logging.getLogger(__name__)

OUT = Path(__file__).with_name("zones_tomakomai_central.csv")

CELL_KM = 0.6  # assumed grid cell size of the core
YUFUTSU_HOUSEHOLDS = 900  # facts §2.4: ~900 households targeted by あいとまタクシー (勇払地区)

# Landmarks (facts §3). Used to name zones and to anchor attractions.
LANDMARKS = {
    "city_hall": (42.63406, 141.60553),
    "city_hospital": (42.65194, 141.60333),
    "oji_mill": (42.63472, 141.58972),
    "aeon": (42.65639, 141.64194),
    "numanohata_stn": (42.6721944, 141.6933917),
    "yufutsu_stn": (42.63750, 141.73389),
}

# 海の駅ぷらっとみなと市場: coordinates NOT FOUND (facts §3). ASSUMED at the embedded road
# network's landmark (network/data/landmarks.csv, key port_market), where the AV trial feeds
# put the market terminus, so that zone P3 and the AV stop agree.
MARKET = (42.6265439, 141.6150564)

# Relative residential density classes (assumed; no district populations are public).
DENSITY = {
    "residential": 1.0,
    "mixed": 0.8,
    "civic": 0.6,
    "commercial": 0.4,
    "roadside": 0.5,
    "port": 0.15,
    "industrial": 0.03,
}

# Attraction rows: jobs, retail, hospital, station, port_market, city_hall (relative units,
# assumed; 'school' is derived from the 0-14 population).
_A = dict[str, float]


def _attr(jobs: float = 5, retail: float = 2, hospital: float = 2, station: float = 0,
          port_market: float = 0, city_hall: float = 0) -> _A:
    return {"jobs": jobs, "retail": retail, "hospital": hospital, "station": station,
            "port_market": port_market, "city_hall": city_hall}


def _core_cells() -> list[dict]:
    """The 5x5 core grid: row 1 = north, column 1 = west; C33 holds the station."""
    special: dict[str, tuple[str, str, str, _A]] = {
        # station: relative weight 100 = 苫小牧駅 (2,991 boardings/day 2022, facts §2.6)
        "C33": ("苫小牧駅前 (表町)", "JR Tomakomai Station (Omotemachi)", "commercial",
                _attr(jobs=60, retail=30, hospital=10, station=100)),
        "C32": ("駅西 (駅前商業地, 仮定)", "Station west (assumed commercial)", "commercial",
                _attr(jobs=25, retail=15, hospital=5)),
        "C34": ("駅東 (駅前商業地, 仮定)", "Station east (assumed commercial)", "commercial",
                _attr(jobs=25, retail=15, hospital=5)),
        "C43": ("駅南 (駅通り, 仮定)", "Station south (assumed main street)", "commercial",
                _attr(jobs=25, retail=15, hospital=5)),
        # city hall (旭町); 王子総合病院 assumed here: its bus stop lies between
        # 表町5丁目 and 市役所前 on route 15 (facts §2.1), exact position NOT FOUND.
        "C44": ("市役所周辺 (旭町)", "City hall area (Asahimachi)", "civic",
                _attr(jobs=50, retail=10, hospital=60, city_hall=100)),
        # Oji Paper mill (王子町), 146.1 ha site, ~567 staff (facts §3)
        "C42": ("王子製紙 苫小牧工場 (王子町)", "Oji Paper Tomakomai mill (Ojimachi)",
                "industrial", _attr(jobs=80, retail=0, hospital=1)),
        "C41": ("王子製紙 西側 (仮定)", "West of Oji mill (assumed)", "mixed",
                _attr(jobs=20, retail=2, hospital=2)),
        # 苫小牧市立病院 (清水町), 382 beds (facts §3)
        "C14": ("市立病院周辺 (清水町)", "City hospital area (Shimizucho)", "mixed",
                _attr(jobs=40, retail=5, hospital=100)),
    }
    cells = []
    for r in range(1, 6):
        for c in range(1, 6):
            zid = f"C{r}{c}"
            dy, dx = (3 - r) * CELL_KM, (c - 3) * CELL_KM
            if zid in special:
                name, name_en, dens, attr = special[zid]
            else:
                ns = "北" if dy > 0 else "南"
                ew = "東" if dx > 0 else "西"
                parts = ([f"{ns}{abs(dy):.1f}km"] if dy else []) + \
                        ([f"{ew}{abs(dx):.1f}km"] if dx else [])
                parts_en = ([f"{abs(dy):.1f} km {'N' if dy > 0 else 'S'}"] if dy else []) + \
                           ([f"{abs(dx):.1f} km {'E' if dx > 0 else 'W'}"] if dx else [])
                name = "中心部 駅の" + "・".join(parts)
                name_en = "Core, " + ", ".join(parts_en) + " of station"
                dens = "mixed" if r == 3 else "residential"
                attr = _attr(jobs=15 if r == 3 else (10 if r == 5 else 5))
            lat, lon = offset_latlon(STATION_LAT, STATION_LON, dx, dy)
            cells.append(dict(zone_id=zid, name=name, name_en=name_en, lat=lat, lon=lon,
                              area_km2=CELL_KM * CELL_KM, density=dens, **attr))
    return cells


def _port_cells() -> list[dict]:
    """Port zones (港町 area; positions assumed): P1, P2 are 600 m cells 1.5-2.1 km south of
    the station; P3 is a zone of the same area centred on 海の駅ぷらっとみなと市場.

    The market's coordinates (港町2-2-5) are NOT FOUND: P3 is centred on :data:`MARKET`, the
    embedded network's assumed market point (1.5 km S / 1.5 km E of the station, 2.1 km
    straight, ~2.8 km by road, consistent with the 2.5-3 km one-way AV route, facts §1.2),
    so trips to the market end near the AV trial's market stop.
    """
    spec = [
        ("P1", "港湾地区 西 (仮定)", "Port area west (assumed)", -CELL_KM,
         _attr(jobs=30, retail=2, hospital=1, port_market=5)),
        ("P2", "港湾地区 中央 (仮定)", "Port area centre (assumed)", 0.0,
         _attr(jobs=30, retail=2, hospital=1, port_market=5)),
        ("P3", "港町 ぷらっとみなと市場 (位置仮定)", "Minatomachi, Plat Minato market "
         "(assumed position)", CELL_KM,
         _attr(jobs=20, retail=15, hospital=1, port_market=100)),
    ]
    out = []
    for zid, name, name_en, dx, attr in spec:
        lat, lon = offset_latlon(STATION_LAT, STATION_LON, dx, -3 * CELL_KM)
        if zid == "P3":
            lat, lon = MARKET
        out.append(dict(zone_id=zid, name=name, name_en=name_en, lat=lat, lon=lon,
                        area_km2=CELL_KM * CELL_KM, density="port", **attr))
    return out


def _corridor() -> list[dict]:
    """Zones east of the core; offsets in km from the station unless a landmark is given."""
    spec = [
        # zone, name, name_en, (dx, dy) or landmark, area, density, attractions
        ("E01", "国道36号 元中野4付近", "Route 36 near Motonakano 4", (1.9, 0.4), 0.8,
         "roadside", _attr(jobs=15, retail=10)),
        ("E02", "東部回廊 イオン西 (仮定)", "East corridor, west of AEON (assumed)",
         (2.8, 1.2), 1.0, "residential", _attr(jobs=10, retail=5)),
        ("E03", "イオンモール苫小牧 (柳町)", "AEON Mall Tomakomai (Yanagimachi)", "aeon",
         1.0, "commercial", _attr(jobs=40, retail=100, hospital=5)),
        ("E04", "東部回廊 イオン東 (仮定)", "East corridor, east of AEON (assumed)",
         (4.8, 2.3), 1.2, "residential", _attr(jobs=10, retail=5)),
        ("E05", "東部回廊 沼ノ端西 (仮定)", "East corridor, west of Numanohata (assumed)",
         (6.2, 2.9), 1.2, "residential", _attr(jobs=10, retail=5)),
        # 沼ノ端駅: 1,046 on+off/day (2014) vs 苫小牧 ~5,982 (2x 2,991 boardings, 2022)
        # -> 17.5 (mixed years); medical & commercial facilities around it (facts §2.4)
        ("E06", "沼ノ端駅周辺 (沼ノ端中央)", "JR Numanohata Station (Numanohata-chuo)",
         "numanohata_stn", 1.0, "mixed",
         _attr(jobs=20, retail=20, hospital=20, station=17.5)),
        ("E07", "沼ノ端 北 (仮定)", "Numanohata north (assumed)", (7.6, 4.6), 1.2,
         "residential", _attr(jobs=5, retail=5)),
        ("E08", "沼ノ端 東 (仮定)", "Numanohata east (assumed)", (8.9, 3.4), 1.2,
         "residential", _attr(jobs=10, retail=5)),
        ("E09", "沼ノ端・勇払間 工業地帯 (仮定)", "Industrial belt Numanohata-Yufutsu "
         "(assumed)", (9.6, 1.7), 3.0, "industrial", _attr(jobs=60, retail=0, hospital=0)),
        # 勇払駅: 54 users/day (2014-18 avg) -> 0.9
        ("E10", "勇払駅周辺", "JR Yufutsu Station area", "yufutsu_stn", 1.0, "anchored",
         _attr(jobs=10, retail=3, hospital=2, station=0.9)),
        # 日本製紙 勇払 mill is "nearby" (facts §3); its position NOT FOUND -> assumed here
        ("E11", "勇払 東 (仮定)", "Yufutsu east (assumed)", (12.2, 0.0), 1.0, "anchored",
         _attr(jobs=30, retail=1, hospital=1)),
    ]
    out = []
    for zid, name, name_en, where, area, dens, attr in spec:
        if isinstance(where, str):
            lat, lon = LANDMARKS[where]
        else:
            lat, lon = offset_latlon(STATION_LAT, STATION_LON, *where)
        out.append(dict(zone_id=zid, name=name, name_en=name_en, lat=lat, lon=lon,
                        area_km2=area, density=dens, **attr))
    return out


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:short]] += 1
    return base


def build_zones() -> pd.DataFrame:
    """The embedded zone table (columns ``ZONE_COLUMNS``)."""
    rows = _core_cells() + _port_cells() + _corridor()
    df = pd.DataFrame(rows)
    share = EMBEDDED_COVERED_SHARE
    band_totals = [round(TOMAKOMAI.pop_0_14 * share), round(TOMAKOMAI.pop_15_64 * share),
                   round(TOMAKOMAI.pop_65p * share)]
    covered_pop = sum(band_totals)
    covered_hh = round(TOMAKOMAI.households * share)

    anchored = (df["density"] == "anchored").to_numpy()
    # 勇払: persons = households x covered persons/household, split 2:1 (station area : east)
    yufutsu_pop = YUFUTSU_HOUSEHOLDS * covered_pop / covered_hh
    weights = np.zeros(len(df))
    others = ~anchored
    dens = df.loc[others, "density"].map(DENSITY).to_numpy(float)
    w_other = df.loc[others, "area_km2"].to_numpy(float) * dens
    weights[others] = w_other / w_other.sum() * (covered_pop - yufutsu_pop)
    weights[anchored] = yufutsu_pop * np.array([2.0, 1.0]) / 3.0

    for col, tot in zip(("pop_0_14", "pop_15_64", "pop_65p"), band_totals, strict=True):
        df[col] = largest_remainder(tot, weights)
    df["pop_total"] = df["pop_0_14"] + df["pop_15_64"] + df["pop_65p"]
    df["households"] = largest_remainder(covered_hh, df["pop_total"].to_numpy(float))
    kids = df["pop_0_14"].to_numpy(float)
    df["school"] = np.round(100.0 * kids / kids.max(), 1)
    df["lat"] = df["lat"].round(7)
    df["lon"] = df["lon"].round(7)
    df["area_km2"] = df["area_km2"].round(3)
    return df[list(ZONE_COLUMNS)]


def check_landmarks(df: pd.DataFrame) -> dict[str, str]:
    """Zone of each landmark (the nearest-cell test used while designing the grid)."""
    out = {}
    for key, (lat, lon) in LANDMARKS.items():
        x, y = local_xy_km(df["lat"], df["lon"], lat, lon)
        out[key] = str(df["zone_id"].iloc[int(np.argmin(np.hypot(x, y)))])
    return out


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    df = build_zones()
    df.to_csv(OUT, index=False, lineterminator="\n")
    log.info("wrote %s: %d zones, %d residents, %d households; landmarks in %s", OUT, len(df),
             df["pop_total"].sum(), df["households"].sum(), check_landmarks(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
