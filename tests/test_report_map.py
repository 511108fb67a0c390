"""The comparison map: lines along their road paths, DRT service areas and virtual stops."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

import test_drt_fixtures as fx  # noqa: E402
from test_compare import write_cheap_scenario  # noqa: E402
from tomakomai_maas.drt_world import VirtualStop  # noqa: E402
from tomakomai_maas.metrics import compare as mc  # noqa: E402
from tomakomai_maas.report import plots  # noqa: E402
from tomakomai_maas.report.comparison import comparison_figures  # noqa: E402
from tomakomai_maas.report.map_layers import (  # noqa: E402
    DrtMapData,
    drt_map_data,
    routed_line_patterns,
)
from tomakomai_maas.scenario.load import load_scenario  # noqa: E402
from tomakomai_maas.world import Stop, TripSchedule, VehicleType, World  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STATION = ROOT / "scenarios" / "drt_station_area.yaml"


@pytest.fixture(autouse=True)
def _missing_glyphs_are_errors():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        yield


def _render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=50)


def _haversine_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


# ---------------------------------------------------------------- a two-road toy network
# A (west) to C (east), two ways: north via B on a short 30 km/h street (2 x 600 m) or south
# via D on a long 80 km/h road (2 x 900 m). Fastest by car: south (81 s < 144 s); for a
# vehicle capped at 20 km/h: north (216 s < 324 s).
XY = {"A": (141.600, 42.630), "B": (141.605, 42.632), "C": (141.610, 42.630),
      "D": (141.605, 42.626)}


def _toy_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(source="toy")
    for n, (x, y) in XY.items():
        G.add_node(n, x=x, y=y)
    for u, v, length, kph in (("A", "B", 600.0, 30.0), ("B", "C", 600.0, 30.0),
                              ("A", "D", 900.0, 80.0), ("D", "C", 900.0, 80.0)):
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, length_m=length, road_speed_kph=kph, highway="residential")
    return G


def _toy_world(cap: float | None) -> World:
    nodes = list(XY)
    stops = {s: Stop(s, s, XY[s][1], XY[s][0], nodes.index(s)) for s in ("A", "C")}
    vt = VehicleType("bus", capacity=20, cruise_speed_kph=cap)
    trip = TripSchedule("t1", "r1", "Route 1", 0, "bus", ("A", "C"), (0.0, 300.0),
                        (0.0, 300.0), (True, True), (300.0,), (1800.0,))
    return World("toy", 0.0, 3600.0, stops, (trip,), {"bus": vt}, lambda rng: [])


@pytest.mark.parametrize(("cap", "via"), [(None, "D"), (20.0, "B")])
def test_line_follows_the_fastest_road_of_its_vehicle_type(cap, via) -> None:
    df = routed_line_patterns(_toy_world(cap), _toy_graph())
    pts = list(zip(df["lon"], df["lat"], strict=True))
    assert pts == [XY["A"], XY[via], XY["C"]]  # not the straight A-C segment
    assert df["stop_id"].tolist() == ["A", "", "C"]
    assert df["seq"].tolist() == [0, 1, 2]


def test_unreachable_leg_and_foreign_stop_are_drawn_straight() -> None:
    G = _toy_graph()
    G.remove_edges_from([("A", "B"), ("A", "D")])  # nothing leaves A
    df = routed_line_patterns(_toy_world(None), G)
    assert list(zip(df["lon"], df["lat"], strict=True)) == [XY["A"], XY["C"]]
    # a stop whose node is not where the World snapped it (another graph): its own position
    w = _toy_world(None)
    moved = dict(w.stops)
    moved["C"] = Stop("C", "C", 42.640, 141.620, node=2, snap_m=0.0)
    df = routed_line_patterns(World(w.name, 0.0, 3600.0, moved, w.trips, w.vehicle_types,
                                    w.sample_requests), _toy_graph())
    assert list(zip(df["lon"], df["lat"], strict=True)) == [XY["A"], (141.620, 42.640)]


def test_map_draws_the_drt_area_virtual_stops_and_depot() -> None:
    area = ((42.628, 141.598), (42.634, 141.598), (42.634, 141.612), (42.628, 141.612))
    drt = DrtMapData("on_demand", area,
                     pd.DataFrame({"stop_id": ["v1", "v2"], "name": ["駅前", "市場"],
                                   "lat": [42.631, 42.6305], "lon": [141.601, 141.609]}),
                     pd.DataFrame({"vehicle_id": ["car1"], "lat": [42.632], "lon": [141.6]}))
    lines = routed_line_patterns(_toy_world(None), _toy_graph())
    demand = pd.DataFrame({"stop_id": ["A", "C"], "name": ["A", "C"], "lat": [42.63, 42.63],
                           "lon": [141.60, 141.61], "boardings": [4.0, 2.0]})
    for lang in ("ja", "en"):
        fig, ax = plots.plot_scenario_map(_toy_graph(), lines, demand, lang=lang, drt=drt)
        polys = [p for p in ax.patches if isinstance(p, Polygon)]
        assert len(polys) == 1
        xy = polys[0].get_xy()[:4]  # (lon, lat), closed by matplotlib
        assert np.allclose(xy, [(lon, lat) for lat, lon in area])
        offsets = [c.get_offsets().tolist() for c in ax.collections
                   if isinstance(c, PathCollection)]
        assert [[141.601, 42.631], [141.609, 42.6305]] in offsets  # virtual stops
        assert [[141.6, 42.632]] in offsets  # depot
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        assert x0 < 141.598 and x1 > 141.612 and y0 < 42.626 and y1 > 42.634  # all in view
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any(lab.endswith(": on_demand") for lab in labels)
        route = [ln for ln in ax.get_lines() if ln.get_label() == "r1 Route 1"]
        assert list(route[0].get_xdata()) == [XY[s][0] for s in "ADC"]
        _render(fig)


def test_drt_map_data_reads_the_service() -> None:
    assert drt_map_data(None) is None
    tt = fx.line_tt(5)
    vs = (VirtualStop("p1", "駅前", 42.63, 141.60, 1), VirtualStop("p2", "市場", 42.62, 141.61, 3))
    v1 = fx.DrtVehicle("a", fx.CAR, 4, 0, 0.0, 3600.0, 42.64, 141.59)
    v2 = fx.DrtVehicle("b", fx.CAR, 4, 0, 3600.0, 7200.0, 42.64, 141.59)  # same depot
    svc = fx.service(tt, [v1, v2], area=((42.6, 141.5), (42.7, 141.5), (42.7, 141.7)),
                     virtual_stops=vs, mode="stop_based")
    d = drt_map_data(fx.drt_world(svc))
    assert d.name == "test" and d.area == ((42.6, 141.5), (42.7, 141.5), (42.7, 141.7))
    assert d.stops[["stop_id", "lat", "lon"]].values.tolist() == [["p1", 42.63, 141.60],
                                                                  ["p2", 42.62, 141.61]]
    assert d.depots[["lat", "lon"]].values.tolist() == [[42.64, 141.59]]
    whole = drt_map_data(fx.drt_world(fx.service(tt, [fx.vehicle()])))
    assert whole.area is None and whole.stops.empty and whole.depots.empty  # no position


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("map")
    line = load_scenario(write_cheap_scenario(tmp), ['service.end_time="11:00"'])
    drt = load_scenario(STATION, ['service.end_time="11:00"'])
    comp = mc.compare([line, drt], replications=1, workers=1)
    figs = {name: fig for name, _, fig in comparison_figures(comp, lang="en")}
    return {"comp": comp, "figs": figs}


def test_comparison_map_lines_are_as_long_as_the_simulated_legs(figures) -> None:
    world = figures["comp"].results[0].world
    ax = figures["figs"]["map_av_line_test"].axes[0]
    drawn = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label().startswith("av2023")}
    assert len(drawn) == 1
    (ln,) = drawn.values()
    x, y = ln.get_xdata(), ln.get_ydata()
    length = sum(_haversine_m(y[i], x[i], y[i + 1], x[i + 1]) for i in range(len(x) - 1))
    trips = [t for t in world.trips if t.route_id == "av2023" and t.direction_id == 0]
    # the line is the road path the simulated bus drove: its length is the legs' road distance
    assert length == pytest.approx(sum(trips[0].leg_dist_m), rel=1e-3)
    assert len(x) > len(trips[0].stop_ids)  # bends between stops, not one segment per leg


def test_comparison_map_of_a_drt_scenario_shows_its_area(figures) -> None:
    world = figures["comp"].results[1].world
    ax = figures["figs"]["map_drt_station_area"].axes[0]
    (poly,) = [p for p in ax.patches if isinstance(p, Polygon)]
    assert np.allclose(poly.get_xy()[:len(world.drt.area)],
                       [(lon, lat) for lat, lon in world.drt.area])
    stops = [c.get_offsets().tolist() for c in ax.collections if isinstance(c, PathCollection)]
    assert [[v.lon, v.lat] for v in world.drt.virtual_stops] in stops
    _render(figures["figs"]["map_drt_station_area"])
