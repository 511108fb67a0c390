"""Regression checks: tolerance bands from replication variance, tested both ways.

* **No false alarms**: fresh seeds (never used by the golden) pass; the false-alarm rate over
  many 5-replication runs stays at the ~1% family-wise level the bands are built for (it is
  ~0% in practice, because the KPIs are correlated and Šidák assumes they are not).
* **Real changes are caught**: tripling ``operations.dwell_per_boarding_s`` on the 2023
  trial line (fixed stop-to-stop demand, see ``test_compare.CHEAP_SCENARIO``) fails. A +10% dwell change (4 → 4.4 s) is below detectability on this line:
  holding at timepoints absorbs the extra 0.4 s per boarding, so the only KPI that moves is
  the mean departure delay, by ~0.03 min against a band of ~0.07 min at 5 replications.
  (On station_buses_today, with ~800 riders, +10% dwell fails in about 4 of 5 runs.)
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from test_compare import write_cheap_scenario  # a sibling test module
from tomakomai_maas.cli import main
from tomakomai_maas.metrics import check as ck
from tomakomai_maas.metrics.stats import aggregate_replications
from tomakomai_maas.runner import simulate_replications
from tomakomai_maas.scenario.build import build
from tomakomai_maas.scenario.load import load_scenario


@pytest.fixture(scope="module")
def AV(tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: N802
    """The AV trial line with fixed demand (fast), see test_compare.CHEAP_SCENARIO."""
    return write_cheap_scenario(tmp_path_factory.mktemp("scenario"))


def _summary(kpis: dict[str, list[float]], name: str = "s") -> dict:
    per_rep = [dict(zip(kpis, vals, strict=True)) for vals in zip(*kpis.values(), strict=True)]
    return {"scenario": name, "kpis": aggregate_replications(per_rep)}


# ----------------------------------------------------------------------------- unit


def test_band_is_the_pooled_two_sample_t_band() -> None:
    rng = np.random.default_rng(3)
    g = rng.normal(10, 2, 30)
    n = rng.normal(10.5, 2, 5)
    golden = _summary({"x": list(g), "y": list(rng.normal(0, 1, 30))})
    new = _summary({"x": list(n), "y": list(rng.normal(0, 1, 5))})
    rep = ck.check_summary(new, golden, alpha=0.01)
    row = next(r for r in rep.rows if r.kpi == "x")
    assert rep.n_stochastic == 2
    per = 1 - (1 - 0.01) ** (1 / 2)
    assert rep.per_kpi_alpha == pytest.approx(per)
    sp2 = (29 * g.var(ddof=1) + 4 * n.var(ddof=1)) / 33
    se = math.sqrt(sp2 * (1 / 30 + 1 / 5))
    from scipy import stats

    c = stats.t.ppf(1 - per / 2, 33)
    assert row.critical == pytest.approx(c)
    assert row.band == pytest.approx(c * se + 1e-9 + 1e-6 * abs(g.mean()), rel=1e-6)
    assert row.z == pytest.approx((n.mean() - g.mean()) / se, rel=1e-6)
    assert row.status == "PASS"


def test_shift_fails_and_table_says_what_moved() -> None:
    rng = np.random.default_rng(4)
    golden = _summary({"wait_mean_min": list(rng.normal(2, 0.1, 30)),
                       "requests": list(rng.poisson(50, 30).astype(float))})
    new = _summary({"wait_mean_min": list(rng.normal(2.5, 0.1, 5)),
                    "requests": list(rng.poisson(50, 5).astype(float))})
    rep = ck.check_summary(new, golden)
    assert not rep.passed and [r.kpi for r in rep.failures] == ["wait_mean_min"]
    text = ck.format_report(rep)
    lines = text.splitlines()
    assert lines[2].split()[0] == "wait_mean_min" and lines[2].split()[-1] == "FAIL"
    assert "FAIL: 1 of 2 KPIs outside their band (wait_mean_min)" in text


def test_zero_variance_nan_missing_and_new_kpis() -> None:
    golden = _summary({"vehicle_km": [27.7] * 30, "same_nan": [math.nan] * 30,
                       "gone": [1.0, 2.0] * 15, "became_nan": [1.0, 2.0] * 15,
                       "moved_km": [10.0] * 30})
    new = _summary({"vehicle_km": [27.7 + 1e-12] * 5, "same_nan": [math.nan] * 5,
                    "became_nan": [math.nan] * 5, "moved_km": [10.1] * 5,
                    "cost_new_yen": [5.0, 6.0, 7.0, 5.0, 6.0]})
    rows = {r.kpi: r for r in ck.check_summary(new, golden).rows}
    assert rows["vehicle_km"].status == "PASS" and rows["vehicle_km"].band < 1e-4
    assert rows["same_nan"].status == "PASS"
    assert rows["became_nan"].status == "FAIL"
    assert rows["moved_km"].status == "FAIL" and math.isinf(rows["moved_km"].z)
    assert rows["gone"].status == "MISSING"
    assert rows["cost_new_yen"].status == "NEW"
    rep = ck.check_summary(new, golden)
    assert {r.kpi for r in rep.failures} == {"became_nan", "moved_km", "gone"}
    # a KPI the golden had in only some replications may be absent from a short run
    golden["replications"] = 30
    golden["kpis"]["sometimes"] = {"mean": 0.0, "std": 0.0, "n": 4}
    rows = {r.kpi: r for r in ck.check_summary(new, golden).rows}
    assert rows["sometimes"].status == "ABSENT" and rows["gone"].status == "MISSING"


def test_single_replication_run_uses_the_golden_spread() -> None:
    golden = _summary({"x": [float(v) for v in range(30)]})
    new = _summary({"x": [14.5]})
    (row,) = ck.check_summary(new, golden).rows
    s = np.std(range(30), ddof=1)
    assert row.status == "PASS" and row.z == pytest.approx(0.0)
    assert row.band == pytest.approx(row.critical * s * math.sqrt(1 / 30 + 1) + 1e-9
                                     + 1e-6 * 14.5)


def test_bad_arguments() -> None:
    g = _summary({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="alpha"):
        ck.check_summary(g, g, alpha=1.5)
    with pytest.raises(ValueError, match="variance"):
        ck.check_summary(g, g, variance="other")
    with pytest.raises(ck.TomakomaiError, match="at least 2 replications"):
        ck.make_golden(_summary({"x": [1.0]}))


# ----------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, AV: Path) -> dict[str, Path]:  # noqa: N803
    out = tmp_path_factory.mktemp("runs")
    for rid, seed in (("a", 11), ("a_again", 11), ("b", 500)):
        assert main(["-q", "run", str(AV), "-r", "3", "--seed", str(seed), "-o", str(out),
                     "--run-id", rid, "-j", "1", "--no-tables"]) == 0
    return {k: out / "av_line_test" / k for k in ("a", "a_again", "b")}


def test_cli_exact_mode(two_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(two_runs["a_again"]), "--against",
                 str(two_runs["a"] / "summary.json"), "--exact"]) == 0
    assert "IDENTICAL" in capsys.readouterr().out
    assert main(["check", str(two_runs["b"]), "--against", str(two_runs["a"]), "--exact"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT" in out and "replication_seeds" in out


def test_cli_update_then_check(two_runs: dict[str, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    golden = tmp_path / "g.json"
    golden.write_text(json.dumps({"kpis": {}, "overrides": ['service.end_time="12:00"'],
                                  "scenario_file": "scenarios/av_trial_2023.yaml"}))
    assert main(["check", str(two_runs["a"]), "--against", str(golden), "--update"]) == 0
    g = json.loads(golden.read_text())
    assert g["format"] == ck.GOLDEN_FORMAT and g["replications"] == 3 and g["seed"] == 11
    assert g["overrides"] == ['service.end_time="12:00"']  # kept from the old golden
    assert g["resolved_scenario"]["lines"][0]["gtfs"].endswith("tomakomai_av_trial_2023")
    capsys.readouterr()
    report = tmp_path / "r.json"
    rc = main(["check", str(two_runs["b"].parent), "--against", str(golden), "--json",
               str(report)])  # the scenario folder: its newest run ("b") is checked
    out = capsys.readouterr().out
    assert rc == (0 if json.loads(report.read_text())["passed"] else 1)
    assert "band ±" in out and "status" in out
    # exact mode against a golden needs the golden's seed and replications
    assert main(["check", str(two_runs["a_again"]), "--against", str(golden), "--exact"]) == 0
    assert main(["check", str(two_runs["b"]), "--against", str(golden), "--exact"]) == 2
    assert "--seed 11" in capsys.readouterr().err


def test_cli_says_which_run_and_a_different_scenario_up_front(
        two_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    golden = tmp_path / "g.json"
    golden.write_text(json.dumps({"kpis": {}, "overrides": ['service.end_time="12:00"'],
                                  "scenario_file": "scenarios/av line.yaml"}))
    assert main(["check", str(two_runs["a"]), "--against", str(golden), "--update"]) == 0
    capsys.readouterr()
    # the runs were made with the scenario's own window (17:30): the golden says 12:00
    g = json.loads(golden.read_text())
    g["resolved_scenario"]["service"]["end_time"] = "12:00"
    golden.write_text(json.dumps(g))
    folder = two_runs["b"].parent
    main(["check", str(folder), "--against", str(golden)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"checking run {two_runs['b']} (the newest of 3 run(s) in {folder})"
    assert lines[1].startswith(f"warning: the run's scenario differs from the one {golden} "
                               "was made with in 1 field(s) (golden -> run): "
                               "service.end_time: '12:00' -> '17:30'")
    # the command CI runs for this golden: its scenario, seed, check replications, --set
    assert lines[3] == ("  tomakomai-maas run 'scenarios/av line.yaml' --seed 11 -r 5 "
                        "--set 'service.end_time=\"12:00\"'")
    assert lines[4].startswith("av_line_test: ")  # then the KPI table
    # a run folder given directly is named too, without the "newest" remark
    main(["check", str(two_runs["a"]), "--against", str(golden)])
    assert capsys.readouterr().out.splitlines()[0] == f"checking run {two_runs['a']}"


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path), "--against", str(tmp_path / "g.json")]) == 2
    assert "no summary.json" in capsys.readouterr().err


# ----------------------------------------------------------------------------- both ways


@pytest.fixture(scope="module")
def av_samples(AV: Path) -> dict[str, list[dict[str, float]]]:  # noqa: N803
    """The AV line: a 30-replication golden and 100 fresh replications (other seeds)."""
    world = build(load_scenario(AV))
    reps = simulate_replications(world, [7_000_000 + i for i in range(30)]
                                 + [8_000_000 + i for i in range(100)], workers=2)
    kpis = [k for k, _ in reps]
    return {"golden": kpis[:30], "fresh": kpis[30:]}


@pytest.mark.slow
def test_fresh_seeds_pass_false_alarm_rate_about_one_percent(av_samples) -> None:
    golden = {"scenario": "av", "kpis": aggregate_replications(av_samples["golden"])}
    fresh = av_samples["fresh"]
    # 20 independent 5-replication runs ...
    fails = sum(not ck.check_summary({"kpis": aggregate_replications(fresh[i:i + 5])},
                                     golden).passed for i in range(0, 100, 5))
    assert fails <= 1
    # ... and 1000 runs resampled from the 100 fresh replications
    rng = np.random.default_rng(0)
    n_checks = 1000
    fails = 0
    for _ in range(n_checks):
        pick = rng.choice(len(fresh), 5, replace=False)
        rep = ck.check_summary({"kpis": aggregate_replications([fresh[i] for i in pick])},
                               golden)
        fails += not rep.passed
    assert fails / n_checks <= 0.02, f"false-alarm rate {fails / n_checks:.3f}"


@pytest.mark.slow
def test_model_change_is_caught(av_samples, AV: Path) -> None:  # noqa: N803
    golden = {"scenario": "av", "kpis": aggregate_replications(av_samples["golden"])}
    changed = build(load_scenario(AV, ["operations.dwell_per_boarding_s=12"]))  # 4 s -> 12 s
    reps = simulate_replications(changed, [9_000_000 + i for i in range(5)], workers=1)
    rep = ck.check_summary({"kpis": aggregate_replications([k for k, _ in reps])}, golden)
    assert not rep.passed
    assert "dep_delay_mean_min" in {r.kpi for r in rep.failures}
