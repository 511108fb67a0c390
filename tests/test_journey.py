"""Journey planner: exact minimum generalised cost vs brute-force enumeration."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simworlds as sw
from tomakomai_maas.journey import JourneyPlanner, csa, generalised_cost_s
from tomakomai_maas.world import Access, JourneyParams, Request

POOL = ["A", "B", "C", "D", "E"]


def brute_force_cost(world, req: Request, p: JourneyParams) -> float:
    """Enumerate every itinerary of the planner's model; return the minimum cost."""
    ww, wt, wi, pen = p.walk_weight, p.wait_weight, p.ivt_weight, p.transfer_penalty_s
    best = ww * req.direct_walk_s if math.isfinite(req.direct_walk_s) else math.inf
    egress = [a for a in req.egress if a.walk_m <= p.max_walk_m]
    access = [a for a in req.access if a.walk_m <= p.max_walk_m]

    def walks_from(stop):
        return [
            a for a in world.transfers.get(stop, ())
            if a.stop_id != stop and a.walk_m <= p.max_transfer_walk_m
        ]  # fmt: skip

    def extend(stop, t_at, cost, rides):
        nonlocal best
        for trip in world.trips:
            n = len(trip.stop_ids)
            for k in range(n - 1):
                d = trip.dep_s[k]
                if trip.stop_ids[k] != stop or d < t_at:
                    continue
                c_board = cost + wt * (d - t_at) + (pen if rides >= 1 else 0.0)
                for m in range(k + 1, n):
                    a = trip.arr_s[m]
                    c = c_board + wi * (a - d)
                    s2 = trip.stop_ids[m]
                    for eg in egress:
                        if eg.stop_id == s2:
                            best = min(best, c + ww * eg.walk_s)
                    if rides + 1 <= p.max_transfers:
                        extend(s2, a, c, rides + 1)
                        for w in walks_from(s2):
                            extend(w.stop_id, a + w.walk_s, c + ww * w.walk_s, rides + 1)

    for acc in access:
        extend(acc.stop_id, req.depart_s + acc.walk_s, ww * acc.walk_s, 0)
    return best


def check_itinerary(world, req, itin, p: JourneyParams) -> None:
    """The itinerary is feasible in the timetable and its cost adds up."""
    trips = {t.trip_id: t for t in world.trips}
    t = req.depart_s
    walk = wait = ivt = 0.0
    rides = 0
    for leg in itin.legs:
        assert leg.start_s >= t - 1e-9
        if leg.kind == "walk":
            assert leg.start_s == pytest.approx(t)
            walk += leg.walk_s
            t = leg.start_s + leg.walk_s
            assert leg.end_s == pytest.approx(t)
        else:
            trip = trips[leg.trip_id]
            assert trip.stop_ids[leg.board_index] == leg.from_stop
            assert trip.stop_ids[leg.alight_index] == leg.to_stop
            assert leg.board_index < leg.alight_index
            assert leg.start_s == trip.dep_s[leg.board_index] >= t
            assert leg.wait_s == pytest.approx(leg.start_s - t)
            wait += leg.wait_s
            ivt += leg.end_s - leg.start_s
            t = leg.end_s
            rides += 1
    assert rides <= p.max_transfers + 1
    assert itin.arrive_s == pytest.approx(t)
    cost = generalised_cost_s(walk, wait, ivt, max(rides - 1, 0), p)
    assert itin.cost_s == pytest.approx(cost)


@st.composite
def cases(draw):
    trips = []
    prev: list[str] = []
    first_stop = ""
    for r in range(draw(st.integers(1, 4))):
        stops = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique=True))
        if prev and draw(st.integers(0, 3)):  # mostly chain onto the previous route
            link = draw(st.sampled_from(prev[1:]))
            stops = [link] + [s for s in stops if s != link][:3]
        prev = stops
        first_stop = first_stop or stops[0]
        t = r * 600.0 + draw(st.integers(0, 20)) * 60.0
        for i in range(draw(st.integers(1, 5))):
            legs = [draw(st.integers(1, 15)) * 60.0 for _ in stops[1:]]
            dwell = draw(st.integers(0, 2)) * 60.0
            trips.append(sw.make_trip(f"R{r}-{i}", f"R{r}", stops, t, legs, dwell_s=dwell))
            t += draw(st.integers(1, 20)) * 60.0
    transfers: dict[str, tuple[Access, ...]] = {}
    for _ in range(draw(st.integers(0, 4))):
        a, b = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=2, unique=True))
        w = draw(st.integers(1, 10)) * 60.0
        m = draw(st.sampled_from([100.0, 300.0, 600.0]))
        transfers[a] = transfers.get(a, ()) + (Access(b, w, m),)

    def accesses(extra: str):
        out = []
        chosen = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True))
        if draw(st.booleans()) and extra not in chosen:  # often the ends of the route chain
            chosen.append(extra)
        for s in chosen:
            w = draw(st.integers(0, 12)) * 60.0
            out.append(Access(s, w, draw(st.sampled_from([0.0, 400.0, 400.0, 1000.0]))))
        return tuple(out)

    req = Request(
        request_id="q", depart_s=draw(st.integers(0, 20)) * 60.0, o_lat=0, o_lon=0, d_lat=0,
        d_lon=0, access=accesses(first_stop), egress=accesses(prev[-1]),
        direct_walk_s=draw(st.sampled_from([math.inf, math.inf, 1800.0, 5400.0])),
    )  # fmt: skip
    params = JourneyParams(
        walk_weight=draw(st.sampled_from([1.0, 2.0, 3.0])),
        wait_weight=draw(st.sampled_from([0.5, 1.0, 2.0, 2.5])),
        ivt_weight=draw(st.sampled_from([0.5, 1.0, 1.5])),
        transfer_penalty_s=draw(st.sampled_from([0.0, 120.0, 300.0])),
        max_transfers=draw(st.sampled_from([0, 1, 2, 2, 2])),
    )
    world = sw.make_world(trips, stops=sw.make_stops(POOL), transfers=transfers, journey=params)
    return world, req


@st.composite
def chain_cases(draw):
    """Three chained routes H0->H1->H2->H3 plus noise routes: many 2- and 3-ride optima."""
    pool = ["A", "B", "C", "D", "E", "F", "G"]
    order = draw(st.permutations(pool))
    hubs, mids = order[:4], order[4:]
    trips = []
    for r in range(3):
        stops = [hubs[r], mids[r], hubs[r + 1]] if draw(st.booleans()) else hubs[r : r + 2]
        t = r * 900.0 + draw(st.integers(0, 10)) * 60.0
        for i in range(draw(st.integers(1, 4))):
            legs = [draw(st.integers(2, 10)) * 60.0 for _ in stops[1:]]
            trips.append(sw.make_trip(f"C{r}-{i}", f"C{r}", stops, t, legs))
            t += draw(st.integers(2, 15)) * 60.0
    for r in range(draw(st.integers(0, 2))):
        stops = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True))
        t = draw(st.integers(0, 40)) * 60.0
        for i in range(draw(st.integers(1, 3))):
            legs = [draw(st.integers(2, 20)) * 60.0 for _ in stops[1:]]
            trips.append(sw.make_trip(f"N{r}-{i}", f"N{r}", stops, t, legs))
            t += draw(st.integers(2, 15)) * 60.0
    transfers: dict[str, tuple[Access, ...]] = {}
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2, unique=True))
        transfers[a] = transfers.get(a, ()) + (Access(b, draw(st.integers(1, 8)) * 60.0, 200.0),)
    extra_o = draw(st.sampled_from(pool))
    extra_d = draw(st.sampled_from(pool))
    req = Request(
        "q", draw(st.integers(0, 10)) * 60.0, 0, 0, 0, 0,
        access=(Access(hubs[0], 60.0, 70.0), Access(extra_o, 300.0, 350.0)),
        egress=(Access(hubs[3], 60.0, 70.0), Access(extra_d, 300.0, 350.0)),
    )  # fmt: skip
    params = JourneyParams(
        wait_weight=draw(st.sampled_from([1.0, 2.0])),
        transfer_penalty_s=draw(st.sampled_from([0.0, 300.0])),
        max_transfers=draw(st.sampled_from([1, 2, 2])),
    )
    world = sw.make_world(trips, stops=sw.make_stops(pool), transfers=transfers, journey=params)
    return world, req


@given(st.one_of(cases(), chain_cases()))
def test_planner_finds_minimum_generalised_cost(case) -> None:
    world, req = case
    p = world.journey
    itin = JourneyPlanner(world).plan(req)
    expected = brute_force_cost(world, req, p)
    if math.isinf(expected):
        assert itin is None
        return
    assert itin is not None
    assert itin.cost_s == pytest.approx(expected, rel=1e-9, abs=1e-6)
    check_itinerary(world, req, itin, p)


def _two_line_world(max_transfers: int = 2):
    t1 = sw.make_trip("L1", "R1", ["A", "B"], 600, [300])
    t2 = sw.make_trip("L2", "R2", ["B", "C"], 1200, [300])
    t3 = sw.make_trip("L3", "R3", ["D", "E"], 1800, [300])
    return sw.make_world(
        [t1, t2, t3],
        transfers={"C": (Access("D", 120.0, 150.0),)},
        journey=JourneyParams(max_transfers=max_transfers),
    )


def test_itinerary_legs_and_cost_by_hand() -> None:
    world = _two_line_world()
    req = sw.stop_request("q", 500, "A", "E", access_walk_s=60, egress_walk_s=30)
    itin = JourneyPlanner(world).plan(req)
    assert [(leg.kind, leg.role, leg.from_stop, leg.to_stop) for leg in itin.legs] == [
        ("walk", "access", "", "A"),
        ("ride", "ride", "A", "B"),
        ("ride", "ride", "B", "C"),
        ("walk", "transfer", "C", "D"),
        ("ride", "ride", "D", "E"),
        ("walk", "egress", "E", ""),
    ]
    # walk 60+120+30, waits 40 + 300 + 180, ivt 3*300, 2 transfers
    assert (itin.walk_s, itin.wait_s, itin.ivt_s, itin.n_transfers) == (210, 520, 900, 2)
    assert itin.cost_s == 2 * 210 + 2 * 520 + 900 + 2 * 300
    assert itin.arrive_s == 2130


def test_max_transfers_is_respected() -> None:
    req = sw.stop_request("q", 500, "A", "E")
    assert JourneyPlanner(_two_line_world(max_transfers=1)).plan(req) is None
    assert JourneyPlanner(_two_line_world(max_transfers=2)).plan(req) is not None


def test_walking_is_chosen_when_cheaper() -> None:
    world = _two_line_world()
    planner = JourneyPlanner(world)
    slow = sw.stop_request("q", 500, "A", "B", direct_walk_s=2000)
    fast = sw.stop_request("q", 500, "A", "B", direct_walk_s=100)
    assert not planner.plan(slow).walk_only  # 2*100 + 300 = 500 < 4000
    walk = planner.plan(fast)
    assert walk.walk_only and walk.cost_s == 200 and walk.arrive_s == 600


def test_access_beyond_max_walk_is_ignored() -> None:
    world = _two_line_world()
    req = Request("q", 500, 0, 0, 0, 0, access=(Access("A", 60, 900.0),),
                  egress=(Access("B", 0, 0),))  # fmt: skip
    assert JourneyPlanner(world).plan(req) is None


def test_plan_many_requests_over_many_trips(monkeypatch) -> None:
    """2 000 requests over 600 trips (no timing asserted); the lower-bound pruning used for
    networks up to ``_MAX_LB_STOPS`` stops gives the same costs as the plain scan."""
    stops = [f"S{i:02d}" for i in range(15)]
    trips = []
    for r in range(10):
        seq = stops[r % 5 :] + stops[: r % 5]
        trips += sw.line_trips(f"L{r}", seq, 6 * 3600 + 60 * r, 900, 60, [120] * 14)
    world = sw.make_world(trips)
    planner = JourneyPlanner(world)
    reqs = [
        sw.stop_request(f"q{i}", 6 * 3600 + 7.3 * i, stops[i % 15], stops[(i * 7 + 3) % 15])
        for i in range(2000)
    ]
    plans = planner.plan_all(reqs)
    assert sum(1 for it in plans.values() if it is not None) > 1500
    monkeypatch.setattr(csa, "_MAX_LB_STOPS", 0)
    plain = JourneyPlanner(world)
    assert plain._lb is None and planner._lb is not None
    for r in reqs[:300]:
        a, b = plans[r.request_id], plain.plan(r)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.cost_s == pytest.approx(b.cost_s, rel=1e-12)
