"""Accessibility KPIs on a tiny street grid where distances and times are known by hand.

Grid (``grid_network(3, 5, spacing_m=100)``), node ``r*5 + c`` at (row r south, column c east)::

    0(S0) -- 1 -- 2(Z1) -- 3 -- 4(S4, dest)
    |                            |
    5 ---- 6 ---- 7 ---- 8 ---- 9
    |                            |
    10(S10, west) - 11 - 12(Z2) - 13 - 14(Z3)

Walking at 1 m/s, so seconds = metres. One line S0 -> S4 departs 09:05 and 09:15 and takes
300 s; S10 has no departures (not served). Z4 lies 1 km south of the grid (too far to snap).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from simworlds import make_trip, make_world
from tomakomai_maas.demand.zones import offset_latlon
from tomakomai_maas.metrics.access import (
    AccessConfig,
    DrtArea,
    accessibility_summary,
    accessibility_table,
    area_geometry,
    compare_accessibility,
    compare_zones,
    drt_area,
    resident_points,
    served_stops,
)
from tomakomai_maas.network import TravelTimes, grid_network
from tomakomai_maas.world import JourneyParams, Stop

H = 3600.0
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def grid():
    G = grid_network(3, 5, spacing_m=100.0)
    walk = TravelTimes(G, mode="walk", walk_speed_mps=1.0)
    node = {n: (G.nodes[n]["y"], G.nodes[n]["x"]) for n in G.nodes}
    return G, walk, node


@pytest.fixture(scope="module")
def world(grid):
    _, walk, node = grid
    stops = {s: Stop(s, s, *node[n], walk.index_of(n)) for s, n in
             (("S0", 0), ("S4", 4), ("S10", 10))}
    trips = [make_trip(f"L{i}", "L", ["S0", "S4"], 9 * H + 300 + 600 * i, [300.0])
             for i in range(2)]
    return make_world(trips, stops=stops,
                      journey=JourneyParams(walk_speed_mps=1.0, max_walk_m=450.0))


@pytest.fixture(scope="module")
def zones(grid):
    _, _, node = grid
    z4 = offset_latlon(*node[12], 0.0, -1.0)
    rows = [  # zone, (lat, lon), pop 0-14, 15-64, 65+
        ("Z1", node[2], 0, 0, 100),
        ("Z2", node[12], 0, 200, 0),
        ("Z3", node[14], 50, 50, 0),
        ("Z4", z4, 0, 0, 100),
    ]
    return pd.DataFrame([{"zone_id": z, "name": z, "lat": ll[0], "lon": ll[1], "area_km2": 0.01,
                          "pop_total": a + b + c, "pop_0_14": a, "pop_15_64": b, "pop_65p": c}
                         for z, ll, a, b, c in rows])


@pytest.fixture(scope="module")
def landmarks(grid):
    _, _, node = grid
    return pd.DataFrame({"key": ["dest", "west"], "lat": [node[4][0], node[10][0]],
                         "lon": [node[4][1], node[10][1]]})


CFG = AccessConfig(resident_points="centroid", departure_times=["09:00"],
                   destinations=["dest", "west"], max_direct_walk_m=250.0)


def test_served_stops_need_departures(world):
    assert served_stops(world) == ["S0"]  # S4 only receives arrivals; S10 has no trips
    assert served_stops(world, min_departures=3) == []


def test_coverage_and_travel_times_by_hand(world, zones, grid, landmarks):
    _, walk, _ = grid
    t = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks).set_index(
        "zone_id")
    # walk to the only served stop S0: Z1 200 m, Z2 200 + 200 = 400 m (S10 at 200 m is not
    # served), Z3 400 + 200 = 600 m, Z4 too far from the graph
    assert t.loc[["Z1", "Z2", "Z3"], "walk_to_stop_m"].tolist() == pytest.approx([200, 400, 600],
                                                                                 abs=0.01)
    assert math.isnan(t.loc["Z4", "walk_to_stop_m"])
    assert t["covered_300m_share"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert t["covered_500m_share"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert t.loc["Z1", "covered_300m_pop_65p"] == 100
    # travel times leaving at 09:00 to "dest" (node 4 = S4), walking at most 250 m all the way:
    # Z1: by bus walk 200 m to S0 (09:03:20), board 09:05, arrive S4 09:10 -> 10 min, 1 ride;
    #     on foot 200 m -> 3.33 min; best 3.33
    assert t.loc["Z1", "pt_tt_dest_min"] == pytest.approx(10, abs=1e-3)
    assert t.loc["Z1", "rides_dest"] == 1
    assert t.loc["Z1", "walk_dest_min"] == pytest.approx(200 / 60, abs=1e-3)
    assert t.loc["Z1", "tt_dest_min"] == pytest.approx(200 / 60, abs=1e-3)
    # Z2: walk 400 m to S0 (09:06:40), miss 09:05, board 09:15, arrive S4 09:20 -> 20 min;
    #     400 m on foot is beyond 250 m
    assert t.loc["Z2", "pt_tt_dest_min"] == pytest.approx(20, abs=1e-3)
    assert math.isnan(t.loc["Z2", "walk_dest_min"])
    assert t.loc["Z2", "tt_dest_min"] == pytest.approx(20, abs=1e-3)
    # Z3: S4 is 200 m away but only arrivals stop there, S0 is 600 m (> 450 m access): no
    #     public transport; on foot 3.33 min
    assert math.isnan(t.loc["Z3", "pt_tt_dest_min"]) and math.isnan(t.loc["Z3", "rides_dest"])
    assert t.loc["Z3", "tt_dest_min"] == pytest.approx(200 / 60, abs=1e-3)
    # "west" (node 10): 200 m from Z2 (on foot, 3.33 min); 400 m from Z1 and Z3, too far to
    # walk and no line goes west -> NaN
    assert t.loc["Z2", "tt_west_min"] == pytest.approx(200 / 60, abs=1e-3)
    assert t.loc[["Z1", "Z3", "Z4"], "tt_west_min"].isna().all()
    assert t["pt_tt_west_min"].isna().all()
    assert t.loc["Z4"].filter(like="tt_").isna().all()


def test_summary_by_age_band(world, zones, grid, landmarks):
    _, walk, _ = grid
    s = accessibility_summary(accessibility_table(world, zones, walk, config=CFG,
                                                  landmarks=landmarks))
    # covered within 300 m: Z1 (100, all 65+) only
    assert s.loc["all", "covered_300m_share"] == pytest.approx(100 / 500)
    assert s.loc["65p", "covered_300m_share"] == pytest.approx(100 / 200)
    assert s.loc["15_64", "covered_300m_share"] == 0
    # within 500 m: Z1 + Z2 = 300 of 500; 15-64: Z2 200 of 250
    assert s.loc["all", "covered_500m_share"] == pytest.approx(300 / 500)
    assert s.loc["15_64", "covered_500m_share"] == pytest.approx(200 / 250)
    # travel time to dest, population-weighted over Z1 (100), Z2 (200), Z3 (100):
    # (100 x 3.33 + 200 x 20 + 100 x 3.33) / 400 = 11.67 min; reached by 400 of 500
    assert s.loc["all", "tt_dest_min"] == pytest.approx((200 * 200 / 60 + 200 * 20) / 400,
                                                        abs=1e-3)
    assert s.loc["all", "reach_dest_share"] == pytest.approx(0.8)
    assert s.loc["65p", "reach_dest_share"] == pytest.approx(0.5)  # Z4's elderly are cut off
    # by public transport only Z1 (100, 10 min) and Z2 (200, 20 min): 300 of 500
    assert s.loc["all", "pt_reach_dest_share"] == pytest.approx(0.6)
    assert s.loc["all", "pt_tt_dest_min"] == pytest.approx((100 * 10 + 200 * 20) / 300)
    assert s.loc["65p", "pt_reach_dest_share"] == pytest.approx(0.5)
    assert s.loc["all", "pt_reach_west_share"] == 0 and math.isnan(s.loc["all",
                                                                          "pt_tt_west_min"])
    assert s.loc["all", "population"] == 500


def test_drt_area_hours_and_car_availability(world, zones, grid, landmarks):
    _, walk, node = grid
    lat, lon = node[12]
    square = [(lat - 0.001, lon - 0.001), (lat - 0.001, lon + 0.001), (lat + 0.001, lon + 0.001),
              (lat + 0.001, lon - 0.001)]  # (lat, lon) list around Z2
    active = drt_area(square, name="z2", start_time="08:30", end_time="11:30")
    late = drt_area(square, start_time="25:00", end_time="26:00")  # after the service day
    t = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks,
                            drt_areas=[active, late],
                            car_availability={"0_14": 0.0, "15_64": 0.5, "65p": 0.25})
    assert t["drt_share"].tolist() == [0, 1, 0, 0]
    assert t["covered_300m_share"].tolist() == [1, 1, 0, 0]  # Z2 now covered by DRT
    assert t["stop_300m_share"].tolist() == [1, 0, 0, 0]
    # no car: Z1 100 x 0.75 = 75; Z2 200 x 0.5 = 100; Z3 50 + 50 x 0.5 = 75; Z4 75
    assert t["pop_no_car"].tolist() == [75, 100, 75, 75]
    assert t["covered_300m_pop_no_car"].tolist() == [75, 100, 0, 0]
    s = accessibility_summary(t)
    assert s.loc["no_car", "covered_300m_share"] == pytest.approx(175 / 325)
    t2 = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks,
                             drt_areas=[late])
    assert t2["drt_share"].sum() == 0


def test_disc_points_and_geometry_parsing(zones):
    pts = resident_points(zones, mode="disc", n=19)
    assert pts.groupby("zone_pos")["weight"].sum().tolist() == pytest.approx([1.0] * 4)
    r_km = math.sqrt(0.01 / math.pi)  # disc of 0.01 km2
    z0 = pts[pts["zone_pos"] == 0]
    d_km = np.hypot((z0["lat"] - zones["lat"][0]) * 111.195,
                    (z0["lon"] - zones["lon"][0]) * 111.195 * math.cos(math.radians(42.64)))
    assert d_km.max() <= r_km * 1.001 and len(z0) == 19
    pd.testing.assert_frame_equal(pts, resident_points(zones, mode="disc", n=19))  # deterministic
    g1 = area_geometry([(42.6, 141.6), (42.6, 141.7), (42.7, 141.7)])
    g2 = area_geometry({"type": "Polygon", "coordinates": [[[141.6, 42.6], [141.7, 42.6],
                                                            [141.7, 42.7], [141.6, 42.6]]]})
    assert g1.equals(g2) and g1.bounds == (141.6, 42.6, 141.7, 42.7)
    with pytest.raises(ValueError, match="not an area"):
        area_geometry({"type": "Point", "coordinates": [141.6, 42.6]})
    assert DrtArea(g1).active_during(0, 10)


def test_compare_scenarios(world, zones, grid, landmarks):
    _, walk, node = grid
    base = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks)
    lat, lon = node[14]
    box = [(lat - 0.001, lon - 0.001), (lat - 0.001, lon + 0.001), (lat + 0.001, lon + 0.001),
           (lat + 0.001, lon - 0.001)]
    drt = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks,
                              drt_areas=[drt_area(box)])
    cmp = compare_accessibility({"today": base, "with_drt": drt})
    row = cmp[(cmp.scenario == "with_drt") & (cmp.band == "all")
              & (cmp.metric == "covered_300m_share")].iloc[0]
    assert row["baseline_value"] == pytest.approx(0.2) and row["delta"] == pytest.approx(0.2)
    assert set(cmp["scenario"]) == {"today", "with_drt"}
    z = compare_zones({"today": base, "with_drt": drt}, "covered_300m_share")
    assert z["delta_with_drt"].tolist() == [0, 0, 1, 0]
    with pytest.raises(ValueError, match="baseline"):
        compare_accessibility({"a": base}, baseline="b")


def test_config_validation():
    with pytest.raises(ValidationError):
        AccessConfig(departure_times=["9h"])
    with pytest.raises(ValidationError):
        AccessConfig(walk_thresholds_m=[-1])
    with pytest.raises(ValidationError, match="extra"):
        AccessConfig(radius=3)
    assert AccessConfig(walk_thresholds_m=[500, 300]).walk_thresholds_m == [300, 500]


def test_unknown_destination(world, zones, grid, landmarks):
    with pytest.raises(ValueError, match="unknown destination landmark"):
        accessibility_table(world, zones, grid[1], config=AccessConfig(destinations=["moon"]),
                            landmarks=landmarks)


def test_embedded_defaults_have_the_four_destinations():
    from tomakomai_maas.metrics.access import DEFAULT_DESTINATIONS
    from tomakomai_maas.network import load_landmarks

    keys = set(load_landmarks()["key"])
    assert set(DEFAULT_DESTINATIONS) <= keys


# --------------------------------------------------------------- DRT of a World, scenarios
def test_stop_based_drt_needs_a_virtual_stop_within_its_walk_limit(world, zones, grid,
                                                                   landmarks):
    """Inside a stop-based DRT area a resident counts only if a virtual stop is within the
    service's walk limit (the rule that rejects requests as ``no_stop_in_reach``)."""
    _, walk, node = grid
    lat, lon = node[12]
    square = drt_area([(lat - 0.001, lon - 0.001), (lat - 0.001, lon + 0.001),
                       (lat + 0.001, lon + 0.001), (lat + 0.001, lon - 0.001)])

    def share(stop_node: int, max_walk: float, geometry=square.geometry) -> list[float]:
        area = DrtArea(geometry, "d", None, None, (node[stop_node],), max_walk)
        t = accessibility_table(world, zones, walk, config=CFG, landmarks=landmarks,
                                drt_areas=[area])
        return t["drt_share"].tolist()

    assert share(12, 50.0) == [0, 1, 0, 0]    # stop at Z2's centroid
    assert share(10, 150.0) == [0, 0, 0, 0]   # 200 m walk from Z2 > 150 m limit
    assert share(10, 250.0) == [0, 1, 0, 0]
    # no polygon = the whole network: only the walk limit decides (Z1 and Z3 are 200 m from
    # node 12; Z4 is not on the network)
    assert share(12, 250.0, geometry=None) == [1, 1, 1, 0]
    assert share(12, 150.0, geometry=None) == [0, 1, 0, 0]


def test_drt_area_of_the_shipped_stop_based_scenario():
    from tomakomai_maas.metrics.access import drt_areas_of_world
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "drt_station_area.yaml")
    (area,) = drt_areas_of_world(build(sc))
    corners = sc.drt.area
    assert len(area.virtual_stops) == len(sc.drt.virtual_stops.points)
    assert area.max_walk_m == sc.drt.virtual_stops.max_walk_m
    # the polygon is the scenario's (lat, lon) list turned into (lon, lat)
    assert [tuple(c) for c in area.geometry.exterior.coords][:-1] == [(b, a) for a, b in corners]
    assert (area.start_s, area.end_s) == (9.5 * H, 16 * H)


def test_scenario_settings_zones_file_and_switch(tmp_path, grid):
    from test_compare import write_cheap_scenario
    from tomakomai_maas.metrics.access import scenario_accessibility
    from tomakomai_maas.scenario.build import BuildContext, build
    from tomakomai_maas.scenario.load import load_scenario

    base = write_cheap_scenario(tmp_path)
    sub = tmp_path / "zones"
    sub.mkdir()
    (sub / "two.csv").write_text(  # 苫小牧駅 and 海の駅ぷらっとみなと市場 area (facts §1.2)
        "zone_id,name,lat,lon,area_km2,pop_total,pop_0_14,pop_15_64,pop_65p\n"
        "A,station,42.6398,141.5968,0.1,100,10,60,30\n"
        "B,far,42.70,141.50,0.1,50,5,30,15\n", encoding="utf-8")
    p = tmp_path / "with_zones.yaml"
    p.write_text(f"extends: {base.name}\nname: with_zones\naccessibility:\n"
                 "  zones_file: zones/two.csv\n  resident_points: centroid\n"
                 "  departure_times: ['10:00']\n", encoding="utf-8")
    sc = load_scenario(p)
    assert sc.accessibility.zones_file == (sub / "two.csv").resolve()
    ctx = BuildContext()
    w = build(sc, context=ctx)
    t = scenario_accessibility(sc, w, ctx.walk_oracle)
    assert t["zone_id"].tolist() == ["A", "B"]
    assert t["covered_500m_share"].tolist() == [1.0, 0.0]  # 苫小牧駅前 is a trial stop
    # without a car = in a household without one: default (assumed) household car shares
    # 0.85, 0.85, 0.70 by band -> 10 x 0.15 + 60 x 0.15 + 30 x 0.30 = 19.5 in zone A
    assert t["pop_no_car"].tolist() == pytest.approx([19.5, 9.75])
    assert t["covered_500m_pop_no_car"].tolist() == pytest.approx([19.5, 0.0])
    off = load_scenario(p, ["accessibility.enabled=false"])
    assert scenario_accessibility(off, w, ctx.walk_oracle) is None
    from tomakomai_maas.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        load_scenario(p, ["accessibility.departure_times=['9h']"])
    assert "accessibility.departure_times" in str(err.value.problems) and "HH:MM" in str(
        err.value.problems)


def test_bad_accessibility_settings_fail_at_validation(tmp_path):
    """Found by validate/build (before any simulation), naming the field and the choices."""
    from test_compare import write_cheap_scenario
    from tomakomai_maas.errors import ScenarioError
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    base = write_cheap_scenario(tmp_path)
    sc = load_scenario(base, ["accessibility.destinations=[city_hospital, aeon]",
                              "accessibility.zones_file=missing.csv"])
    with pytest.raises(ScenarioError) as err:
        build(sc)
    text = "\n".join(err.value.problems)
    assert "accessibility.destinations[1]: unknown landmark 'aeon'" in text
    assert "did you mean 'aeon_mall'" in text and "allowed:" in text
    assert "accessibility.zones_file" in text and "missing.csv" in text
    build(load_scenario(base, ["accessibility.enabled=false",
                               "accessibility.destinations=[aeon]"]))  # off: not checked
