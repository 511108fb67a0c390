"""Mode choice <-> simulation feedback: iterations, convergence, outputs, determinism."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tomakomai_maas.demand.choice import MODES
from tomakomai_maas.demand.feedback import (
    CHOICES_SCHEMA,
    ITERATIONS_SCHEMA,
    RIDERSHIP_SCHEMA,
    apply_observed,
    observed_stats,
    simulate_with_choice,
)
from tomakomai_maas.demand.modechoice import find_mode_choice
from tomakomai_maas.scenario.build import build
from tomakomai_maas.scenario.load import load_scenario
from tomakomai_maas.sim import simulate

REPO = Path(__file__).resolve().parents[1]
SMALL = ["service.start_time='10:00'", "service.end_time='12:00'",
         "demand.generated.keep_zones=[C33, C34, C43, C44, C45, C54, C55, P3]"]


def _world(*extra: str):
    return build(load_scenario(REPO / "scenarios" / "av_trial_2023.yaml", [*SMALL, *extra]))


@pytest.fixture(scope="module")
def crowded():
    """An AV bus of capacity 2 that many want to ride: crowding pushes riders away."""
    w = _world("vehicle_types.av_arma_2023.capacity=2", "maas.av_constant=3.0",
               "maas.choice_iterations=10", "maas.convergence_tol=0.03")
    return w, simulate_with_choice(w, 5)


def test_feedback_reports_every_iteration_and_converges_on_crowding(crowded):
    w, run = crowded
    it = run.iterations
    assert list(it.columns) == list(ITERATIONS_SCHEMA)
    assert it["iteration"].tolist() == list(range(len(it)))
    assert len(it) >= 2 and it["changed_share"].iloc[0] == 0.0
    assert run.kpis["choice_iterations"] == len(it) - 1
    assert run.kpis["choice_changed_share_last"] == pytest.approx(it["changed_share"].iloc[-1])
    assert run.converged and run.kpis["choice_converged"] == 1.0
    assert it["changed_share"].iloc[-1] <= 0.03
    assert it["changed_share"].iloc[-1] < it["changed_share"].iloc[1]
    # crowding (denied boardings, left-behind waits) moved travellers off the AV bus
    av = it["share_av_bus"].to_numpy()
    assert av[-1] < av[0]
    assert (it["eligible"] > 0).all() and (it["eligible"] < it["travellers"]).all()


def test_observed_extra_waits_raise_the_skimmed_wait(crowded):
    w, run = crowded
    mc = find_mode_choice(w.sample_requests)
    from tomakomai_maas.demand.feedback import prepare_replication

    inputs = prepare_replication(w, 5, mc)
    res = run.result
    stats = observed_stats(res.trips, res.legs, failure_penalty_min=30.0)
    assert stats["by_route"], "AV riders were simulated"
    new = apply_observed(inputs.prepared, stats)
    j = MODES.index("av_bus")
    ok = inputs.prepared.los.available[:, j]
    assert (new.wait_min[ok, j] >= 0).all()
    assert new.wait_min[ok, j].sum() > inputs.prepared.los.wait_min[ok, j].sum()


def test_outputs_list_every_traveller_with_the_chosen_mode(crowded):
    w, run = crowded
    t = run.tables
    ch, trips = t["choices"], t["trips"]
    assert list(ch.columns) == list(CHOICES_SCHEMA)
    assert list(t["ridership"].columns) == list(RIDERSHIP_SCHEMA)
    assert ch["request_id"].is_unique and set(ch["request_id"]) == set(trips["request_id"])
    m = trips.merge(ch[["request_id", "request_mode", "chosen_mode"]], on="request_id")
    assert (m["request_mode_x"] == m["request_mode_y"]).all()
    # skipped modes keep their name in the trips table
    cars = m[m["chosen_mode"].isin(["car_driver", "car_passenger"])]
    assert len(cars) and (cars["status"] == "skipped").all() and \
        (cars["mode"] == cars["chosen_mode"]).all()
    p = ch[[f"p_{m}" for m in MODES]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    u = ch[[f"u_{m}" for m in MODES]].to_numpy()
    assert (np.isnan(u) == (p == 0)).all() or (np.isnan(u) <= (p == 0)).all()
    shares = ch["chosen_mode"].value_counts(normalize=True)
    for mode in ("walk", "av_bus"):
        assert run.kpis[f"mode_share.{mode}"] == pytest.approx(shares.get(mode, 0.0))
    assert run.kpis["boardings_av"] == t["ridership"]["boardings"].sum()


def test_feedback_is_deterministic():
    w = _world("maas.choice_iterations=2")
    a = simulate_with_choice(w, 9)
    b = simulate_with_choice(w, 9)
    pd.testing.assert_frame_equal(a.tables["choices"], b.tables["choices"])
    pd.testing.assert_frame_equal(a.tables["trips"], b.tables["trips"])
    assert a.kpis == pytest.approx(b.kpis, nan_ok=True)


def test_plain_simulate_equals_iteration_zero_of_the_driver():
    w = _world("maas.choice_iterations=0")
    run = simulate_with_choice(w, 4)
    plain = simulate(w, 4)
    pd.testing.assert_frame_equal(run.tables["trips"], plain.trips)
    assert math.isnan(run.kpis["choice_changed_share_last"])
    assert run.kpis["choice_iterations"] == 0


def test_runner_writes_choice_tables_and_kpis(tmp_path):
    from tomakomai_maas.runner import run

    sc = load_scenario(REPO / "scenarios" / "av_trial_2023.yaml",
                       [*SMALL, "maas.choice_iterations=1"])
    out = run(sc, replications=2, out_root=tmp_path, run_id="t", workers=1)
    for name in ("choices", "choice_iterations", "ridership"):
        assert (out.path / f"{name}.csv").exists()
    k = out.summary["kpis"]
    assert "mode_share.av_bus" in k and "choice_changed_share_last" in k
    assert k["choice_travellers"]["n"] == 2


def test_world_without_generated_demand_is_untouched():
    w = build(load_scenario(REPO / "scenarios" / "av_trial_2023.yaml",
                            ["demand.generated=null", "demand.stop_rates=[{from_stop: av23_01, "
                             "to_stop: av23_07, per_day: 10, start_time: '09:30', "
                             "end_time: '14:40'}]"]))
    assert simulate_with_choice(w, 1) is None


def test_observed_stats_count_left_behind_and_failures():
    trips = pd.DataFrame({
        "request_id": ["a", "b", "c", "d"], "request_mode": ["pt", "pt", "drt", "drt"],
        "status": ["served", "gave_up", "served", "rejected"],
        "wait_min": [5.0, 40.0, 4.0, np.nan], "planned_wait_min": [3.0, 3.0, np.nan, np.nan],
        "arrive_s": [1000.0, np.nan, 2000.0, np.nan],
        "planned_arrive_s": [880.0, 950.0, np.nan, np.nan],
        "depart_s": [36000.0, 36100.0, 36200.0, 36300.0]})
    legs = pd.DataFrame({"request_id": ["a", "b"], "leg_index": [1, 1], "kind": ["ride"] * 2,
                         "route_id": ["r", "r"], "from_stop": ["s", "s"],
                         "planned_start_s": [36300.0, 36400.0]})
    st = observed_stats(trips, legs, failure_penalty_min=30.0)
    extra, sd = st["by_key"][("r", "s", 10)]
    assert extra == pytest.approx(((5 - 3) + (40 - 3 + 30)) / 2)
    assert st["by_route"][("r",)][0] == pytest.approx(extra)
    assert sd > 0
    assert st["drt_all"] == pytest.approx((4.0 + 30.0) / 2)
    assert st["drt"][10] == pytest.approx(17.0)
