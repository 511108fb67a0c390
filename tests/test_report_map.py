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
import shapely  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

import test_drt_fixtures as fx  # noqa: E402
from test_compare import write_cheap_scenario  # noqa: E402
from tomakomai_maas.demand.zones import local_xy_km  # noqa: E402
from tomakomai_maas.drt_world import VirtualStop  # noqa: E402
from tomakomai_maas.metrics import compare as mc  # noqa: E402
from tomakomai_maas.report import plots  # noqa: E402
from tomakomai_maas.report.comparison import comparison_figures  # noqa: E402
from tomakomai_maas.report.map_layers import (  # noqa: E402
    DrtMapData,
    drt_map_data,
    offset_polyline,
    routed_line_patterns,
    size_legend_values,
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


def _xy_m(lon, lat, origin=None) -> shapely.LineString:
    """A polyline in local metres (equirectangular about the origin points' mean)."""
    olon, olat = (lon, lat) if origin is None else origin
    lat0, lon0 = float(np.mean(olat)), float(np.mean(olon))
    x, y = local_xy_km(np.asarray(lat, float), np.asarray(lon, float), lat0, lon0)
    return shapely.LineString(np.column_stack([x, y]) * 1000.0)


def _graph_of(result):
    from tomakomai_maas.network import load_network

    return load_network(result.scenario.network.source)


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
        fig, ax = plots.plot_scenario_map(_toy_graph(), lines, demand, lang=lang, drt=drt,
                                          direction_offset_m=0.0)
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
        route = [ln for ln in ax.get_lines() if ln.get_label() == "Route 1"]
        assert list(route[0].get_xdata()) == [XY[s][0] for s in "ADC"]  # no offset asked
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
    comp = figures["comp"]
    world = comp.results[0].world
    G = _graph_of(comp.results[0])
    table = routed_line_patterns(world, G, speed_factor=comp.results[0].scenario.network
                                 .speed_factor)
    d0 = table[(table["route_id"] == "av2023") & (table["direction_id"] == 0)]
    x, y = d0["lon"].to_numpy(), d0["lat"].to_numpy()
    length = sum(_haversine_m(y[i], x[i], y[i + 1], x[i + 1]) for i in range(len(x) - 1))
    trips = [t for t in world.trips if t.route_id == "av2023" and t.direction_id == 0]
    # the line is the road path the simulated bus drove: its length is the legs' road distance
    assert length == pytest.approx(sum(trips[0].leg_dist_m), rel=1e-3)
    assert len(x) > len(trips[0].stop_ids)  # bends between stops, not one segment per leg
    # drawn: each direction beside that path, a few pixels to its left (keep-left traffic)
    ax = figures["figs"]["map_av_line_test"].axes[0]
    name = trips[0].route_name  # the legend names the route (its only route: no id needed)
    (ln,) = [ln for ln in ax.get_lines() if ln.get_label() == name]  # direction 0 is labelled
    width_m = _haversine_m(42.64, ax.get_xlim()[0], 42.64, ax.get_xlim()[1])
    line = _xy_m(x, y)
    drawn = _xy_m(ln.get_xdata(), ln.get_ydata(), origin=(x, y))
    dist = [line.distance(shapely.Point(p)) for p in drawn.coords]
    assert 0.001 * width_m < np.median(dist) < 0.01 * width_m  # a few pixels
    first = np.subtract(drawn.coords[0], line.coords[0])
    heading = np.subtract(line.coords[1], line.coords[0])
    assert heading[0] * first[1] - heading[1] * first[0] > 0  # left of the travel direction


def test_comparison_map_of_a_drt_scenario_shows_its_area(figures) -> None:
    world = figures["comp"].results[1].world
    ax = figures["figs"]["map_drt_station_area"].axes[0]
    (poly,) = [p for p in ax.patches if isinstance(p, Polygon)]
    assert np.allclose(poly.get_xy()[:len(world.drt.area)],
                       [(lon, lat) for lat, lon in world.drt.area])
    colls = [c for c in ax.collections if isinstance(c, PathCollection)]
    (squares,) = [c for c in colls
                  if c.get_offsets().tolist() == [[v.lon, v.lat] for v in world.drt.virtual_stops]]
    # squares sized by the run's DRT boardings per virtual stop, on the bus stops' scale
    comp = figures["comp"]
    res = comp.results[1]
    drt_b = mc.drt_stop_boardings(res.tables["drt_requests"], world,
                                  replications=comp.replications)["boardings"].to_numpy()
    bus_b = mc.stop_boardings(res.tables["stops"], world,
                              replications=comp.replications)["boardings"].to_numpy()
    top = max(drt_b.max(), bus_b.max() if bus_b.size else 0.0)
    assert drt_b.sum() > 0
    sized = drt_b > 0
    assert squares.get_sizes()[sized] == pytest.approx(400 * drt_b[sized] / top)
    names = [t.get_text() for t in ax.texts if t.get_gid() == "drt_stop_label"]
    assert names == [v.name for v in world.drt.virtual_stops]  # few points: all named
    _render(figures["figs"]["map_drt_station_area"])


# ---------------------------------------------------------------- the two directions
def _local(lon, lat, lon_ref, lat_ref) -> np.ndarray:
    """Points in metres on the projection offset_polyline uses (about the input's mean)."""
    x, y = local_xy_km(np.asarray(lat, float), np.asarray(lon, float), float(np.mean(lat_ref)),
                       float(np.mean(lon_ref)))
    return np.column_stack([x, y]) * 1000.0


def _polyline(lat0: float, lon0: float, steps: list[tuple[float, float]]):
    """lon/lat of a walk from (lat0, lon0): each step = (turn in degrees, length in m)."""
    from tomakomai_maas.demand.zones import offset_latlon

    x = y = 0.0
    heading = 0.0
    pts = [(0.0, 0.0)]
    for turn, length in steps:
        heading += math.radians(turn)
        x += length * math.cos(heading)
        y += length * math.sin(heading)
        pts.append((x, y))
    lat, lon = zip(*(offset_latlon(lat0, lon0, px / 1000, py / 1000) for px, py in pts),
                   strict=True)
    return np.asarray(lon), np.asarray(lat)


@settings(max_examples=40)
@given(steps=st.lists(st.tuples(st.floats(-120, 120), st.floats(50, 500)), min_size=1,
                      max_size=8),
       d=st.floats(1.0, 10.0), start=st.floats(-180, 180))
def test_offset_segments_are_parallel_at_the_set_distance_on_the_left(steps, d, start):
    steps = [(start, steps[0][1]), *steps[1:]]
    lon, lat = _polyline(42.64, 141.60, steps)
    olon, olat = offset_polyline(lon, lat, d)
    p, q = _local(lon, lat, lon, lat), _local(olon, olat, lon, lat)
    assert len(q) == len(p)  # turns up to 120 degrees: mitred, one point per vertex
    for k in range(len(p) - 1):
        t = (p[k + 1] - p[k]) / np.linalg.norm(p[k + 1] - p[k])
        u = q[k + 1] - q[k]
        assert abs(t[0] * u[1] - t[1] * u[0]) == pytest.approx(0, abs=1e-6 * max(1, d))
        assert float(np.dot(t, u)) > 0  # same direction (segments long against the offset)
        for end in (q[k], q[k + 1]):  # signed distance from the segment's line: +d (left)
            assert t[0] * (end - p[k])[1] - t[1] * (end - p[k])[0] == pytest.approx(d, abs=1e-6)


def test_offset_of_a_u_turn_keeps_both_legs_at_the_distance() -> None:
    lon, lat = _polyline(42.64, 141.60, [(0, 300), (180, 300)])  # east, then back west
    olon, olat = offset_polyline(lon, lat, 8.0)
    q = _local(olon, olat, lon, lat)
    p = _local(lon, lat, lon, lat)
    # bevel: out 300 m at y = +8 (left of east), back at y = -8 (left of west)
    assert q[:, 1] == pytest.approx([8, 8, -8, -8], abs=1e-6)
    assert q[:, 0] == pytest.approx([p[0, 0], p[1, 0], p[1, 0], p[2, 0]], abs=1e-6)
    # nothing to offset: one point, or no offset
    assert offset_polyline([141.6, 141.6], [42.6, 42.6], 5.0)[0].tolist() == [141.6]
    assert offset_polyline(lon, lat, 0.0)[0].tolist() == lon.tolist()


def test_map_draws_each_direction_on_its_left_side() -> None:
    w = _toy_world(None)
    back = TripSchedule("t2", "r1", "Route 1", 1, "bus", ("C", "A"), (0.0, 300.0),
                        (0.0, 300.0), (True, True), (300.0,), (1800.0,))
    world = World("toy", 0.0, 3600.0, w.stops, (*w.trips, back), w.vehicle_types,
                  lambda rng: [])
    lines = routed_line_patterns(world, _toy_graph())
    demand = pd.DataFrame(columns=["stop_id", "name", "lat", "lon", "boardings"])
    fig, ax = plots.plot_scenario_map(_toy_graph(), lines, demand, lang="en",
                                      direction_offset_m=12.0)
    drawn = [ln for ln in ax.get_lines() if ln.get_color() == plots._PALETTE[0]]
    assert len(drawn) == 2
    for ln, d in zip(drawn, (0, 1), strict=True):  # drawn = the table's path moved 12 m left
        df = lines[lines["direction_id"] == d]
        lo, la = offset_polyline(df["lon"], df["lat"], 12.0)
        assert ln.get_xdata() == pytest.approx(lo) and ln.get_ydata() == pytest.approx(la)
    # both directions use the same road (A-D-C): drawn 2 x 12 m apart, one per side
    origin = (lines["lon"], lines["lat"])
    road = _xy_m(lines["lon"][lines["direction_id"] == 0],
                 lines["lat"][lines["direction_id"] == 0], origin=origin)
    a, b = (_xy_m(ln.get_xdata(), ln.get_ydata(), origin=origin) for ln in drawn)
    mid_a = a.interpolate(0.5, normalized=True)
    assert road.distance(mid_a) == pytest.approx(12.0, rel=0.02)
    assert b.distance(mid_a) == pytest.approx(24.0, rel=0.02)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.count("Route 1") == 1  # one entry per route, by its name
    assert len([c for c in ax.texts if c.get_gid() == "direction_arrow"]) == 4  # 2 per direction
    _render(fig)


# ---------------------------------------------------------------- DRT points and sizes
def _drt(n: int, boardings: list[float] | None = None) -> DrtMapData:
    stops = pd.DataFrame({"stop_id": [f"v{i}" for i in range(n)],
                          "name": [f"乗降地点{i}" for i in range(n)],
                          "lat": [42.629 + 0.0004 * i for i in range(n)],
                          "lon": [141.601 + 0.0006 * i for i in range(n)]})
    if boardings is not None:
        stops["boardings"] = boardings
    return DrtMapData("on_demand", None, stops, pd.DataFrame(columns=["vehicle_id", "lat", "lon"]))


def _bus_demand(b: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"stop_id": ["A", "C"], "name": ["A", "C"], "lat": [42.63, 42.63],
                         "lon": [141.60, 141.61], "boardings": b})


def test_virtual_stops_are_labelled_only_when_few() -> None:
    lines = routed_line_patterns(_toy_world(None), _toy_graph())
    fig, ax = plots.plot_scenario_map(_toy_graph(), lines, _bus_demand([4.0, 2.0]),
                                      drt=_drt(3), max_stop_labels=3)
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "drt_stop_label"]
    assert labels == ["乗降地点0", "乗降地点1", "乗降地点2"]
    _render(fig)
    fig, ax = plots.plot_scenario_map(_toy_graph(), lines, _bus_demand([4.0, 2.0]),
                                      drt=_drt(4), max_stop_labels=3)
    assert not [t for t in ax.texts if t.get_gid() == "drt_stop_label"]  # too many: clutter


def test_drt_points_and_bus_stops_share_one_size_scale_and_the_size_legend() -> None:
    lines = routed_line_patterns(_toy_world(None), _toy_graph())
    fig, ax = plots.plot_scenario_map(_toy_graph(), lines, _bus_demand([8.0, 2.0]),
                                      drt=_drt(2, [4.0, 0.0]), max_marker_size=400)
    colls = {tuple(map(tuple, c.get_offsets().tolist())): c for c in ax.collections
             if isinstance(c, PathCollection)}
    squares = colls[((141.601, 42.629), (141.6016, 42.6294))]
    circles = colls[((141.60, 42.63), (141.61, 42.63))]
    # the busiest point (a bus stop, 8/day) gets 400 pt²; 4/day -> 200; 2/day -> 100
    assert circles.get_sizes().tolist() == pytest.approx([400, 100])
    assert squares.get_sizes()[0] == pytest.approx(200)
    assert squares.get_sizes()[1] < 100  # no boardings: a small marker
    # the size legend: round values below the maximum 8 -> 5, 2 (8/3 = 2.7), 0.5 (8/10)
    (size_legend,) = [a for a in ax.artists if a is not ax.get_legend()]
    assert [t.get_text() for t in size_legend.get_texts()] == ["5", "2", "0.5"]
    # legend marker size is a diameter in points: its square is the scatter's area
    sizes = [h.get_markersize() ** 2 for h in size_legend.legend_handles]
    assert sizes == pytest.approx([400 * 5 / 8, 400 * 2 / 8, 400 * 0.5 / 8])
    _render(fig)


def test_size_legend_values_are_round_and_below_the_maximum() -> None:
    assert size_legend_values(164) == [100, 50, 10]
    assert size_legend_values(10) == [10, 2, 1]
    assert size_legend_values(0.7) == [0.5, 0.2, 0.05]
    assert size_legend_values(0) == [] and size_legend_values(float("nan")) == []


def test_drt_stop_boardings_count_served_passengers_per_day() -> None:
    tt = fx.line_tt(5)
    vs = (VirtualStop("p1", "駅前", 42.63, 141.60, 1), VirtualStop("p2", "市場", 42.62, 141.61, 3),
          VirtualStop("p3", "公園", 42.61, 141.62, 4))
    svc = fx.service(tt, [fx.vehicle()], virtual_stops=vs, mode="stop_based")
    world = fx.drt_world(svc)
    req = pd.DataFrame({"replication": [0, 0, 0, 1, 1],
                        "o_stop": ["p1", "p1", "p2", "p1", "n7"],
                        "d_stop": ["p2", "p2", "p1", "p3", "p1"],
                        "status": ["served", "rejected", "served", "served", "served"],
                        "n_pax": [2, 5, 1, 1, 3]})
    got = mc.drt_stop_boardings(req, world, replications=2).set_index("stop_id")
    # p1: 2 (rep 0) + 1 (rep 1) served passengers over 2 days; the rejected 5 do not count
    assert got.loc["p1", "boardings"] == pytest.approx(1.5)
    assert got.loc["p2", "boardings"] == pytest.approx(0.5)
    assert got.loc["p3", "boardings"] == 0.0
    assert got.loc["p1", "alightings"] == pytest.approx(2.0)  # 1 + 3 (door-to-door origin)
    assert got.loc["p2", "alightings"] == pytest.approx(1.0)
    d = drt_map_data(world, got.reset_index())
    assert d.stops["boardings"].tolist() == pytest.approx([1.5, 0.5, 0.0])
    none = mc.drt_stop_boardings(None, fx.drt_world(fx.service(tt, [fx.vehicle()])))
    assert none.empty  # door-to-door service: no named pick-up points
