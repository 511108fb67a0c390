"""Mode choice: logit arithmetic, MaaS levers, winter, availability, feedback loop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tomakomai_maas.demand.choice import (
    LOS_FIELDS,
    MODES,
    ChoiceParams,
    LevelOfService,
    MaasLevers,
    apply_car_availability,
    choose,
    iterate_choice,
    mode_shares,
    probabilities,
    softmax,
    utilities,
)
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.rng import stream


def make_los(n: int = 1, **per_mode: dict[str, float]) -> LevelOfService:
    """LOS for ``n`` identical trips; ``per_mode[mode] = {field: value}``; others unavailable."""
    arr = {f: np.zeros((n, len(MODES))) for f in LOS_FIELDS}
    avail = np.zeros((n, len(MODES)), dtype=bool)
    for m, vals in per_mode.items():
        j = MODES.index(m)
        avail[:, j] = True
        for f, v in vals.items():
            arr[f][:, j] = v
    return LevelOfService(**arr, available=avail)


def typical_los(n: int = 1) -> LevelOfService:
    """A 3 km trip in the centre (all values illustrative)."""
    return make_los(
        n,
        walk={"walk_min": 38},
        bike={"ivt_min": 12, "walk_min": 1},
        car_driver={"ivt_min": 8, "walk_min": 2, "fare_yen": 150},
        car_passenger={"ivt_min": 8, "walk_min": 2},
        bus={"walk_min": 8, "wait_min": 10, "ivt_min": 12, "fare_yen": 230,
             "reliability_sd_min": 3},
        av_bus={"walk_min": 8, "wait_min": 15, "ivt_min": 20, "fare_yen": 230,
                "reliability_sd_min": 4},
        drt={"wait_min": 12, "ivt_min": 11, "fare_yen": 500, "reliability_sd_min": 5},
    )


def share(los: LevelOfService, mode: str, **kw) -> float:
    return float(probabilities(los, **kw)[0, MODES.index(mode)])


def test_two_modes_ln3_gives_three_quarters():
    v = np.array([[math.log(3.0), 0.0]])
    np.testing.assert_allclose(softmax(v), [[0.75, 0.25]])
    # same through the LOS path: equal LOS except the ASC difference of ln 3
    params = ChoiceParams(asc={"walk": math.log(3.0), "bus": 0.0})
    los = make_los(walk={"walk_min": 10}, bus={"walk_min": 10})
    p = probabilities(los, params)[0]
    assert p[MODES.index("walk")] == pytest.approx(0.75)
    assert p[MODES.index("bus")] == pytest.approx(0.25)
    assert p.sum() == pytest.approx(1.0)


def test_generalised_cost_arithmetic():
    params = ChoiceParams(beta_gc_per_min=-0.1, value_of_time_yen_per_min=20.0,
                          walk_weight=2.0, wait_weight=3.0, transfer_penalty_min=5.0,
                          reliability_weight=0.5, asc={})
    los = make_los(bus={"walk_min": 4, "wait_min": 2, "ivt_min": 10, "transfers": 1,
                        "fare_yen": 200, "reliability_sd_min": 2})
    gc = 10 + 2 * 4 + 3 * 2 + 5 * 1 + 200 / 20 + 0.5 * 2
    assert utilities(los, params)[0, MODES.index("bus")] == pytest.approx(-0.1 * gc)
    assert np.isneginf(utilities(los, params)[0, MODES.index("walk")])


def test_probabilities_sum_to_one_and_unavailable_is_zero():
    los = typical_los(4)
    avail = los.available.copy()
    avail[1, MODES.index("car_driver")] = False
    avail[2, :] = False
    avail[2, MODES.index("walk")] = True
    los = LevelOfService(**{f: getattr(los, f) for f in LOS_FIELDS}, available=avail)
    p = probabilities(los)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[1, MODES.index("car_driver")] == 0.0
    assert p[2, MODES.index("walk")] == 1.0
    assert (p[0] > 0).all()


def test_car_availability_from_trips():
    los = typical_los(3)
    car = np.array([True, True, False])
    lic = np.array([True, False, True])
    p = probabilities(apply_car_availability(los, car, lic))
    cd, cp = MODES.index("car_driver"), MODES.index("car_passenger")
    assert p[0, cd] > 0 and p[0, cp] > 0
    assert p[1, cd] == 0 and p[1, cp] > 0   # no licence: passenger only
    assert p[2, cd] == 0 and p[2, cp] == 0   # no car in the household


def test_fare_cut_raises_share():
    los = typical_los()
    base = share(los, "bus")
    assert share(los, "bus", levers=MaasLevers(fare_discount_share=0.5)) > base
    # the discount applies to the MaaS modes only, so car loses share
    assert share(los, "car_driver", levers=MaasLevers(fare_discount_share=0.5)) < \
        share(los, "car_driver")
    free = MaasLevers(free_fare=True)  # the AV trials were free
    assert share(los, "av_bus", levers=free) > share(los, "av_bus")
    assert share(los, "bus", levers=free) < base  # bus still charged, loses to the free AV


def test_realtime_information_and_transfers_and_novelty():
    los = typical_los()
    assert share(los, "bus", levers=MaasLevers(perceived_wait_multiplier=0.8)) > \
        share(los, "bus")
    los_t = make_los(walk={"walk_min": 30}, bus={"ivt_min": 10, "transfers": 1, "wait_min": 5})
    assert share(los_t, "bus", levers=MaasLevers(transfer_penalty_reduction=0.5)) > \
        share(los_t, "bus")
    assert share(los, "av_bus", levers=MaasLevers(av_novelty_utility=0.5)) > \
        share(los, "av_bus")


def test_winter_moves_shares_in_documented_direction():
    los = typical_los()
    for m in ("walk", "bike"):
        assert share(los, m, winter=True) < share(los, m)
    for m in ("car_driver", "car_passenger"):
        assert share(los, m, winter=True) > share(los, m)


def test_lever_and_param_validation():
    with pytest.raises(ScenarioError, match=r"maas\.fare_discount_share: 1\.5 must be in"):
        MaasLevers(fare_discount_share=1.5)
    with pytest.raises(ScenarioError, match=r"maas\.maas_modes: unknown mode\(s\) \['tram'\]"):
        MaasLevers(maas_modes=("tram",))
    with pytest.raises(ScenarioError, match=r"choice\.params\.asc: unknown mode\(s\) \['taxi'\]"):
        ChoiceParams(asc={"taxi": 0.0})
    with pytest.raises(ScenarioError, match=r"beta_gc_per_min: 0\.1 must be <= 0"):
        ChoiceParams(beta_gc_per_min=0.1)


def test_los_validation_messages():
    with pytest.raises(ScenarioError, match=r"wait_min\[0, bus\] = -1\.0"):
        make_los(bus={"wait_min": -1})
    with pytest.raises(ScenarioError, match=r"1 trip\(s\) have no available mode"):
        probabilities(make_los(2, walk={"walk_min": 1}).__class__(
            **{f: np.zeros((1, len(MODES))) for f in LOS_FIELDS},
            available=np.zeros((1, len(MODES)), bool)))
    # unavailable entries may hold anything (NaN/inf) and are ignored
    los = make_los(walk={"walk_min": 5})
    wait = los.wait_min.copy()
    wait[0, MODES.index("bus")] = np.nan
    ok = LevelOfService(**{**{f: getattr(los, f) for f in LOS_FIELDS}, "wait_min": wait},
                        available=los.available)
    assert probabilities(ok)[0, MODES.index("walk")] == 1.0


def test_from_frame_and_mode_subset():
    df = pd.DataFrame({"walk_walk_min": [20.0, 5.0], "bus_wait_min": [5.0, 5.0],
                       "bus_ivt_min": [6.0, 6.0], "bus_fare_yen": [230, 230],
                       "bus_available": [True, False]})
    los = LevelOfService.from_frame(df, modes=("walk", "bus", "drt"))
    assert los.available.tolist() == [[True, True, False], [True, False, False]]
    p = probabilities(los)
    assert p[1].tolist() == [1.0, 0.0, 0.0]
    assert 0 < p[0, 1] < 1


def test_choose_matches_probabilities_and_never_picks_unavailable():
    rng = stream(1, "choice")
    p = np.array([[0.2, 0.0, 0.8], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    probs = np.repeat(p, 20000, axis=0)
    c = choose(rng, probs)
    for k in range(3):
        rows = c[k * 20000:(k + 1) * 20000]
        sh = mode_shares(rows, 3)
        np.testing.assert_allclose(sh, p[k], atol=0.015)
        assert (sh[p[k] == 0] == 0).all()


def test_feedback_loop_converges_on_a_crowding_example():
    # 2,000 travellers choose walk or bus; the more take the bus, the longer its wait.
    n = 2000
    los0 = make_los(n, walk={"walk_min": 25}, bus={"walk_min": 6, "wait_min": 2,
                                                  "ivt_min": 8, "fare_yen": 230})
    j_bus = MODES.index("bus")
    calls: list[float] = []

    def simulate(choices: np.ndarray) -> LevelOfService:
        bus_share = float(np.mean(choices == j_bus))
        calls.append(bus_share)
        wait = los0.wait_min.copy()
        wait[:, j_bus] = 2 + 30 * bus_share  # crowding: left behind, longer waits
        return LevelOfService(**{**{f: getattr(los0, f) for f in LOS_FIELDS},
                                 "wait_min": wait}, available=los0.available)

    res = iterate_choice(los0, simulate, 50, rng=stream(3, "choice"), tol=0.002)
    assert res.converged
    assert res.n_iter == len(res.changed_share) == len(calls) < 50
    assert res.changed_share[-1] <= 0.002
    assert res.changed_share[0] > res.changed_share[-1]
    assert len(res.mode_shares) == res.n_iter + 1
    # fixed point: the chosen bus share is consistent with the wait it produces
    p_bus = res.probabilities[0, j_bus]
    wait = 2 + 30 * p_bus
    expected = probabilities(make_los(1, walk={"walk_min": 25},
                                      bus={"walk_min": 6, "wait_min": wait, "ivt_min": 8,
                                           "fare_yen": 230}))[0, j_bus]
    assert p_bus == pytest.approx(expected, abs=0.03)
    assert res.mode_shares[-1][j_bus] < res.mode_shares[0][j_bus]  # crowding deters


def test_feedback_loop_without_iterations_and_bad_simulator():
    los = typical_los(10)
    res = iterate_choice(los, lambda c: los, 0, rng=stream(1, "choice"))
    assert res.n_iter == 0 and res.changed_share == () and not res.converged
    with pytest.raises(ScenarioError, match="simulate_fn must return a LevelOfService"):
        iterate_choice(los, lambda c: typical_los(3), 2, rng=stream(1, "choice"))


@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 7)),
              elements=st.floats(allow_nan=False, allow_infinity=False)),
       st.integers(0, 2**32 - 1))
def test_property_probabilities_in_unit_interval_and_sum_to_one(v, seed):
    rng = np.random.default_rng(seed)
    avail = rng.random(v.shape) < 0.7
    avail[np.arange(v.shape[0]), rng.integers(0, v.shape[1], v.shape[0])] = True
    p = softmax(v, avail)
    assert np.isfinite(p).all()
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert (p[~avail] == 0).all()
    c = choose(rng, p)
    assert avail[np.arange(len(c)), c].all()
