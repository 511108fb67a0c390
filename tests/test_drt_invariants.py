"""Invariants of DRT runs over random small worlds (Hypothesis, bounded examples), checked on
the event log (:func:`test_drt_fixtures.check_drt_log`): capacity never exceeded, every
pick-up before its drop-off and at the vehicle's position, pick-up windows / latest drop-off /
max ride respected for every accepted request, every request ends served, rejected with a
valid reason, or cancelled; legs take the service's travel times; tables keep their schemas.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import test_drt_fixtures as fx
from tomakomai_maas.drt_world import VirtualStop
from tomakomai_maas.sim import TABLE_SCHEMAS, simulate


@st.composite
def drt_worlds(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(3, 20))
    tt, xy = fx.city_tt(n, rng, side_m=draw(st.sampled_from([1500.0, 4000.0])))
    vehicles = []
    for k in range(draw(st.integers(1, 3))):
        s0 = draw(st.sampled_from([0.0, 900.0, 1800.0]))
        s1 = s0 + draw(st.sampled_from([1800.0, 3600.0, 7200.0]))
        vehicles.append(fx.vehicle(f"v{k}", int(rng.integers(n)), cap=draw(st.integers(1, 4)),
                                   shift=(s0, s1)))
    n_trips = draw(st.integers(0, 14))
    pre_share = draw(st.sampled_from([0.0, 0.5, 1.0]))
    trips = []
    for i in range(n_trips):
        t = float(rng.uniform(0, 6000))
        pre = rng.random() < pre_share
        lead = float(rng.uniform(0, 5000)) if pre else 0.0
        trips.append(fx.trip(f"r{i:02d}", t, int(rng.integers(n)), int(rng.integers(n)),
                             n_pax=int(rng.choice([1, 1, 2, 3])), t_request=t - lead))
    kw = {}
    mode = draw(st.sampled_from(["door_to_door", "stop_based"]))
    if mode == "stop_based":
        nodes = rng.choice(n, size=min(n, draw(st.integers(1, 5))), replace=False)
        kw.update(mode=mode, max_walk_m=draw(st.sampled_from([300.0, 1500.0])),
                  virtual_stops=tuple(VirtualStop(f"s{j}", "", 0, 0, int(x))
                                      for j, x in enumerate(nodes)))
    rebal = draw(st.sampled_from(["none", "zone_deficit"]))
    if rebal == "zone_deficit":
        west = xy[:, 0] < np.median(xy[:, 0])
        zone = np.where(west, 0, 1)
        cent = (int(np.flatnonzero(zone == 0)[0]) if (zone == 0).any() else 0,
                int(np.flatnonzero(zone == 1)[0]) if (zone == 1).any() else 0)
        kw.update(rebalancing_policy=rebal, zone_of_node=tuple(int(z) for z in zone),
                  zone_centroids=cent, rebalancing_interval_s=600.0)
    if draw(st.booleans()):
        kw["service_hours_s"] = ((0.0, 2400.0), (3000.0, 6000.0))
    if draw(st.booleans()):
        kw["max_arrival_delay_s"] = draw(st.sampled_from([300.0, 1200.0]))
    svc = fx.service(
        tt, vehicles, trips,
        dispatch_policy=draw(st.sampled_from(["insertion", "batch_lsa"])),
        batch_interval_s=draw(st.sampled_from([30.0, 120.0])),
        idle_policy=draw(st.sampled_from(["stay", "return_to_depot"])),
        max_wait_s=draw(st.sampled_from([120.0, 600.0, 1800.0])),
        detour_alpha=draw(st.sampled_from([1.0, 1.5, 3.0])),
        detour_beta_s=draw(st.sampled_from([0.0, 300.0])),
        board_s=draw(st.sampled_from([0.0, 30.0])),
        alight_s=draw(st.sampled_from([0.0, 20.0])),
        shift_end_at_depot=draw(st.booleans()),
        cancel_share=draw(st.sampled_from([0.0, 0.5])),
        min_booking_lead_s=draw(st.sampled_from([0.0, 600.0])),
        wait_weight=draw(st.sampled_from([0.0, 1.0])),
        **kw,
    )
    return fx.drt_world(svc)


@settings(max_examples=60, deadline=None)
@given(drt_worlds(), st.integers(0, 2**31))
def test_drt_event_log_invariants(world, seed) -> None:
    res = simulate(world, seed)
    fx.check_drt_log(world, res)
    n = len(world.drt.demand(None))
    assert len(res.drt_requests) == len(res.trips) == n
    for name in ("drt_requests", "drt_vehicles", "drt_hourly"):
        df = res.tables[name]
        assert {c: str(t) for c, t in df.dtypes.items()} == TABLE_SCHEMAS[name]
    st_ = res.drt_requests["status"]
    assert set(st_) <= {"served", "rejected", "cancelled"}
    c = res.counters
    assert c["served"] + c["rejected"] + c["drt_cancelled"] == c["requests"] == n
    assert (res.drt_requests.loc[st_ == "rejected", "reject_reason"] != "").all()
    v = res.drt_vehicles
    assert (v["empty_km"] <= v["km"] + 1e-9).all() and (v["max_load"] <= v["capacity"]).all()
    assert (v["idle_h"] >= -1e-9).all() and (v["busy_h"] >= -1e-9).all()


@settings(max_examples=10, deadline=None)
@given(drt_worlds(), st.integers(0, 2**31))
def test_same_seed_same_log_pruning_irrelevant(world, seed) -> None:
    a = simulate(world, seed)
    b = simulate(replace(world, drt=replace(world.drt, prune=False)), seed)
    assert a.events == b.events  # pruning never changes the dispatcher's decisions
