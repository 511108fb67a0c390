"""Property tests on the raw event log of random small worlds (STYLE point 3)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import simworlds as sw
from tomakomai_maas.sim import EVENT_KINDS, TABLE_SCHEMAS, TERMINAL_KINDS, simulate
from tomakomai_maas.world import Access, OpsParams, VehicleType

STOP_POOL = ["S0", "S1", "S2", "S3", "S4"]


@st.composite
def worlds(draw):
    n = draw(st.integers(3, 5))
    line = STOP_POOL[:n]
    trips = []
    for route, stops in (("F", line), ("B", line[::-1])):
        k = draw(st.integers(0, 4))
        t = draw(st.floats(0, 1800))
        use_block = draw(st.booleans())
        for i in range(k):
            legs = draw(st.lists(st.floats(20, 300), min_size=n - 1, max_size=n - 1))
            tps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            trips.append(sw.make_trip(
                f"{route}{i}", route, stops, t, legs, dwell_s=draw(st.floats(0, 40)),
                timepoint=tps, block_id=f"blk{route}" if use_block else None,
                direction_id=int(route == "B"),
            ))  # fmt: skip
            t += draw(st.floats(60, 900))
    n_req = draw(st.integers(0, 30))
    reqs = []
    for i in range(n_req):
        o, d = draw(st.lists(st.sampled_from(line), min_size=2, max_size=2, unique=True))
        direct = draw(st.one_of(st.just(sw.INF), st.floats(60, 3000)))
        reqs.append(sw.stop_request(
            f"r{i:02d}", draw(st.floats(0, 3600)), o, d,
            access_walk_s=draw(st.floats(0, 120)), egress_walk_s=draw(st.floats(0, 120)),
            direct_walk_s=direct,
        ))  # fmt: skip
    transfers = {}
    if draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(line), min_size=2, max_size=2, unique=True))
        transfers = {a: (Access(b, 60.0, 70.0),), b: (Access(a, 60.0, 70.0),)}
    ops = OpsParams(
        dwell_fixed_s=draw(st.floats(0, 20)),
        dwell_per_boarding_s=draw(st.floats(0, 5)),
        dwell_per_alighting_s=draw(st.floats(0, 5)),
        holding=draw(st.booleans()),
        patience_s=draw(st.floats(0, 1200)),
        link_time_cv=draw(st.sampled_from([0.0, 0.3])),
    )
    cap = draw(st.integers(1, 4))
    world = sw.make_world(
        trips,
        stops=sw.make_stops(line),
        demand=reqs,
        vehicle_types={"bus": VehicleType("bus", capacity=cap)},
        transfers=transfers,
        ops=ops,
    )
    return world, reqs


def check_log(world, reqs, events) -> None:
    sched = {t.trip_id: t for t in world.trips}
    # the log is ordered
    assert [e[1] for e in events] == list(range(len(events)))
    assert all(a[0] <= b[0] for a, b in zip(events, events[1:], strict=False))
    assert {e[2] for e in events} <= set(EVENT_KINDS)

    # passengers: conserved, waits >= 0, alight after board on the same vehicle
    by_pax: dict[str, list[tuple]] = {}
    for e in events:
        if e[5]:
            by_pax.setdefault(e[5], []).append(e)
    assert sorted(by_pax) == sorted(r.request_id for r in reqs)
    for pid, evs in by_pax.items():
        kinds = [e[2] for e in evs]
        assert kinds[0] == "request" and kinds.count("request") == 1, pid
        terminals = [k for k in kinds if k in TERMINAL_KINDS]
        assert len(terminals) == 1 and kinds[-1] == terminals[0], (pid, kinds)
        assert "unfinished" not in kinds  # patience is finite here
        onboard = None
        arrived_at = None
        for e in evs:
            if e[2] == "arrive_stop":
                assert onboard is None
                arrived_at = e[0]
            elif e[2] == "board":
                assert onboard is None and arrived_at is not None
                assert e[7] >= 0 and e[0] - arrived_at == e[7]
                onboard = e
            elif e[2] == "alight":
                assert onboard is not None and (e[3], e[4]) == (onboard[3], onboard[4])
                assert e[0] >= onboard[0]
                onboard = None
                arrived_at = None
        assert onboard is None, pid

    # vehicles: load within capacity, stops in order, no early timepoint departures
    cap = {t.trip_id: world.vehicle_types[t.vehicle_type].capacity for t in world.trips}
    load: dict[str, int] = {}
    k_of: dict[str, int] = {}
    for e in events:
        kind, vid, trip_id = e[2], e[3], e[4]
        if kind == "board":
            load[vid] = load.get(vid, 0) + 1
            assert load[vid] <= cap[trip_id]
        elif kind == "alight":
            load[vid] -= 1
            assert load[vid] >= 0
        elif kind == "veh_arrive":
            k = k_of[trip_id] = k_of.get(trip_id, -1) + 1
            assert sched[trip_id].stop_ids[k] == e[6]
        elif kind == "veh_depart":
            trip, k = sched[trip_id], k_of[trip_id]
            assert e[0] >= trip.arr_s[0] or k > 0
            if world.ops.holding and trip.timepoint[k]:
                assert e[7] >= -1e-9 and e[0] >= trip.dep_s[k] - 1e-9
    assert all(v == 0 for v in load.values())
    assert sorted(k_of) == sorted(sched)  # every trip ran (no AV here)
    assert all(k_of[t] == len(sched[t].stop_ids) - 1 for t in sched)


@given(worlds(), st.integers(0, 2**31))
def test_event_log_invariants(case, seed) -> None:
    world, reqs = case
    res = simulate(world, seed)
    check_log(world, reqs, res.events)
    assert set(res.tables) == set(TABLE_SCHEMAS) - {"drt_requests", "drt_vehicles", "drt_hourly"}
    for name, df in res.tables.items():
        schema = TABLE_SCHEMAS[name]
        assert list(df.columns) == list(schema), name
        assert {c: str(t) for c, t in df.dtypes.items()} == schema, name
    assert len(res.trips) == len(reqs)
    assert len(res.vehicle_trips) == len(world.trips)
    served = res.trips["status"] == "served"
    assert (res.trips.loc[served, "arrive_s"] >= res.trips.loc[served, "depart_s"]).all()
    assert (res.trips[["walk_min", "wait_min", "ivt_min"]] >= 0).all().all()
    assert (res.vehicle_trips["max_load"] <= res.vehicle_trips["capacity"]).all()
    c = res.counters
    assert c["served"] + c["denied"] + c["gave_up"] + c["no_route"] == c["requests"] == len(reqs)
