"""One fare model: the fare a traveller sees in mode choice is the fare the operator books.

The shipped feeds (gtfs/*) are put into one hand-built timetable; for every pair of stops
of each choice mode (bus / av_bus) and a few departure times the mode-choice skim
(:func:`~tomakomai_maas.demand.los.skim_pt`) prices the planned itinerary, and the cost
model (:func:`~tomakomai_maas.metrics.cost.cost_kpis`, before concessions and MaaS
discounts: adult riders, default FareConfig) books revenue for exactly those rides. Both
must agree ride for ride, and on a few fares written out from the feeds' fare tables.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simworlds import make_world
from tomakomai_maas.demand.los import PtSupply, skim_pt
from tomakomai_maas.metrics.cost import CostConfig, FareConfig, _ride_fares, cost_kpis
from tomakomai_maas.supply.fares import (
    FareRide,
    FareRule,
    FareTable,
    fare_ride,
    fare_table_from_feeds,
    stops_ridden,
)
from tomakomai_maas.supply.gtfs import read_feed
from tomakomai_maas.supply.lines import schedules_from_feed
from tomakomai_maas.world import Access, JourneyParams, Request, Stop, VehicleType

REPO = Path(__file__).resolve().parents[1]
#: every shipped feed, each on a day it runs (times are seconds since midnight, so trips of
#: different days can share one test timetable)
FEED_DAYS = {
    "donan_city_subset": "2025-06-04",
    "tomakomai_av_trial_2023": "2023-09-20",
    "tomakomai_av_winter_2024": "2024-12-05",
    "mirai_fest_2023": "2023-09-02",
}
BUS = VehicleType("bus", capacity=60, powertrain="diesel", automation_level=0)
AV = VehicleType("av", capacity=10, powertrain="ev", automation_level=2)
DEPARTURES = (7.5 * 3600, 10.25 * 3600, 13.6 * 3600)


@lru_cache(maxsize=1)
def _shipped():
    feeds = {n: read_feed(REPO / "gtfs" / n) for n in FEED_DAYS}
    stops: dict[str, Stop] = {}
    for f in feeds.values():
        for r in f.stops.itertuples(index=False):
            stops[str(r.stop_id)] = Stop(str(r.stop_id), str(r.stop_name), float(r.stop_lat),
                                         float(r.stop_lon), len(stops))
    trips = []
    for name, f in feeds.items():
        trips.extend(schedules_from_feed(
            f, service_date=FEED_DAYS[name], stops=stops, leg=lambda a, b, vt: (60.0, 400.0),
            default_vehicle_type="bus" if name.startswith("donan") else "av"))
    # stops at the same point (e.g. 苫小牧駅前 of every feed) are a 1-minute transfer walk
    transfers: dict[str, tuple[Access, ...]] = {}
    for a in stops.values():
        near = tuple(Access(b.stop_id, 60.0, 0.0) for b in stops.values()
                     if b.stop_id != a.stop_id and (b.lat, b.lon) == (a.lat, a.lon))
        if near:
            transfers[a.stop_id] = near
    vtypes = {"bus": BUS, "av": AV}
    trips = tuple(sorted(trips, key=lambda t: (t.dep_s[0], t.trip_id)))
    world = make_world(trips, stops=stops, vehicle_types=vtypes, transfers=transfers)
    table = FareConfig().apply_to(fare_table_from_feeds(feeds))
    supply = PtSupply(stops=dict(sorted(stops.items())), trips=trips, vehicle_types=vtypes,
                      transfers=transfers, journey=JourneyParams(max_walk_m=1000.0),
                      fares=table)
    return world, supply, table


def _skim_all_pairs(supply: PtSupply, mode: str, depart_s: float):
    """Skim every ordered pair of the mode's stops; returns (pairs, skim)."""
    ids = supply.stop_ids
    cols = supply.mode_columns(mode)
    pairs = [(o, d) for o in cols for d in cols if o != d]
    n = len(pairs)
    dist_o = np.full((n, len(ids)), np.inf)
    dist_d = np.full((n, len(ids)), np.inf)
    for i, (o, d) in enumerate(pairs):
        dist_o[i, o] = 0.0
        dist_d[i, d] = 0.0
    sk = skim_pt(supply, mode, trip_ids=[f"q{i}" for i in range(n)],
                 depart_s=np.full(n, depart_s), dist_o=dist_o, dist_d=dist_d,
                 direct_walk_m=np.full(n, 1e9), u_margin=np.full(n, 0.5),
                 timetable_headway_s=900.0, arrival_margin_s=300.0)
    return [(ids[o], ids[d]) for o, d in pairs], sk


def _ride_legs(supply: PtSupply, mode: str, pairs, depart_s: float, available) -> pd.DataFrame:
    """The rides of each available itinerary as rows of the simulator's ``legs`` table
    (the same request the skim planned: zero-length walks to/from the two stops)."""
    rows = []
    for i, ((o, d), ok) in enumerate(zip(pairs, available, strict=True)):
        if not ok:
            continue
        req = Request(request_id=f"q{i}", depart_s=depart_s, o_lat=0.0, o_lon=0.0, d_lat=0.0,
                      d_lon=0.0, access=(Access(o, 0.0, 0.0),), egress=(Access(d, 0.0, 0.0),))
        itin = supply.planner(mode).plan(req)
        for k, leg in enumerate(itin.rides):
            rows.append({"request_id": f"q{i}", "leg_index": k, "kind": "ride",
                         "route_id": leg.route_id, "trip_id": leg.trip_id,
                         "from_stop": leg.from_stop, "to_stop": leg.to_stop,
                         "board_s": leg.start_s})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("mode", ["bus", "av_bus"])
def test_los_fare_equals_booked_revenue_on_the_shipped_feeds(mode: str) -> None:
    world, supply, table = _shipped()
    n_itins = n_multi = 0
    for dep in DEPARTURES:
        pairs, sk = _skim_all_pairs(supply, mode, dep)
        legs = _ride_legs(supply, mode, pairs, dep, sk.available)
        if legs.empty:
            continue
        trips = pd.DataFrame({"request_id": sorted(set(legs["request_id"])),
                              "pax_class": "adult", "n_rides": 1})
        booked = _ride_fares({"legs": legs, "trips": trips}, world, CostConfig().fares, table)
        per_request = booked.groupby("request_id")["fare_yen"].sum()
        for i in np.flatnonzero(sk.available):
            assert per_request[f"q{i}"] == pytest.approx(sk.fare_yen[i]), (mode, dep, pairs[i])
        # the public KPI is the sum of those bookings
        k = cost_kpis({"legs": legs, "trips": trips}, world, CostConfig(), fares=table)
        assert k["revenue_fare_yen"] == pytest.approx(float(sk.fare_yen[sk.available].sum()))
        n_itins += int(sk.available.sum())
        n_multi += int((legs.groupby("request_id").size() > 1).sum())
    assert n_itins > 20  # the comparison covered real itineraries
    if mode == "bus":
        assert n_multi > 0  # ... including journeys with a transfer (route 15 <-> 25)


def test_fares_written_out_from_the_feeds() -> None:
    """Independent of the code: the numbers of gtfs/*/fare_attributes.txt and fare_rules.txt."""
    world, supply, table = _shipped()
    zone = dict(table.stop_zones)
    z1 = next(s for s, z in sorted(zone.items()) if z == "Z1")
    z4 = next(s for s, z in sorted(zone.items()) if z == "Z4")
    assert table.ride_yen("donan_25", z1, z4) == 360.0  # donan_4zone
    assert table.ride_yen("donan_25", z1, z1) == 230.0  # donan_1zone
    assert table.ride_yen("donan_15", "donan_ekimae", "donan_motomachi_1") == 230.0
    assert table.ride_yen("av2023", "av23_01", "av23_07") == 0.0  # the trial was free
    assert table.ride_yen("av2024w", "av24_01", "av24_02") == 0.0
    assert table.ride_yen("mf2023", "mf23_park", "mf23_parking") == 0.0
    # transfers = 0 on 道南バス: a 15 -> 25 journey pays both rides
    j = table.journey_fares([FareRide("donan_15", "donan_ekimae", "donan_motomachi_1", 0.0),
                             FareRide("donan_25", z1, z4, 600.0)])
    assert [f.yen for f in j] == [230.0, 360.0]


def test_one_fare_for_routes_without_fare_data() -> None:
    """A route no fare matches costs cost.fares.flat_fare_yen, in both consumers."""
    table = FareConfig(flat_fare_yen=250.0).apply_to(FareTable())
    assert table.ride_yen("no_feed_route", "a", "b") == 250.0
    assert table.journey_fares([FareRide("r", "a", "b")])[0].source == "default"
    # the cost model gives non-timetabled routes (no DRT service) the DRT fare instead
    assert table.ride_fare(FareRide("x", "a", "b", default_yen=500.0)).yen == 500.0


def test_overrides_come_first() -> None:
    base = FareTable(prices_yen={"f": 300.0}, rules=(FareRule("f", route_id="R"),))
    t = base.configured(free_routes=["R"])
    assert t.ride_fare(FareRide("R", "a", "b")).source == "free_route"
    t = base.configured(route_fares_yen={"R": 120.0})
    assert t.ride_yen("R", "a", "b") == 120.0
    t = base.configured(use_feed_fares=False, default_yen=99.0)
    assert t.ride_yen("R", "a", "b") == 99.0


def test_contains_zones_from_the_trip_ridden() -> None:
    t = FareTable(prices_yen={"via": 250.0, "flat": 400.0},
                  rules=(FareRule("via", "R", contains_id="A"), FareRule("via", "R", contains_id="B"),
                         FareRule("flat", "R")),
                  stop_zones={"s1": "A", "s2": "B", "s3": "C"})
    seq = ("s1", "s2", "s3")
    assert stops_ridden(seq, "s1", "s2") == ("s1", "s2")
    assert stops_ridden(seq, "s2", "s1") == ("s2",)  # alighting stop not ahead
    assert stops_ridden(seq, "x", "s1") is None
    assert t.ride_fare(fare_ride("R", "s1", "s2", 0.0, seq)).yen == 250.0  # passes A, B
    assert t.ride_fare(fare_ride("R", "s1", "s3", 0.0, seq)).yen == 400.0  # also C


@given(st.lists(st.tuples(st.sampled_from(["R", "S"]), st.integers(0, 7200)), min_size=1,
                max_size=8),
       st.one_of(st.none(), st.integers(0, 3)), st.one_of(st.none(), st.integers(60, 3600)))
def test_transfer_rules_invariants(rides, transfers, duration) -> None:
    """Free rides use the ticket of the same fare, within its duration and transfer count."""
    t = FareTable(prices_yen={"f": 200.0, "g": 300.0},
                  rules=(FareRule("f", route_id="R"), FareRule("g", route_id="S")),
                  transfers={"f": transfers, "g": transfers},
                  transfer_duration_s={"f": duration, "g": duration})
    rides = sorted(rides, key=lambda r: r[1])
    seq = [FareRide(r, "a", "b", float(tm)) for r, tm in rides]
    got = t.journey_fares(seq)
    assert len(got) == len(seq)
    ticket_start = None
    used = 0
    for ride, f in zip(seq, got, strict=True):
        full = 200.0 if ride.route_id == "R" else 300.0
        if f.source == "transfer":
            assert f.yen == 0.0 and ticket_start is not None
            assert f.fare_id == ticket_start[0]
            assert duration is None or ride.board_s - ticket_start[1] <= duration
            used += 1
            assert transfers is None or used <= transfers
        else:
            assert f.yen == full
            ticket_start, used = (f.fare_id, ride.board_s), 0
    # never more than the rides on their own; no transfers allowed -> exactly that
    single = sum(t.ride_fare(r).yen for r in seq)
    assert t.journey_yen(seq) <= single
    if transfers == 0:
        assert t.journey_yen(seq) == single
    off = t.configured(apply_transfers=False)
    assert off.journey_yen(seq) == single


def test_scenario_builds_one_table_for_choice_and_revenue() -> None:
    from tomakomai_maas.scenario.build import BuildContext, build
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(REPO / "scenarios" / "station_buses_today.yaml",
                       ["service.start_time=07:00", "service.end_time=08:00",
                        "cost.fares.flat_fare_yen=250"])
    ctx = BuildContext()
    world = build(sc, context=ctx)
    gen = [p for p in world.sample_requests.parts if hasattr(p, "supply")]
    assert gen and gen[0].supply.fares is world.extras["fare_table"]
    assert world.extras["fare_table"].default_yen == 250.0
    assert math.isclose(world.extras["fare_table"].ride_yen("donan_15", "donan_ekimae",
                                                            "donan_motomachi_1"), 230.0)


def test_old_maas_default_fare_key_is_checked() -> None:
    from tomakomai_maas.errors import ScenarioError
    from tomakomai_maas.scenario.load import load_scenario

    path = REPO / "scenarios" / "station_buses_today.yaml"
    with pytest.raises(ScenarioError, match="cost.fares.flat_fare_yen"):
        load_scenario(path, ["maas.default_fare_yen=250"])
    # equal values, or both given (a resolved dump), load
    load_scenario(path, ["maas.default_fare_yen=230"])
    load_scenario(path, ["maas.default_fare_yen=250", "cost.fares.flat_fare_yen=260"])


def test_drt_rides_pay_the_service_fare_the_skim_shows() -> None:
    import dataclasses

    from tomakomai_maas.drt_world import DrtService

    world, _, table = _shipped()
    legs = pd.DataFrame([
        {"request_id": "a", "leg_index": 0, "kind": "ride", "route_id": "drt", "trip_id": "",
         "from_stop": "", "to_stop": "", "board_s": 36000.0},
        {"request_id": "c", "leg_index": 0, "kind": "ride", "route_id": "drt", "trip_id": "",
         "from_stop": "", "to_stop": "", "board_s": 36100.0}])
    trips = pd.DataFrame({"request_id": ["a", "c"], "pax_class": ["adult", "child"],
                          "n_rides": [1, 1]})
    tables = {"legs": legs, "trips": trips}
    # no DRT service in the World (hand-made tables): cost.fares.drt_fare_yen, child half
    assert cost_kpis(tables, world, CostConfig(), fares=table)["revenue_fare_yen"] == 750.0
    svc = DrtService(name="d", tt=None, vehicles=(), fares_yen={"adult": 300.0, "child": 100.0})
    with_drt = dataclasses.replace(world, drt=svc)
    # the service's class fares (what the DRT skim shows the adult: svc.fare_yen = 300)
    assert cost_kpis(tables, with_drt, CostConfig(), fares=table)["revenue_fare_yen"] == 400.0
    free = dataclasses.replace(world, drt=dataclasses.replace(svc, fares_yen={"adult": 0.0}))
    assert cost_kpis(tables, free, CostConfig(), fares=table)["revenue_fare_yen"] == 0.0
