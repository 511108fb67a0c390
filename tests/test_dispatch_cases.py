"""Hand-built dispatch cases: every rejection reason, a hand-checked regression, plan checks,
plan advancing (trace), batch vs sequential insertion, pruning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tomakomai_maas.dispatch import (
    Assignment,
    DispatchConfig,
    DrtRequest,
    InsertionEngine,
    MatrixTravelTimes,
    PlanStop,
    Rejection,
    RejectReason,
    StopKind,
    VehicleState,
    advance,
    apply_assignment,
    check_plan,
    get_dispatch_policy,
    insert_request,
    make_request,
    next_event_s,
)
from tomakomai_maas.errors import DispatchError

INF = math.inf
HOP_S = 60.0


def line(n: int = 11) -> MatrixTravelTimes:
    """Nodes 0..n-1 on a line, 60 s between neighbours, 100 m per hop."""
    hops = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(float)
    return MatrixTravelTimes(hops * HOP_S, hops * 100.0)


def req(rid, o, d, *, e=0.0, late=600.0, ride=10_000.0, n=1, t=0.0, **kw) -> DrtRequest:
    return DrtRequest(rid, o, d, n, t, e, late, ride, **kw)


def veh(vid="v", node=0, cap=4, avail=0.0, **kw) -> VehicleState:
    return VehicleState(vid, cap, node, avail, **kw)


def onboard(rid, node, *, n=1, ride_start=0.0, max_ride=INF, latest=INF) -> PlanStop:
    return PlanStop(rid, StopKind.DROPOFF, node, n, -INF, latest, 0.0, max_ride, ride_start)


# --------------------------------------------------------------------------------------
# one hand-built case per rejection reason
# --------------------------------------------------------------------------------------
def reason_of(res) -> RejectReason:
    assert isinstance(res, Rejection), res
    assert res.detail
    return res.reason


def test_outside_area():
    cfg = DispatchConfig(service_nodes=frozenset(range(6)))
    res = insert_request(req("r", 1, 8), [veh()], line(), config=cfg)
    assert reason_of(res) is RejectReason.OUTSIDE_AREA
    assert "[8]" in res.detail


def test_outside_hours_service_windows():
    # あいとまタクシー hours: 08:30-11:30 and 15:00-17:00
    cfg = DispatchConfig(service_hours_s=((8.5 * 3600, 11.5 * 3600), (15 * 3600, 17 * 3600)))
    noon = 12 * 3600.0
    res = insert_request(req("r", 1, 3, e=noon, late=noon + 600, t=noon), [veh()], line(),
                         config=cfg)
    assert reason_of(res) is RejectReason.OUTSIDE_HOURS
    assert "12:00:00" in res.detail and "08:30:00-11:30:00" in res.detail
    ok = insert_request(req("r", 1, 3, e=9 * 3600.0, late=9 * 3600.0 + 600, t=9 * 3600.0),
                        [veh()], line(), config=cfg)
    assert isinstance(ok, Assignment)


def test_outside_hours_booking_lead():
    # prebooking allowed from 3 days to 1 h before the pick-up
    cfg = DispatchConfig(min_booking_lead_s=3600.0, max_booking_lead_s=3 * 86400.0)
    late = req("r", 1, 3, e=1800.0, late=2400.0, t=0.0, prebooked=True)
    assert reason_of(insert_request(late, [veh()], line(), config=cfg)) is (
        RejectReason.OUTSIDE_HOURS
    )
    early = req("r", 1, 3, e=7200.0, late=7800.0, t=0.0, prebooked=True)
    assert isinstance(insert_request(early, [veh()], line(), config=cfg), Assignment)


def test_unreachable_destination_and_origin():
    t = np.array(line(4).time_s(np.arange(4)[:, None], np.arange(4)[None, :]))
    t[1, 3] = INF  # 3 unreachable from 1
    res = insert_request(req("r", 1, 3), [veh()], MatrixTravelTimes(t))
    assert reason_of(res) is RejectReason.UNREACHABLE
    t = np.array(line(4).time_s(np.arange(4)[:, None], np.arange(4)[None, :]))
    t[[0, 1, 3], 2] = INF  # nobody can drive to 2, but 2 -> 3 works
    res = insert_request(req("r", 2, 3), [veh(node=0)], MatrixTravelTimes(t))
    assert reason_of(res) is RejectReason.UNREACHABLE
    assert "origin node 2" in res.detail


def test_capacity_party_too_large_and_full_vehicle():
    res = insert_request(req("r", 1, 2, n=5), [veh(cap=4)], line())
    assert reason_of(res) is RejectReason.CAPACITY
    assert "party of 5" in res.detail
    # a full vehicle near the pick-up: four on board, getting off at node 9
    full = veh(cap=4, onboard_pax=4, plan=(onboard("a", 9, n=4),))
    res = insert_request(req("r", 1, 2), [full], line())
    assert reason_of(res) is RejectReason.CAPACITY
    assert res.vehicle_id == "v"


def test_no_vehicle_in_time():
    res = insert_request(req("r", 1, 2, late=300.0), [veh(node=10)], line())
    assert reason_of(res) is RejectReason.NO_VEHICLE_IN_TIME
    # 9 hops = 540 s: arrives 00:09:00 > latest 00:05:00
    assert "00:09:00" in res.detail and "00:05:00" in res.detail
    assert reason_of(insert_request(req("r", 1, 2), [], line())) is RejectReason.NO_VEHICLE_IN_TIME


def test_time_window_of_another_stop():
    # the vehicle must pick up "a" at node 5 by 300 s (via node 1 it arrives at 300 exactly).
    # New request 1 -> 0, to arrive by 400 s: dropping it before "a"'s pick-up makes that
    # late (0->1->0->5: 420 s); after it, the new drop-off is late (5->0: 600 s or later)
    a_p = PlanStop("a", StopKind.PICKUP, 5, 1, 0.0, 300.0, 0.0)
    a_d = PlanStop("a", StopKind.DROPOFF, 6, 1, -INF, INF, 0.0, INF)
    v = veh(node=0, plan=(a_p, a_d))
    res = insert_request(req("r", 1, 0, late=120.0, latest_dropoff_s=400.0), [v], line())
    assert reason_of(res) is RejectReason.TIME_WINDOW


def test_time_window_shift_end():
    v = veh(node=0, shift_end_s=300.0)
    res = insert_request(req("r", 1, 8), [v], line())  # done at 480 s
    assert reason_of(res) is RejectReason.TIME_WINDOW
    assert isinstance(insert_request(req("r", 1, 4), [v], line()), Assignment)  # done at 240 s


def test_ride_time():
    # passenger on board since t=0 going to 5 with max ride 300 s (the direct drive). New
    # request 2 -> 1, pick-up by 400 s, ride <= 100 s. 0->2->1->5 rides "a" 420 s;
    # 0->2->5->1 rides the new one 420 s; after "a"'s drop-off (node 2 at 480 s) it is late
    v = veh(node=0, onboard_pax=1, plan=(onboard("a", 5, max_ride=300.0),))
    res = insert_request(req("r", 2, 1, late=400.0, ride=100.0), [v], line())
    assert reason_of(res) is RejectReason.RIDE_TIME


def test_ride_time_of_the_new_request():
    # "a" on board to node 9 (arrives at 540 s). New request 4 -> 2 (direct 120 s), ride
    # <= 150 s, pick-up by 600 s.
    #  P D then a: 0->4->2->9 = 240+120+420 = 780 s at 9
    #  P a D:      new ride 4->9->2 = 300+420 = 720 s > 150 (RIDE_TIME)
    #  after a:    4 reached at 540+300 = 840 s > 600 (late)
    v = veh(node=0, onboard_pax=1, plan=(onboard("a", 9, latest=800.0),))
    res = insert_request(req("r", 4, 2, ride=150.0), [v], line())
    assert isinstance(res, Assignment) and res.schedule[-1].arrival_s == 780.0
    v = veh(node=0, onboard_pax=1, plan=(onboard("a", 9, latest=700.0),))  # now P D a is late
    res = insert_request(req("r", 4, 2, ride=150.0), [v], line())
    assert reason_of(res) is RejectReason.RIDE_TIME


def test_reason_precedence_furthest_candidate_wins():
    # vehicle "far" cannot reach in time, vehicle "full" reaches in time but is full:
    # the full one got further (capacity) -> CAPACITY, naming it
    far = veh("far", node=10)
    full = veh("full", node=0, cap=2, onboard_pax=2, plan=(onboard("a", 9, n=2),))
    res = insert_request(req("r", 1, 2, late=200.0), [far, full], line())
    assert reason_of(res) is RejectReason.CAPACITY and res.vehicle_id == "full"


# --------------------------------------------------------------------------------------
# regression: one vehicle, three requests on a line, times checked by hand
# --------------------------------------------------------------------------------------
def test_regression_one_vehicle_three_requests():
    tt = line()  # 60 s per hop
    kw = dict(board_s=30.0, alight_s=20.0)
    r1 = req("r1", 2, 6, late=600.0, ride=1000.0, **kw)
    r2 = req("r2", 3, 5, late=600.0, ride=1000.0, **kw)
    r3 = req("r3", 4, 1, late=300.0, ride=400.0, **kw)
    v = veh("v1", node=0)
    policy = get_dispatch_policy("insertion")(tt)
    res = policy.dispatch([r1, r2, r3], [v], now_s=0.0)
    assert not res.rejections
    a1, a2, a3 = res.assignments
    # r1 into an empty plan: 0->2 = 120 s, board 30 -> leave 150; 2->6 = 240 s -> 390
    assert (a1.pickup_index, a1.dropoff_index) == (0, 1)
    assert a1.cost_s == 360.0  # 120 + 240 s of driving
    assert [(s.arrival_s, s.departure_s) for s in a1.schedule] == [(120, 150), (390, 410)]
    # r2 (3 -> 5) lies on the way: P1 P2 D2 D1 adds no driving (0->2->3->5->6 = 360 s)
    # P1 120/150; 2->3 +60 = 210, board -> 240; 3->5 +120 = 360, alight -> 380;
    # 5->6 +60 = 440, alight -> 460
    assert (a2.pickup_index, a2.dropoff_index) == (1, 2)
    assert a2.cost_s == 0.0
    assert [(s.arrival_s, s.departure_s) for s in a2.schedule] == [
        (120, 150), (210, 240), (360, 380), (440, 460)]
    # r3 (4 -> 1, pick up by 300 s, ride <= 400 s). Old driving 360 s. Feasible candidates:
    #  (i=1, j=2): 0->2->4->3->1->5->6 = 120+120+60+120+240+60 = 720 s (+360)
    #  (i=2, j=2): 0->2->3->4->1->5->6 = 120+60+60+180+240+60 = 720 s (+360)
    #  (i=2, j=3): 0->2->3->4->5->1->6 = 120+60+60+60+240+300 = 840 s (+480)
    #  (i=2, j=4): r3 rides 4->5->6->1: 330 -> 790 = 460 s > 400 (infeasible)
    #  (i=0/1, j<2): P2 at node 3 reached at 620 s > 600 (infeasible)
    # tie at +360 -> lowest pick-up position wins: (1, 2)
    assert (a3.pickup_index, a3.dropoff_index) == (1, 3)
    assert a3.cost_s == 360.0
    # P1 120/150; 2->4 +120 = 270, board -> 300; 4->3 +60 = 360, board -> 390;
    # 3->1 +120 = 510, alight -> 530; 1->5 +240 = 770, alight -> 790; 5->6 +60 = 850 -> 870
    got = [(s.stop.request_id, s.stop.kind.value, s.arrival_s, s.departure_s, s.load_after)
           for s in a3.schedule]
    assert got == [
        ("r1", "pickup", 120, 150, 1),
        ("r3", "pickup", 270, 300, 2),
        ("r2", "pickup", 360, 390, 3),
        ("r3", "dropoff", 510, 530, 2),
        ("r2", "dropoff", 770, 790, 1),
        ("r1", "dropoff", 850, 870, 0),
    ]
    # rides: r1 850-150 = 700, r2 770-390 = 380, r3 510-300 = 210 (<= 400)
    final = res.vehicles[0]
    chk = check_plan(final, tt)
    assert chk.feasible and chk.drive_s == 720.0 and chk.end_s == 870.0


def test_advance_trace():
    tt = line()
    r1 = req("r1", 2, 6, board_s=30.0, alight_s=20.0)
    r2 = req("r2", 3, 5, e=300.0, late=900.0, board_s=30.0, alight_s=20.0)
    v = veh("v1", node=0)
    for r in (r1, r2):
        v = apply_assignment(v, insert_request(r, [v], tt, now_s=0.0))
    # plan P1(2) P2(3) D2(5) D1(6): P1 120/150; 3 at 210, waits for 300, leaves 330;
    # 5 at 450 -> 470; 6 at 530 -> 550
    trace = []
    for t in (100.0, 200.0, 320.0, 460.0, 1000.0):
        assert next_event_s(v, tt) <= t or advance(v, t, tt)[0] is v
        v, done = advance(v, t, tt)
        trace += [(s.stop.kind.value, s.stop.request_id, s.start_s) for s in done]
        trace.append(("at", v.node, v.available_s, v.onboard_pax))
    assert trace == [
        # at 100 s the vehicle has left node 0 for node 2: committed, arrives at 120
        ("at", 2, 120.0, 0),
        # P1 served at 120; left for node 3 at 150, arrives 210 (waits there until 300)
        ("pickup", "r1", 120.0), ("at", 3, 210.0, 1),
        # P2 service started at 300; still boarding at 320 s (leaves 330)
        ("pickup", "r2", 300.0), ("at", 3, 330.0, 2),
        # 3->5 arrives 450, D2 started (leaves 470): still alighting at 460 s
        ("dropoff", "r2", 450.0), ("at", 5, 470.0, 1),
        # 5->6 arrives 530, alights, free at 550 with an empty plan
        ("dropoff", "r1", 530.0), ("at", 6, 550.0, 0),
    ]
    assert v.plan == () and next_event_s(v, tt) == INF


def test_advance_sets_ride_start_of_onboard_passengers():
    tt = line()
    v = veh("v1", node=0)
    v = apply_assignment(v, insert_request(req("r1", 2, 6, board_s=30.0), [v], tt, now_s=0.0))
    v, done = advance(v, 125.0, tt)
    assert [s.stop.kind for s in done] == [StopKind.PICKUP]
    assert v.onboard_pax == 1 and v.plan[0].ride_start_s == 150.0
    assert (v.node, v.available_s) == (2, 150.0)  # still boarding at 125 s


# --------------------------------------------------------------------------------------
# plan check, data validation
# --------------------------------------------------------------------------------------
def test_check_plan_lists_violations():
    tt = line()
    p = PlanStop("x", StopKind.PICKUP, 5, 3, 0.0, 100.0, 0.0)  # reached at 300 > 100
    d = PlanStop("x", StopKind.DROPOFF, 9, 3, -INF, INF, 0.0, 60.0)  # ride 240 > 60
    v = veh(cap=2, shift_end_s=400.0)
    chk = check_plan(v, tt, stops=(p, d))
    assert not chk.feasible
    text = " | ".join(chk.violations)
    for needle in ("load 3 outside 0..2", "after latest 100", "ride 240 s > max 60 s",
                   "after shift end 400"):
        assert needle in text
    bad_order = check_plan(veh(), tt, stops=(PlanStop("y", StopKind.DROPOFF, 2, 1, -INF, INF,
                                                      0.0, INF), ))
    assert any("drop-off before its pick-up" in x for x in bad_order.violations)


def test_vehicle_state_validation():
    with pytest.raises(DispatchError, match="onboard_pax 1 != 0"):
        veh(onboard_pax=1)
    with pytest.raises(DispatchError, match="without a pick-up in the plan"):
        veh(plan=(PlanStop("a", StopKind.DROPOFF, 1, 1, -INF, INF, 0.0),))
    with pytest.raises(DispatchError, match="pick-ups without drop-off"):
        veh(plan=(PlanStop("a", StopKind.PICKUP, 1, 1, 0.0, 10.0, 0.0),))
    with pytest.raises(DispatchError, match="kind 'board'"):
        PlanStop("a", "board", 1, 1, 0.0, 1.0, 0.0)
    assert PlanStop("a", "pickup", 1, 1, 0.0, 1.0, 0.0).kind is StopKind.PICKUP
    with pytest.raises(DispatchError, match="latest_pickup_s"):
        req("r", 1, 2, e=100.0, late=50.0)
    with pytest.raises(DispatchError, match="duplicated"):
        insert_request(req("r", 1, 2), [veh("a"), veh("a")], line())


def test_make_request():
    r = make_request("r", 1, 4, 180.0, t_request_s=100.0, max_wait_s=600.0,
                     detour_alpha=1.5, detour_beta_s=300.0)
    assert (r.earliest_pickup_s, r.latest_pickup_s, r.max_ride_s) == (100.0, 700.0, 570.0)


# --------------------------------------------------------------------------------------
# batch assignment vs sequential insertion; pruning
# --------------------------------------------------------------------------------------
def test_batch_beats_sequential_insertion():
    tt = line()
    a, b = veh("A", node=0), veh("B", node=6)
    # r1 4->5 (pick up by 250 s): A +300 s (0->4->5), B +180 s (6->4->5): greedy takes B.
    # r2 7->8 (pick up by 100 s, ride <= 100 s): only B reaches 7 in time (60 s); with r1
    # on B, r2 first delays r1 (6->7->8->4 = 360 s > 250) or rides 7->4->8 (420 s > 100).
    r1 = req("r1", 4, 5, late=250.0)
    r2 = req("r2", 7, 8, late=100.0, ride=100.0)
    seq = get_dispatch_policy("insertion")(tt).dispatch([r1, r2], [a, b], now_s=0.0)
    assert [x.vehicle_id for x in seq.assignments] == ["B"]
    assert [x.reason for x in seq.rejections] == [RejectReason.RIDE_TIME]
    batch = get_dispatch_policy("batch_lsa")(tt, batch_interval_s=60.0)
    res = batch.dispatch([r1, r2], [a, b], now_s=0.0)
    assert not res.rejections
    assert {(x.request_id, x.vehicle_id) for x in res.assignments} == {("r1", "A"), ("r2", "B")}
    assert sum(x.cost_s for x in res.assignments) == 300.0 + 120.0
    for v in res.vehicles:
        assert check_plan(v, tt).feasible


def test_batch_leftovers_go_to_insertion():
    # one vehicle, two compatible requests: one by assignment, the other pooled by insertion
    tt = line()
    res = get_dispatch_policy("batch_lsa")(tt).dispatch(
        [req("r1", 2, 6), req("r2", 3, 5)], [veh("A")], now_s=0.0)
    assert len(res.assignments) == 2 and not res.rejections
    assert [s.stop.request_id for s in res.assignments[-1].schedule] == ["r1", "r2", "r2", "r1"]


def test_pruning_skips_far_vehicles_with_identical_result():
    tt = line(41)
    fleet = [veh(f"v{k:02d}", node=k) for k in range(41)]
    r = req("r", 20, 22, late=90.0)  # only vehicles within 1 hop of node 20 can make it
    pruned, full = InsertionEngine(tt, prune=True), InsertionEngine(tt, prune=False)
    a, b = pruned.insert(r, fleet), full.insert(r, fleet)
    assert a == b and a.vehicle_id == "v20"
    assert pruned.n_evaluated_rows == 3 and full.n_evaluated_rows == 41


def test_non_metric_times_shortcut_cannot_hide_a_longer_ride():
    # Travel times that break the triangle inequality: 0->3 takes 100 s, but 0->1->2->3
    # takes 30 s. Plan: pick up "a" at 3, pick up "b" at 4 (not before 500 s), drop "a" at 5
    # (ride <= 450 s), drop "b" at 6: a rides 100 -> 510 = 410 s.
    # Inserting the new request 1 -> 2 first reaches 3 at 30 s, so "a" rides 30 -> 510 =
    # 480 s > 450, although from "b"'s pick-up on the schedule is the old one again.
    # It would save 70 s of driving, but is infeasible; the best feasible is pick-up first,
    # drop-off last: 0->1->3->4->5->6->2 = 10+100+10+10+10+100 = 240 s (+110 s).
    t = np.full((7, 7), 100.0)
    np.fill_diagonal(t, 0.0)
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]:
        t[a, b] = 10.0
    tt = MatrixTravelTimes(t)
    plan = (
        PlanStop("a", StopKind.PICKUP, 3, 1, 0.0, 1000.0, 0.0),
        PlanStop("b", StopKind.PICKUP, 4, 1, 500.0, 1000.0, 0.0),
        PlanStop("a", StopKind.DROPOFF, 5, 1, -INF, INF, 0.0, 450.0),
        PlanStop("b", StopKind.DROPOFF, 6, 1, -INF, INF, 0.0, INF),
    )
    v = veh(node=0, plan=plan)
    assert check_plan(v, tt).feasible
    for prune in (True, False):
        res = insert_request(req("r", 1, 2, late=1000.0), [v], tt, prune=prune)
        assert (res.pickup_index, res.dropoff_index, res.cost_s) == (0, 5, 110.0)
        assert check_plan(apply_assignment(v, res), tt).feasible


def test_weighted_cost():
    # cost = added driving + 2 x wait + 0.5 x ride. "near" (node 3) reaches pick-up 2 at
    # 60 s: 300 s driving (60 + 240), wait 60 s, ride 240 s -> 300 + 120 + 120 = 540;
    # "far" (node 0) at 120 s: 360 + 240 + 120 = 720
    tt = line()
    cfg = DispatchConfig(wait_weight=2.0, ride_weight=0.5)
    fleet = [veh("far", node=0), veh("near", node=3)]
    a = insert_request(req("r", 2, 6, board_s=10.0), fleet, tt, config=cfg)
    assert a.vehicle_id == "near"
    # near: pick-up at 60, leaves 70, arrives 6 at 70 + 240 = 310: ride 240
    assert (a.pickup_s, a.dropoff_s) == (60.0, 310.0)
    assert a.added_drive_s == 300.0
    assert a.cost_s == 300.0 + 2.0 * 60.0 + 0.5 * 240.0
