"""Brute-force verification of the insertion dispatcher on small random instances.

The oracle here is written independently of ``tomakomai_maas.dispatch`` internals: it uses
only the public dataclasses and re-implements the documented semantics in plain Python
(as-early-as-possible schedules; commitments already in a plan kept "no worse than now";
cost = added driving time; ties by vehicle id, then pick-up position, then drop-off
position; rejection reason = first failed check of the candidate that got furthest, checks
in the order unreachable, late, capacity, time window, ride time, battery — the new plan's
road distance with the drive back to the depot within ``max(range_m, current plan's)``).

Instances come from one generator driven either by Hypothesis (shrinkable) or by a seeded
numpy generator (a deterministic sweep that also asserts the share of infeasible requests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tomakomai_maas.dispatch import (
    Assignment,
    BatchAssignmentPolicy,
    DispatchConfig,
    DrtRequest,
    InsertionEngine,
    MatrixTravelTimes,
    PlanStop,
    Rejection,
    RejectReason,
    StopKind,
    VehicleState,
    apply_assignment,
)

INF = math.inf
STAGES = [
    RejectReason.UNREACHABLE,
    RejectReason.NO_VEHICLE_IN_TIME,
    RejectReason.CAPACITY,
    RejectReason.TIME_WINDOW,
    RejectReason.RIDE_TIME,
    RejectReason.BATTERY,
]
FEASIBLE = len(STAGES)


# --------------------------------------------------------------------------------------
# independent oracle
# --------------------------------------------------------------------------------------
def simulate(T, v: VehicleState, seq, start):
    """Plain schedule: list of (arr, start, dep, load_after) and total drive, end node."""
    t, prev, load, drive = start, v.node, v.onboard_pax, 0.0
    out = []
    for s in seq:
        leg = T[prev][s.node]
        arr = t + leg
        st_ = max(arr, s.earliest_s)
        dep = st_ + s.service_s
        load += s.n_pax if s.kind == StopKind.PICKUP else -s.n_pax
        out.append((arr, st_, dep, load))
        drive += leg
        t, prev = dep, s.node
    return out, drive, prev


def end_time(T, v, times, last_node, start, rtd):
    end = times[-1][2] if times else start
    if rtd and v.depot is not None:
        end += T[last_node][v.depot]
    return end


def rides(v, seq, times):
    """Ride time of each drop-off in seq (None for pick-ups)."""
    starts = {s.request_id: s.ride_start_s for s in seq if s.kind == StopKind.DROPOFF}
    out = []
    for s, (arr, _, dep, _) in zip(seq, times, strict=True):
        if s.kind == StopKind.PICKUP:
            starts[s.request_id] = dep
            out.append(None)
        else:
            out.append(arr - starts[s.request_id])
    return out


def plan_dist(Dm, v, seq):
    """Road distance from the vehicle's node through seq, then back to its depot if any."""
    prev, dist = v.node, 0.0
    for s in seq:
        dist += Dm[prev][s.node]
        prev = s.node
    return dist + (Dm[prev][v.depot] if v.depot is not None else 0.0)


def candidate(T, v, req, i, j, start, rtd, Dm=None):
    """(stage, cost) of inserting req into v at (i, j)."""
    old = list(v.plan)
    cur, cur_drive, cur_last = simulate(T, v, old, start)
    cur_rides = rides(v, old, cur)
    cur_end = end_time(T, v, cur, cur_last, start, rtd)
    P = PlanStop(req.request_id, StopKind.PICKUP, req.origin, req.n_pax,
                 req.earliest_pickup_s, req.latest_pickup_s, req.board_s)
    D = PlanStop(req.request_id, StopKind.DROPOFF, req.dest, req.n_pax, -INF,
                 INF if req.latest_dropoff_s is None else req.latest_dropoff_s,
                 req.alight_s, req.max_ride_s)
    tags = [*range(i), "P", *range(i, j), "D", *range(j, len(old))]
    seq = [P if g == "P" else D if g == "D" else old[g] for g in tags]
    new, drive, last = simulate(T, v, seq, start)
    new_rides = rides(v, seq, new)
    cap_bad = tw_bad = ride_bad = False
    p_start = None
    for g, s, (arr, st_, _, load), ride in zip(tags, seq, new, new_rides, strict=True):
        if load > v.capacity:
            cap_bad = True
        if g == "P":
            p_start = st_
            continue
        limit = s.latest_s if g == "D" else max(s.latest_s, cur[g][1])
        if not (math.isfinite(arr) and st_ <= limit):
            tw_bad = True
        if ride is not None:
            rlim = s.max_ride_s if g == "D" else max(s.max_ride_s, cur_rides[g])
            if not ride <= rlim:
                ride_bad = True
    end = end_time(T, v, new, last, start, rtd)
    if not end <= max(v.shift_end_s, cur_end):
        tw_bad = True
    if not math.isfinite(p_start):
        stage = 0
    elif p_start > req.latest_pickup_s:
        stage = 1
    elif cap_bad:
        stage = 2
    elif tw_bad:
        stage = 3
    elif ride_bad:
        stage = 4
    elif Dm is not None and not plan_dist(Dm, v, seq) <= max(v.range_m, plan_dist(Dm, v, old)):
        stage = 5
    else:
        stage = FEASIBLE
    return stage, drive - cur_drive


@dataclass
class Expected:
    accepted: bool
    reason: RejectReason | None = None
    choice: tuple | None = None  # (vehicle_id, i, j)
    cost: float | None = None
    n_feasible: int = 0


def brute_force(T, req: DrtRequest, vehicles, now, cfg: DispatchConfig, Dm=None) -> Expected:
    if cfg.service_nodes is not None and not (
        req.origin in cfg.service_nodes and req.dest in cfg.service_nodes
    ):
        return Expected(False, RejectReason.OUTSIDE_AREA)
    if cfg.service_hours_s is not None and not any(
        a <= req.earliest_pickup_s < b for a, b in cfg.service_hours_s
    ):
        return Expected(False, RejectReason.OUTSIDE_HOURS)
    if req.prebooked and not (
        cfg.min_booking_lead_s <= req.earliest_pickup_s - req.t_request_s <= cfg.max_booking_lead_s
    ):
        return Expected(False, RejectReason.OUTSIDE_HOURS)
    if not math.isfinite(T[req.origin][req.dest]):
        return Expected(False, RejectReason.UNREACHABLE)
    if not vehicles:
        return Expected(False, RejectReason.NO_VEHICLE_IN_TIME)
    if req.n_pax > max(v.capacity for v in vehicles):
        return Expected(False, RejectReason.CAPACITY)
    best_stage = -1
    feas = []
    for v in vehicles:
        start = max(v.available_s, v.shift_start_s, now)
        L = len(v.plan)
        for i in range(L + 1):
            for j in range(i, L + 1):
                stage, cost = candidate(T, v, req, i, j, start, cfg.return_to_depot, Dm)
                best_stage = max(best_stage, stage)
                if stage == FEASIBLE:
                    feas.append((cost, v.vehicle_id, i, j))
    if not feas:
        return Expected(False, STAGES[best_stage])
    cost, vid, i, j = min(feas)
    return Expected(True, None, (vid, i, j), cost, len(feas))


# --------------------------------------------------------------------------------------
# instance generator (Hypothesis or seeded numpy)
# --------------------------------------------------------------------------------------
@dataclass
class Instance:
    T: list
    D: list
    vehicles: list
    requests: list
    cfg: DispatchConfig
    now: float


def generate(ri: Callable[[int, int], int]) -> Instance:
    """Random instance; ``ri(lo, hi)`` draws an int in [lo, hi].

    Roughly half the instances are "tight": short windows, small vehicles, big parties,
    occasional unreachable pairs, so that plenty of requests are infeasible.
    """
    tight = ri(0, 1) == 1
    n = ri(3, 6)
    T = [[0.0 if a == b else float(30 * ri(1, 10)) for b in range(n)] for a in range(n)]
    D = [[0.0 if a == b else float(100 * ri(1, 10)) for b in range(n)] for a in range(n)]
    if tight and ri(0, 2) == 0:  # one unreachable pair (or a fully isolated node)
        a, b = ri(0, n - 1), ri(0, n - 1)
        if a != b:
            T[a][b] = INF
            if ri(0, 1):
                for c in range(n):
                    if c != b:
                        T[c][b] = INF
    now = float(ri(0, 4) * 60)
    rid = iter(range(1000))

    def window(wide):
        e = float(now + 60 * ri(0, 10))
        return e, e + float(60 * ri(0, 15 if wide else 4))

    def mk_req(wide):
        o, d = ri(0, n - 1), ri(0, n - 1)
        if o == d:
            d = (o + 1) % n
        e, late = window(wide)
        direct = T[o][d] if math.isfinite(T[o][d]) else 300.0
        max_ride = direct + float(60 * ri(0, 10 if wide else 2))
        ldo = None if ri(0, 3) else e + float(60 * ri(2, 20))
        return DrtRequest(
            f"r{next(rid)}", o, d, ri(1, 3 if tight else 2), now, e, late, max_ride, ldo,
            float(10 * ri(0, 3)), float(10 * ri(0, 3)),
        )

    vehicles = []
    for k in range(ri(1, 3)):
        cap = ri(1, 2) if tight else ri(2, 4)
        plan = []
        onboard = 0
        for _ in range(ri(0, 2)):
            r = mk_req(True)
            if onboard + r.n_pax <= cap and ri(0, 2) == 0:  # already on board
                onboard += r.n_pax
                plan.append(PlanStop(r.request_id, StopKind.DROPOFF, r.dest, r.n_pax, -INF,
                                     INF if r.latest_dropoff_s is None else r.latest_dropoff_s,
                                     r.alight_s, r.max_ride_s,
                                     ride_start_s=float(now - 60 * ri(0, 5))))
            else:
                p = PlanStop(r.request_id, StopKind.PICKUP, r.origin, r.n_pax,
                             r.earliest_pickup_s, r.latest_pickup_s, r.board_s)
                d = PlanStop(r.request_id, StopKind.DROPOFF, r.dest, r.n_pax, -INF,
                             INF if r.latest_dropoff_s is None else r.latest_dropoff_s,
                             r.alight_s, r.max_ride_s)
                a = ri(0, len(plan))
                plan.insert(a, p)
                plan.insert(ri(a + 1, len(plan)), d)
        shift_end = INF if ri(0, 2) else float(now + 60 * ri(5, 40))
        depot = ri(0, n - 1) if ri(0, 1) else None
        range_m = INF if ri(0, 2) else float(200 * ri(0, 20))  # battery range, 1 in 3
        vehicles.append(VehicleState(
            f"v{k}", cap, ri(0, n - 1), float(now - 60 + 30 * ri(0, 6)), onboard, tuple(plan),
            shift_end_s=shift_end, depot=depot, range_m=range_m,
        ))
    requests = [mk_req(not tight) for _ in range(ri(1, 4))]
    cfg = DispatchConfig(
        return_to_depot=ri(0, 2) == 0,
        service_nodes=frozenset(range(n - 1)) if ri(0, 9) == 0 else None,
        service_hours_s=((now, now + 300.0),) if ri(0, 9) == 0 else None,
    )
    return Instance(T, D, vehicles, requests, cfg, now)


def run_and_compare(inst: Instance) -> list[bool]:
    """Dispatch the instance's requests one by one, checking each against brute force.

    Returns per request whether it was infeasible. Also checks pruning on == off, and
    with the cost bound used on every request (not only on those with many candidates).
    """
    tt = MatrixTravelTimes(np.array(inst.T), np.array(inst.D))
    pruned = InsertionEngine(tt, config=inst.cfg, prune=True)
    bounded = InsertionEngine(tt, config=inst.cfg, prune=True)
    bounded.bound_min_rows = 0
    full = InsertionEngine(tt, config=inst.cfg, prune=False)
    vehicles = list(inst.vehicles)
    infeasible = []
    for req in inst.requests:
        exp = brute_force(inst.T, req, vehicles, inst.now, inst.cfg, inst.D)
        got = pruned.insert(req, vehicles, now_s=inst.now)
        ref = full.insert(req, vehicles, now_s=inst.now)
        assert got == ref, "pruning changed the result"
        assert bounded.insert(req, vehicles, now_s=inst.now) == ref, "the cost bound did"
        infeasible.append(not exp.accepted)
        if exp.accepted:
            assert isinstance(got, Assignment), (exp, got)
            assert (got.vehicle_id, got.pickup_index, got.dropoff_index - 1) == exp.choice
            assert got.cost_s == pytest.approx(exp.cost, abs=1e-9)
            k = [v.vehicle_id for v in vehicles].index(got.vehicle_id)
            vehicles[k] = apply_assignment(vehicles[k], got)
        else:
            assert isinstance(got, Rejection), (exp, got)
            assert got.reason == exp.reason, (got, exp)
    return infeasible


@settings(max_examples=300)
@given(st.data())
def test_insertion_matches_brute_force(data):
    inst = generate(lambda lo, hi: data.draw(st.integers(lo, hi)))
    flags = run_and_compare(inst)
    event("has an infeasible request" if any(flags) else "all feasible")


def test_brute_force_sweep_with_guaranteed_infeasible_share():
    rng = np.random.default_rng(20251104)
    flags: list[bool] = []
    for _ in range(400):
        inst = generate(lambda lo, hi: int(rng.integers(lo, hi + 1)))
        flags += run_and_compare(inst)
    share = sum(flags) / len(flags)
    assert len(flags) > 600
    assert 0.30 <= share <= 0.85, share


# --------------------------------------------------------------------------------------
# batch policy never assigns infeasibly
# --------------------------------------------------------------------------------------
def strictly_feasible(T, v: VehicleState, start, rtd, Dm=None) -> bool:
    """Every limit strict, except the shift end, which may be exceeded by as much as an
    idle vehicle already exceeds it (its drive back to the depot from where it stands),
    and the range, likewise."""
    times, _, last = simulate(T, v, list(v.plan), start)
    if Dm is not None and not plan_dist(Dm, v, v.plan) <= max(v.range_m, plan_dist(Dm, v, ())):
        return False
    for s, (arr, st_, _, load), ride in zip(v.plan, times, rides(v, v.plan, times), strict=True):
        if load > v.capacity or load < 0 or not math.isfinite(arr) or st_ > s.latest_s:
            return False
        if ride is not None and ride > s.max_ride_s:
            return False
    idle_end = end_time(T, v, [], v.node, start, rtd)
    return end_time(T, v, times, last, start, rtd) <= max(v.shift_end_s, idle_end)


@settings(max_examples=150)
@given(st.data())
def test_batch_never_assigns_infeasibly(data):
    inst = generate(lambda lo, hi: data.draw(st.integers(lo, hi)))
    tt = MatrixTravelTimes(np.array(inst.T), np.array(inst.D))
    # start from empty plans so "feasible" is the strict, absolute notion
    vehicles = [v.with_changes(plan=(), onboard_pax=0) for v in inst.vehicles]
    res = BatchAssignmentPolicy(tt, config=inst.cfg).dispatch(
        inst.requests, vehicles, now_s=inst.now
    )
    assert len(res.assignments) + len(res.rejections) == len(inst.requests)
    served = {a.request_id for a in res.assignments}
    assert len(served) == len(res.assignments)
    for v in res.vehicles:
        start = max(v.available_s, v.shift_start_s, inst.now)
        assert strictly_feasible(inst.T, v, start, inst.cfg.return_to_depot, inst.D), v
        assert {s.request_id for s in v.plan} <= served
    event(f"served {len(served)}/{len(inst.requests)}")
