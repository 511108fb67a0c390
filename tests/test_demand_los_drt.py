"""DRT skims for mode choice meet riders where the simulator does.

A stop-based service is available to a trip only if the simulator's preparation
(:func:`tomakomai_maas.sim.drt_prep.prepare_drt`: area, snapping, the walk on the walk
network to the nearest virtual stop, different pick-up and drop-off stops) accepts it.
Checked on a synthetic street grid (Hypothesis, both directions of the equivalence) and on
the shipped ``drt_station_area_choice`` scenario (every trip that chooses DRT).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import test_drt_fixtures as fx
from tomakomai_maas.demand.los import DrtSpec, drt_level_of_service
from tomakomai_maas.drt_world import VirtualStop, walk_to_virtual_stops
from tomakomai_maas.network import TravelTimes, grid_network
from tomakomai_maas.sim.drt_prep import prepare_drt
from tomakomai_maas.world import Request

REPO = Path(__file__).resolve().parents[1]
PRE_REASONS = {"outside_area", "no_stop_in_reach", "same_pickup_dropoff"}


@lru_cache(maxsize=1)
def _grid_service():
    """A 6 x 8 grid of 150 m blocks, 3 virtual stops, an area polygon covering part of the
    grid, max walk 290 m: one block diagonal (212 m crow-fly, x 1.3 = 276 m) is in reach by
    the old crow-fly rule but not on the streets (300 m)."""
    G = grid_network(6, 8, spacing_m=150.0, seed=3)
    tt = TravelTimes(G, cache_dir=None)
    walk = TravelTimes(G, mode="walk", walk_speed_mps=1.2, cache_dir=None)
    lat, lon = tt.lat, tt.lon
    stops = tuple(VirtualStop(f"v{k}", f"v{k}", float(lat[n]), float(lon[n]), int(n))
                  for k, n in enumerate((9, 20, 38)))
    area = ((float(lat.max()) + 1e-4, float(lon.min()) - 1e-4),
            (float(lat.max()) + 1e-4, float(lon.max()) - 0.0005),
            (float(lat.min()) - 1e-4, float(lon.max()) - 0.0005),
            (float(lat.min()) - 1e-4, float(lon.min()) - 1e-4))
    nodes = np.arange(tt.n)
    svc = fx.service(tt, [fx.vehicle(depot=9)], (), mode="stop_based", walk=walk,
                     virtual_stops=stops, max_walk_m=290.0, area=area,
                     snap_nodes=tuple(int(x) for x in nodes), snap_lat=tuple(lat.tolist()),
                     snap_lon=tuple(lon.tolist()))
    return svc, (float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max()))


def _sim_reasons(svc, o, d) -> list[str]:
    reqs = [Request(request_id=f"r{i:04d}", depart_s=36000.0, o_lat=a[0], o_lon=a[1],
                    d_lat=b[0], d_lon=b[1], access=(), egress=(), mode="drt")
            for i, (a, b) in enumerate(zip(o, d, strict=True))]
    world = fx.drt_world(svc, requests=reqs)
    pax = {p.rid: p for p in prepare_drt(world, 0, reqs, {})}
    return [pax[r.request_id].pre_reason for r in reqs]


def _skim(svc, o, d, depart_s=36000.0):
    n = len(o)
    o, d = np.asarray(o, float).reshape(n, 2), np.asarray(d, float).reshape(n, 2)
    return drt_level_of_service(
        svc, car_ivt_min=np.full(n, 5.0), car_available=np.ones(n, bool),
        depart_s=np.full(n, depart_s), o_lat=o[:, 0], o_lon=o[:, 1], d_lat=d[:, 0],
        d_lon=d[:, 1])


points = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0))


@given(st.lists(st.tuples(points, points), min_size=1, max_size=12))
def test_skim_availability_is_the_simulators_acceptance(pairs) -> None:
    svc, (la0, la1, lo0, lo1) = _grid_service()

    def at(u):  # a point of the grid's bounding box, a little beyond it on every side
        return (la0 - 0.0005 + u[0] * (la1 - la0 + 0.001),
                lo0 - 0.0005 + u[1] * (lo1 - lo0 + 0.001))

    o = [at(a) for a, _ in pairs]
    d = [at(b) for _, b in pairs]
    _, avail = _skim(svc, o, d)
    reasons = _sim_reasons(svc, o, d)
    for ok, why in zip(avail.tolist(), reasons, strict=True):
        assert why in PRE_REASONS | {""}
        assert ok == (why == ""), (ok, why)


def test_reach_is_on_the_walk_network_not_crow_fly() -> None:
    """A point 1 block diagonal from a stop (212 m crow-fly, 300 m on the grid) is out of
    reach at max_walk_m = 290 m; the old crow-fly x 1.3 rule (276 m) let it in."""
    svc, _ = _grid_service()
    walk = svc.walk
    stop = svc.virtual_stops[1]  # node 20 = row 2, col 4 (8 columns)
    diag = 20 + 8 + 1
    m_per_deg = math.pi * 6_371_000.0 / 180.0
    crow = math.hypot((walk.lat[diag] - stop.lat) * m_per_deg,
                      (walk.lon[diag] - stop.lon) * m_per_deg * math.cos(math.radians(stop.lat)))
    assert crow * 1.3 <= svc.max_walk_m < float(walk.dist_m(diag, stop.node))
    k, m = walk_to_virtual_stops(svc, np.array([diag]), np.zeros(1), end="o")
    assert svc.virtual_stops[int(k[0])].stop_id == "v1" and m[0] > svc.max_walk_m
    p = (float(walk.lat[diag]), float(walk.lon[diag]))
    q = (svc.virtual_stops[2].lat, svc.virtual_stops[2].lon)
    fields, avail = _skim(svc, [p], [q])
    assert not avail[0]
    assert _sim_reasons(svc, [p], [q]) == ["no_stop_in_reach"]


def test_walks_are_in_the_skim_and_delay_the_pickup_window() -> None:
    svc, _ = _grid_service()
    a, b = svc.virtual_stops[0], svc.virtual_stops[2]
    one_block = 9 + 1  # next node east of stop v0
    p = (float(svc.walk.lat[one_block]), float(svc.walk.lon[one_block]))
    fields, avail = _skim(svc, [p], [(b.lat, b.lon)])
    assert avail[0]
    walk_m = float(svc.walk.dist_m(one_block, a.node))
    assert fields["walk_min"][0] == pytest.approx(walk_m / 1.2 / 60.0, rel=1e-3)
    # departing 30 s before the service closes: the walk makes the pick-up too late
    late = replace(svc, service_hours_s=((0.0, 36000.0 + 30.0),))
    _, avail = _skim(late, [p], [(b.lat, b.lon)])
    assert walk_m / 1.2 > 30 and not avail[0]


def test_a_bare_spec_checks_hours_and_area_only() -> None:
    car = np.array([10.0, 20.0])
    spec = DrtSpec(max_wait_min=20.0, service_hours_s=((8 * 3600.0, 18 * 3600.0),),
                   area=((42.65, 141.59), (42.65, 141.61), (42.63, 141.61), (42.63, 141.59)))
    f, av = drt_level_of_service(spec, car_ivt_min=car, car_available=np.ones(2, bool),
                                 depart_s=np.array([36000.0, 80000.0]),
                                 o_lat=np.array([42.64, 42.64]), o_lon=np.array([141.6, 141.6]),
                                 d_lat=np.array([42.64, 42.64]), d_lon=np.array([141.6, 141.6]))
    assert av.tolist() == [True, False] and f["wait_min"][0] == 10.0
    assert f["walk_min"].tolist() == [0.0, 0.0]


def test_without_a_service_drt_is_unavailable() -> None:
    fields, avail = drt_level_of_service(None, car_ivt_min=np.ones(3),
                                         car_available=np.ones(3, bool),
                                         depart_s=np.zeros(3))
    assert not avail.any() and set(fields) >= {"wait_min", "ivt_min"}


@pytest.mark.slow
def test_shipped_choice_scenario_never_sends_drt_riders_out_of_reach() -> None:
    """drt_station_area_choice: every generated trip that chooses DRT passes the
    simulator's preparation (no outside_area / no_stop_in_reach / same_pickup_dropoff)."""
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(REPO / "scenarios" / "drt_station_area_choice.yaml",
                       ["service.start_time=09:00", "service.end_time=13:00"])
    world = build(sc)
    n_drt = 0
    for seed in (sc.seed, sc.seed + 1):
        reqs = world.sample_requests(np.random.default_rng(seed))
        drt = [r for r in reqs if r.mode == "drt"]
        n_drt += len(drt)
        pax = prepare_drt(world, seed, drt, {})
        bad = [(p.rid, p.pre_reason, p.pre_detail) for p in pax if p.pre_reason in PRE_REASONS]
        assert not bad, bad[:5]
    assert n_drt > 10  # the check saw DRT riders
