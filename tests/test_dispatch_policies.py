"""Rebalancing and idle policies, and the policy registries."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tomakomai_maas.dispatch as dispatch
from tomakomai_maas.dispatch import (
    DrtRequest,
    MatrixTravelTimes,
    PlanStop,
    StopKind,
    VehicleState,
    apply_move,
    dispatch_policy_names,
    get_dispatch_policy,
    get_idle_policy,
    get_rebalancing_policy,
    idle_policy_names,
    largest_remainder,
    rebalancing_policy_names,
    register_dispatch_policy,
    zone_request_counts,
)
from tomakomai_maas.errors import DispatchError

INF = math.inf

# nine nodes on a line (60 s per hop) in three zones: 0-2 (centroid 1), 3-5 (4), 6-8 (7)
TT = MatrixTravelTimes(np.abs(np.arange(9)[:, None] - np.arange(9)[None, :]) * 60.0)
ZONE_OF_NODE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
CENTROIDS = [1, 4, 7]


def idle(vid, node, avail=0.0, depot=None) -> VehicleState:
    return VehicleState(vid, 4, node, avail, depot=depot)


def busy(vid, node) -> VehicleState:
    p = PlanStop(f"{vid}-r", StopKind.PICKUP, 2, 1, 0.0, 900.0, 0.0)
    d = PlanStop(f"{vid}-r", StopKind.DROPOFF, 0, 1, -INF, INF, 0.0)
    return VehicleState(vid, 4, node, 0.0, plan=(p, d))


def zone_policy(**kw):
    return get_rebalancing_policy("zone_deficit")(
        TT, zone_of_node=ZONE_OF_NODE, zone_centroids=CENTROIDS, **kw)


def test_largest_remainder():
    assert largest_remainder([0, 1, 2], 3).tolist() == [0, 1, 2]
    assert largest_remainder([1, 1, 1], 2).tolist() == [1, 1, 0]  # ties: lower index
    assert largest_remainder([0, 0], 5).tolist() == [0, 0]
    assert largest_remainder([3, 1], 7).sum() == 7


def test_zone_deficit_moves_idle_vehicles_towards_demand():
    fleet = [idle("a", 0), idle("b", 1), idle("c", 2)]
    moves = zone_policy().propose(fleet, now_s=100.0, expected_requests_by_zone=[0.0, 1.0, 2.0])
    # targets 0/1/2 vehicles; all three leave zone 0: one to centroid 4, two to centroid 7
    assert sorted(m.to_node for m in moves) == [4, 7, 7]
    assert sorted(m.vehicle_id for m in moves) == ["a", "b", "c"]
    # the matching minimises total drive time: on a line every non-crossing matching costs
    # (4 + 6 + 5) hops = 15 hops = 900 s
    assert sum(m.arrive_s - m.depart_s for m in moves) == 900.0
    for m in moves:
        assert m.depart_s == 100.0
        assert m.arrive_s == 100.0 + abs(m.to_node - m.from_node) * 60.0
    by_id = {v.vehicle_id: v for v in fleet}
    for m in moves:
        v = apply_move(by_id[m.vehicle_id], m)
        assert (v.node, v.available_s, v.is_idle) == (m.to_node, m.arrive_s, True)


def test_zone_deficit_prefers_the_closest_surplus_vehicles():
    # zone 0 holds three idle vehicles, target 1 there and 2 in zone 1: the two nearest to
    # centroid 4 (nodes 2 and 1) leave, node 0 stays
    fleet = [idle("far", 0), idle("mid", 1), idle("near", 2)]
    moves = zone_policy().propose(fleet, now_s=0.0, expected_requests_by_zone=[1.0, 2.0, 0.0])
    assert sorted(m.vehicle_id for m in moves) == ["mid", "near"]
    assert {m.to_node for m in moves} == {4}


def test_zone_deficit_never_moves_busy_or_travelling_vehicles():
    fleet = [busy("busy", 0), idle("travelling", 1, avail=500.0), idle("free", 2)]
    moves = zone_policy().propose(fleet, now_s=100.0, expected_requests_by_zone=[0.0, 0.0, 1.0])
    assert [m.vehicle_id for m in moves] == ["free"]
    assert moves[0].to_node == 7


def test_zone_deficit_no_moves_when_balanced_or_no_demand():
    fleet = [idle("a", 1), idle("b", 4), idle("c", 7)]
    pol = zone_policy()
    assert pol.propose(fleet, now_s=0.0, expected_requests_by_zone=[1.0, 1.0, 1.0]) == ()
    assert pol.propose(fleet, now_s=0.0, expected_requests_by_zone=[0.0, 0.0, 0.0]) == ()


def test_zone_deficit_respects_max_move():
    fleet = [idle("a", 0), idle("b", 1)]
    moves = zone_policy(max_move_s=200.0).propose(
        fleet, now_s=0.0, expected_requests_by_zone=[0.0, 0.0, 1.0])
    assert moves == ()  # 6+ hops = 360 s > 200 s


def test_zone_deficit_input_errors():
    with pytest.raises(DispatchError, match="3 zones|expected 3"):
        zone_policy().propose([idle("a", 0)], now_s=0.0, expected_requests_by_zone=[1.0])
    with pytest.raises(DispatchError, match="needs expected_requests_by_zone"):
        zone_policy().propose([idle("a", 0)], now_s=0.0)
    with pytest.raises(DispatchError, match="0..2"):
        get_rebalancing_policy("zone_deficit")(TT, zone_of_node=[0, 5], zone_centroids=CENTROIDS)


def test_zone_request_counts():
    reqs = [DrtRequest(f"r{k}", o, 8, n, t, t, t + 60, 999.0)
            for k, (o, n, t) in enumerate([(0, 1, 10.0), (4, 2, 20.0), (5, 1, 30.0), (7, 1, 99.0)])]
    got = zone_request_counts(reqs, ZONE_OF_NODE, 3, t_from_s=0.0, t_to_s=60.0)
    assert got.tolist() == [1.0, 3.0, 0.0]


def test_idle_policies():
    fleet = [idle("home", 3, depot=3), idle("away", 8, depot=3), idle("nodepot", 5),
             busy("busy", 6).with_changes(depot=3), idle("moving", 7, avail=900.0, depot=3)]
    assert get_idle_policy("stay")(TT).propose(fleet, now_s=100.0) == ()
    moves = get_idle_policy("return_to_depot")(TT).propose(fleet, now_s=100.0)
    assert [(m.vehicle_id, m.to_node, m.arrive_s) for m in moves] == [("away", 3, 400.0)]
    assert get_rebalancing_policy("none")(TT).propose(fleet, now_s=0.0) == ()


def test_apply_move_refuses_busy_vehicle():
    v = busy("b", 0)
    m = dispatch.RebalanceMove("b", 0, 4, 0.0, 240.0)
    with pytest.raises(DispatchError, match="only idle"):
        apply_move(v, m)


# --------------------------------------------------------------------------------------
# registries
# --------------------------------------------------------------------------------------
def test_registry_names_and_lookup():
    assert dispatch_policy_names() == ("batch_lsa", "insertion")
    assert rebalancing_policy_names() == ("none", "zone_deficit")
    assert idle_policy_names() == ("return_to_depot", "stay")
    assert get_dispatch_policy("insertion") is dispatch.InsertionPolicy
    assert get_dispatch_policy("batch_lsa") is dispatch.BatchAssignmentPolicy
    assert get_idle_policy("return_to_depot") is dispatch.ReturnToDepotIdlePolicy
    assert get_rebalancing_policy("zone_deficit") is dispatch.ZoneDeficitRebalancing


@pytest.mark.parametrize(
    ("getter", "name", "needle"),
    [
        (get_dispatch_policy, "insertoin", "did you mean 'insertion'"),
        (get_dispatch_policy, "batch", "did you mean 'batch_lsa'"),
        (get_rebalancing_policy, "zone-deficit", "did you mean 'zone_deficit'"),
        (get_idle_policy, "return_to_deopt", "did you mean 'return_to_depot'"),
    ],
)
def test_registry_unknown_name_suggests(getter, name, needle):
    with pytest.raises(DispatchError, match="valid names: ") as exc:
        getter(name)
    assert needle in str(exc.value)
    assert repr(name) in str(exc.value)


def test_registry_unknown_name_without_close_match_lists_all():
    with pytest.raises(DispatchError) as exc:
        get_dispatch_policy("xyz")
    assert str(exc.value) == "unknown dispatch policy 'xyz'; valid names: batch_lsa, insertion"
    with pytest.raises(DispatchError, match="unknown idle policy None"):
        get_idle_policy(None)


def test_registry_refuses_a_second_class_under_a_taken_name():
    with pytest.raises(DispatchError, match="already registered"):
        @register_dispatch_policy("insertion")
        class Other:  # noqa: F841
            pass


def test_batch_interval_validation():
    with pytest.raises(DispatchError, match="batch_interval_s"):
        get_dispatch_policy("batch_lsa")(TT, batch_interval_s=0.0)
    assert get_dispatch_policy("insertion").batch_interval_s == 0.0
