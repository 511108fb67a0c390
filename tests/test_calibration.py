"""Calibration: recover a known AV constant on a small synthetic case; strata; reports; CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tomakomai_maas.calibrate import (
    Evaluator,
    Param,
    Stratum,
    Target,
    _boot_roots,
    calendar_strata,
    fit,
    predict,
    render_markdown,
    update_doc,
    with_values,
)
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.scenario.load import load_scenario

REPO = Path(__file__).resolve().parents[1]
SCEN = REPO / "scenarios" / "av_trial_2023.yaml"
#: ~1.5 hours of the AV line (3 departures) with the demand of a few core zones, scaled up
TOY = ["service.start_time='10:00'", "service.end_time='11:30'", "maas.choice_iterations=0",
       "demand.generated.rate_scale=3",
       "demand.generated.keep_zones=[C33, C34, C43, C44, C45, C54, C55, P3]"]
DAY = [Stratum("day", 1.0)]
THETA_TRUE = 0.5


def test_toy_calibration_recovers_a_known_constant_end_to_end(tmp_path):
    """One fit (expensive) checked from every side: recovery, CRN, prediction, report."""
    ev = Evaluator(SCEN, overrides=TOY, strata=DAY, replications=6, seed=1)
    # "observed" = the model at the true constant on other seeds (same worlds): a mean of 10
    # days, with its own standard error
    obs = ev.reseeded(1000, 10).evaluate({"maas.av_constant": THETA_TRUE})["boardings"]
    observed = float(obs.mean())
    obs_se = float(obs.std(ddof=1) / np.sqrt(len(obs)))
    res = fit(ev, [Param("maas.av_constant", -4.0, 4.0)],
              [Target("boardings", observed * 2, 2.0, "synthetic", observed_sd=2 * obs_se)],
              n_boot=400, grid_points=5, sensitivity_days=(1.8,))
    p = res.params[0]
    # recovered within its confidence intervals
    assert p.root_converged and res.converged
    assert p.target["per_day"] == pytest.approx(observed)
    assert abs(p.residual_per_day) <= 0.15 * observed + 1.0
    assert p.ci_delta[0] <= THETA_TRUE <= p.ci_delta[1]
    assert math.isfinite(p.se_boot) and p.ci_boot[0] <= THETA_TRUE <= p.ci_boot[1]
    assert p.slope_per_unit > 0 and p.se_delta > 0
    assert len(p.per_replication) == 6 and len(p.grid) == 5
    # fewer operating days -> more riders per day -> a larger constant
    assert res.sensitivity[0]["days"] == 1.8 and res.sensitivity[0]["estimate"] > p.estimate

    # common random numbers: a higher constant never loses riders; evaluations are cached
    a = ev.evaluate({"maas.av_constant": -1.0})["boardings"]
    b = ev.evaluate({"maas.av_constant": 1.0})["boardings"]
    assert (b >= a).all()
    n = ev.n_evals
    ev.evaluate({"maas.av_constant": 1.0})
    assert ev.n_evals == n

    # a prediction's CI adds the calibration uncertainty to the simulation noise
    pr = predict(SCEN, "boardings", p, res.values, days=3.0, evaluator=ev)
    assert pr.calib_se > 0 and pr.sim_se > 0
    half = (pr.ci[1] - pr.ci[0]) / 2
    assert half == pytest.approx(1.96 * math.hypot(pr.sim_se, pr.calib_se))
    assert pr.ci_calibration_only[0] <= pr.per_day <= pr.ci_calibration_only[1]
    assert pr.total == pytest.approx(3.0 * pr.per_day)

    # the report block and the docs update
    md = render_markdown(res)
    assert "`maas.av_constant`" in md and "calibration target" in md and "synthetic" in md
    doc = tmp_path / "cal.md"
    doc.write_text("# Title\n\nintro\n", encoding="utf-8")
    update_doc(doc, "toy", "first")
    update_doc(doc, "toy", "second")
    text = doc.read_text(encoding="utf-8")
    assert text.count("calibrate:toy:begin") == 1 and "second" in text and "first" not in text
    assert text.startswith("# Title")
    json.dumps(res.as_dict())  # JSON-ready


def test_calendar_strata_of_the_trial():
    sc = load_scenario(SCEN)
    st = calendar_strata(sc)
    assert [s.label for s in st] == ["weekday", "weekend"]
    assert [round(s.weight * 26) for s in st] == [18, 8]
    assert "service.day_type=saturday" in st[1].overrides
    winter = calendar_strata(load_scenario(REPO / "scenarios" / "av_winter_2024.yaml"))
    assert sum(s.weight for s in winter) == pytest.approx(1.0)


def test_with_values_and_errors():
    sc = load_scenario(SCEN)
    assert with_values(sc, {"maas.av_constant": 1.25}).maas.av_constant == 1.25
    assert with_values(sc, {"maas.choice.asc.bus": -2.0}).maas.choice.asc["walk"] == 0.0
    with pytest.raises(ScenarioError, match="one --target per --param"):
        fit(object(), [Param("maas.av_constant")], [])  # type: ignore[arg-type]


def test_bootstrap_roots_interpolate_and_flag_misses():
    grid = np.array([0.0, 1.0, 2.0])
    per_rep = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])  # mean = 2 x
    roots = _boot_roots(grid, per_rep, 3.0, 20, np.random.default_rng(0))
    np.testing.assert_allclose(roots, 1.5)
    assert np.isnan(_boot_roots(grid, per_rep, 9.0, 5, np.random.default_rng(0))).all()


def test_cli_calibrate_writes_json_and_markdown(tmp_path):
    from tomakomai_maas.cli import main

    out = tmp_path / "cal"
    doc = tmp_path / "doc.md"
    args = ["-q", "calibrate", str(SCEN), "--param", "maas.av_constant=-4:4", "--target",
            "boardings=20", "--days", "2", "--source", "synthetic", "--no-day-mix", "-r", "3",
            "--bootstrap", "0", "-o", str(out), "--doc", str(doc)]
    for o in TOY:
        args += ["--set", o]
    assert main(args) == 0
    data = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert data["params"][0]["path"] == "maas.av_constant"
    assert data["params"][0]["target"]["per_day"] == 10.0
    assert "calibrate:av_trial_2023:begin" in doc.read_text(encoding="utf-8")
    assert main(["calibrate", str(SCEN), "--param", "maas.av_constant=3:1", "--target",
                 "boardings=1"]) == 2
