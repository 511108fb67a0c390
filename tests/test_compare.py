"""``compare``: common random numbers, KPI table, paired differences, what changed, outputs."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from tomakomai_maas.cli import main
from tomakomai_maas.metrics import compare as mc
from tomakomai_maas.metrics.stats import mean_ci, paired_difference
from tomakomai_maas.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
N = 3

#: A fast scenario for tests: the 2023 AV trial line (shipped GTFS feed) with fixed
#: stop-to-stop demand (~52 riders a day; ~0.1 s per replication), independent of the
#: shipped scenarios' generated demand, which is far slower.
CHEAP_SCENARIO = """\
name: av_line_test
title: 自動運転バス実証線 (テスト用の固定需要)
description: The 2023 AV trial line with fixed stop-to-stop demand (fast; for tests).
assumptions:
  - "Stop-to-stop demand of ~52 riders a day (test data)."
seed: 20230920
replications: 3
network: {{source: "embedded:tomakomai-central", max_snap_m: 60}}
service: {{date: 2023-09-20, start_time: "09:30", end_time: "17:30"}}
vehicle_types:
  av: {{preset: av_navya_arma, takeover_rate_per_km: 0.1, takeover_penalty_s: 20,
        sudden_stop_rate_per_km: 0.05, sudden_stop_penalty_s: 15}}
lines:
  - {{gtfs: "{gtfs}", vehicle_type: av}}
operations: {{dwell_fixed_s: 15, dwell_per_boarding_s: 4, dwell_per_alighting_s: 3}}
demand:
  stop_rates:
    - {{from_stop: av23_01, to_stop: av23_07, per_day: 20, start_time: "09:30", end_time: "14:40"}}
    - {{from_stop: av23_07, to_stop: av23_01, per_day: 20, start_time: "09:30", end_time: "15:15"}}
    - {{from_stop: av23_01, to_stop: av23_04, per_day: 3, start_time: "09:30", end_time: "14:40"}}
    - {{from_stop: av23_04, to_stop: av23_07, per_day: 3, start_time: "09:30", end_time: "14:53"}}
    - {{from_stop: av23_07, to_stop: av23_04, per_day: 3, start_time: "09:30", end_time: "15:15"}}
    - {{from_stop: av23_04, to_stop: av23_01, per_day: 3, start_time: "09:30", end_time: "15:31"}}
"""


def write_cheap_scenario(folder: Path) -> Path:
    """Write :data:`CHEAP_SCENARIO` to ``folder/av_line_test.yaml`` and return its path."""
    p = Path(folder) / "av_line_test.yaml"
    p.write_text(CHEAP_SCENARIO.format(gtfs=(ROOT / "gtfs" / "tomakomai_av_trial_2023")
                                       .as_posix()), encoding="utf-8")
    return p


def _variant(tmp: Path, base: Path) -> Path:
    p = tmp / "av_slow_dwell.yaml"
    p.write_text(
        f"extends: {base.name}\n"
        "name: av_slow_dwell\n"
        "assumptions:\n  - \"Dwell per boarding tripled (test variant).\"\n"
        "operations:\n  dwell_per_boarding_s: 12\n", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def cheap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cheap_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, cheap: Path) -> Path:
    tmp = cheap.parent
    AV = cheap
    out = tmp / "out"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        rc = main(["-q", "compare", str(AV), str(_variant(tmp, AV)), "-r", str(N), "-o", str(out),
                   "--lang", "ja", "-j", "1", "--seed", "1000"])
    assert rc == 0
    return out


def test_writes_every_output(compared: Path) -> None:
    for name in ("kpis.csv", "kpis.md", "differences.csv", "changes.csv", "report.html",
                 "comparison.json", "plots/kpi_overview.png", "plots/wait_cdf.png",
                 "plots/boardings_by_hour.png", "plots/occupancy.png", "plots/mode_shares.png",
                 "plots/co2_cost.png", "plots/map_av_line_test.png",
                 "plots/map_av_slow_dwell.png"):
        assert (compared / name).is_file(), name
    for sc in ("av_line_test", "av_slow_dwell"):
        run = compared / "runs" / sc / "run"
        assert (run / "summary.json").is_file() and (run / "trips.csv").is_file()


def test_terminal_table_warns_below_five_replications(cheap: Path) -> None:
    from tomakomai_maas.cli.compare import TERMINAL_KPIS, format_comparison

    sc = load_scenario(cheap)
    for n in (2, 5):
        comp = mc.compare([sc], replications=n, workers=1)
        text = format_comparison(comp)
        assert ("warning: only 2 replication(s)" in text) is (n == 2)
        shown = [ln.split()[0] for ln in text.splitlines() if ln.startswith("  ")
                 and not ln.startswith("  warning") and not ln.startswith("  KPI")]
        assert shown == [k for k in TERMINAL_KPIS if k in set(comp.kpi_table["kpi"])]
        assert "total_boardings" in shown and "pt_served_share" in shown


def test_common_random_numbers_seed_every_scenario_alike(compared: Path) -> None:
    seeds = [1000 + i for i in range(N)]
    for sc in ("av_line_test", "av_slow_dwell"):
        summary = json.loads((compared / "runs" / sc / "run" / "summary.json").read_text())
        assert summary["replication_seeds"] == seeds
    info = json.loads((compared / "comparison.json").read_text())
    assert info["replication_seeds"] == seeds and info["baseline"] == "av_line_test"


def test_kpi_table_matches_each_runs_summary(compared: Path) -> None:
    kt = pd.read_csv(compared / "kpis.csv")
    assert list(kt.columns) == list(mc.KPI_COLUMNS)
    for sc in ("av_line_test", "av_slow_dwell"):
        summary = json.loads((compared / "runs" / sc / "run" / "summary.json").read_text())
        rows = kt[kt["scenario"] == sc].set_index("kpi")
        for k, est in summary["kpis"].items():
            if est["mean"] is None:
                assert math.isnan(rows.at[k, "mean"])
                continue
            assert rows.at[k, "mean"] == pytest.approx(est["mean"], rel=1e-9, abs=1e-12)
            assert int(rows.at[k, "n"]) == est["n"]


def test_paired_differences_and_what_changed(compared: Path) -> None:
    diff = pd.read_csv(compared / "differences.csv").set_index("kpi")
    assert set(diff["scenario"]) == {"av_slow_dwell"}
    # demand does not depend on dwell: with the same seeds the requests are identical
    assert diff.at["requests", "diff"] == 0.0
    assert diff.at["requests", "ci_low"] == 0.0 == diff.at["requests", "ci_high"]
    assert not diff.at["requests", "significant"]
    # tripled dwell delays departures in every replication
    assert diff.at["dep_delay_mean_min", "diff"] > 0
    changes = pd.read_csv(compared / "changes.csv", dtype=str)
    assert changes[["field", "baseline", "value"]].values.tolist() == [
        ["operations.dwell_per_boarding_s", "4.0", "12.0"]]
    md = (compared / "kpis.md").read_text(encoding="utf-8")
    assert "| 平均待ち時間 (分) | `wait_mean_min` |" in md and "av_slow_dwell − av_line_test" in md


def test_compare_api_tables_equal_replication_statistics(cheap: Path) -> None:
    a = load_scenario(cheap)
    b = load_scenario(cheap, ["name=av_fast", "operations.dwell_per_boarding_s=1"])
    comp = mc.compare([a, b], replications=2, workers=1)
    assert comp.labels == ["av_line_test", "av_fast"]
    assert [r.seeds for r in comp.results] == [[a.seed, a.seed + 1]] * 2
    kt = comp.kpi_table.set_index(["scenario", "kpi"])
    for r in comp.results:
        e = mean_ci([d["wait_mean_min"] for d in r.kpis])
        assert kt.at[(r.label, "wait_mean_min"), "mean"] == pytest.approx(e.mean)
        assert kt.at[(r.label, "wait_mean_min"), "ci_high"] == pytest.approx(e.ci_high)
        assert r.world is not None and "vehicle_stops" in r.tables
        assert sorted(r.tables["trips"]["replication"].unique()) == [0, 1]
    d = comp.differences.set_index("kpi")
    e = paired_difference([x["journey_mean_min"] for x in comp.results[0].kpis],
                          [x["journey_mean_min"] for x in comp.results[1].kpis])
    assert d.at["journey_mean_min", "diff"] == pytest.approx(e.mean)
    assert d.at["journey_mean_min", "ci_low"] == pytest.approx(e.ci_low)
    # derived KPI: CO2 per boarding
    k0 = comp.results[0].kpis[0]
    assert k0["co2_g_per_boarding"] == pytest.approx(k0["co2_kg"] * 1000 / k0["boardings"])


def test_duplicate_names_get_distinct_labels(cheap: Path) -> None:
    a = load_scenario(cheap)
    assert [s.name for s in mc._unique_names([a, a, a])] == [
        "av_line_test", "av_line_test-2", "av_line_test-3"]


def test_diff_resolved_paths_and_absent_items() -> None:
    a = {"x": 1, "ops": {"dwell": 3, "hours": {"7": 0.8}}, "rates": [{"a": 1}, {"a": 2}],
         "days": ["mon", "tue"]}
    b = {"x": 1, "ops": {"dwell": 4, "hours": {}}, "rates": [{"a": 1}, {"a": 5}, {"a": 6}],
         "days": ["mon"], "drt": {"fleet": 3}}
    assert mc.diff_resolved(a, b) == [
        ("ops.dwell", 3, 4), ("ops.hours.7", 0.8, mc.ABSENT), ("rates[1].a", 2, 5),
        ("rates[2]", mc.ABSENT, {"a": 6}), ("days", ["mon", "tue"], ["mon"]),
        ("drt", mc.ABSENT, {"fleet": 3})]


def test_cli_rejects_bad_input(cheap: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(cheap), "-r", "0", "-o", str(tmp_path)]) == 2
    assert "--replications must be >= 1" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nope.yaml"), "-o", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_accessibility_is_compared_and_written_with_each_run(compared: Path) -> None:
    acc = pd.read_csv(compared / "accessibility.csv")
    assert list(acc.columns) == list(mc.ACCESS_COLUMNS)
    assert set(acc["scenario"]) == {"av_line_test", "av_slow_dwell"}
    # dwell times do not change the timetable, the stops or the zones: same accessibility
    assert (acc["delta"].fillna(0) == 0).all()
    run = compared / "runs" / "av_line_test" / "run"
    summary = json.loads((run / "summary.json").read_text())["accessibility"]
    by_band = pd.read_csv(run / "accessibility_summary.csv").set_index("band")
    base = acc[acc["scenario"] == "av_line_test"].set_index(["band", "metric"])["value"]
    for band, metrics in summary.items():
        for m, v in metrics.items():
            if v is None:
                assert math.isnan(by_band.at[band, m]) and math.isnan(base[(band, m)])
            else:
                assert by_band.at[band, m] == pytest.approx(v, rel=1e-9)
                assert base[(band, m)] == pytest.approx(v, rel=1e-9)
    zones = pd.read_csv(compared / "accessibility_zones.csv")
    assert zones.groupby("scenario")["zone_id"].count().to_dict() == {
        "av_line_test": len(pd.read_csv(run / "accessibility.csv")), "av_slow_dwell":
        len(pd.read_csv(run / "accessibility.csv"))}
    # the share of all residents covered within 500 m = population-weighted zone shares
    z = zones[zones["scenario"] == "av_line_test"]
    assert summary["all"]["covered_500m_share"] == pytest.approx(
        (z["covered_500m_share"] * z["pop_total"]).sum() / z["pop_total"].sum(), rel=1e-9)
    md = (compared / "kpis.md").read_text(encoding="utf-8")
    assert "# アクセシビリティ" in md and "| 65歳以上 |" in md
    for name in ("access_coverage", "access_coverage_change"):
        assert (compared / "plots" / f"{name}.png").stat().st_size > 0


def test_accessibility_rows_order_and_formatting() -> None:
    from tomakomai_maas.report.comparison import accessibility_rows
    from tomakomai_maas.report.html import fmt_access

    rows = []
    for sc, v in (("a", 0.25), ("b", 0.5)):
        for metric in ("population", "covered_500m_share", "pt_tt_x_min", "pt_reach_x_share",
                       "tt_x_min", "reach_x_share"):
            for band in ("all", "0_14", "65p"):
                rows.append({"scenario": sc, "band": band, "metric": metric, "value": v,
                             "baseline_value": 0.25, "delta": v - 0.25})
    out = accessibility_rows(pd.DataFrame(rows))
    a = out[out["scenario"] == "a"][["band", "metric"]].values.tolist()
    assert a == [["all", "covered_500m_share"], ["all", "pt_tt_x_min"],
                 ["all", "pt_reach_x_share"], ["all", "reach_x_share"],
                 ["65p", "covered_500m_share"], ["65p", "pt_reach_x_share"]]
    assert fmt_access("covered_500m_share", 0.1234) == "12.3%"
    assert fmt_access("covered_500m_share", 0.05, delta=True) == "+5.0 pt"
    assert fmt_access("tt_x_min", float("nan")) == "–"
    assert fmt_access("population", 49677.0) == "49,677"


def test_travel_time_differences_only_between_equal_reach() -> None:
    from tomakomai_maas.report.html import access_delta_shown

    long = pd.DataFrame([
        ("b", "all", "tt_x_min", 30.0, 20.0, 10.0), ("b", "all", "reach_x_share", 0.5, 0.4, 0.1),
        ("b", "all", "tt_y_min", 25.0, 20.0, 5.0), ("b", "all", "reach_y_share", 0.4, 0.4, 0.0),
        ("b", "all", "covered_500m_share", 0.3, 0.2, 0.1)],
        columns=["scenario", "band", "metric", "value", "baseline_value", "delta"]
    ).set_index(["scenario", "band", "metric"])
    assert not access_delta_shown(long, "b", "all", "tt_x_min")  # other residents reach x
    assert access_delta_shown(long, "b", "all", "tt_y_min")
    assert access_delta_shown(long, "b", "all", "covered_500m_share")
    assert not access_delta_shown(long, "b", "all", "reach_y_share")  # no change


def test_other_demand_is_flagged_and_same_demand_is_not(cheap: Path) -> None:
    a = load_scenario(cheap)
    more = load_scenario(cheap, ["name=more_demand", "demand.scale=2"])
    slow = load_scenario(cheap, ["name=slow", "operations.dwell_per_boarding_s=12"])
    comp = mc.compare([a, more, slow], replications=2, workers=1)
    (c,) = comp.cautions  # the dwell change keeps demand; doubling it does not
    assert c["scenario"] == "more_demand" and c["kpi"] == "travellers"
    assert c["value"] == pytest.approx(2 * c["baseline_value"], rel=0.3)
    assert not c["study_area"]
    from tomakomai_maas.report.comparison import caution_texts, markdown_tables

    (text_en,) = caution_texts(comp, "en")
    assert text_en.startswith("more_demand models other demand than the baseline av_line_test")
    assert markdown_tables(comp, lang="ja").startswith("> **注意**: more_demand は基準")
