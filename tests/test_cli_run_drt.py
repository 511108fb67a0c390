"""What ``run`` prints: the on-demand (DRT) block, only for scenarios with a DRT service."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tomakomai_maas.cli import main
from tomakomai_maas.cli.run import DRT_HEADLINE_KPIS, HEADLINE_KPIS, format_kpi_table

ROOT = Path(__file__).resolve().parents[1]
STATION = ROOT / "scenarios" / "drt_station_area.yaml"
AV = ROOT / "scenarios" / "av_trial_2023.yaml"
H = 3600.0
# The shipped station-area DRT, two hours long: a stream inside the service hours
# (09:30-10:30) and one that only asks after they end, so every one of its requests must be
# rejected as outside_hours and nothing else is.
TINY_DRT = """\
extends: {base}
name: tiny_drt
service: {{start_time: "09:00", end_time: "11:00"}}
drt:
  service_hours: [["09:30", "10:30"]]
  fleet:
    - {{id: arma, vehicle_type: av_arma_2023, depot: station_south_exit, shift: ["09:15", "10:45"]}}
  demand:
    - {{origin: station_south_exit, destination: port_market, per_day: 6, windows: [["09:30", "10:15"]]}}
    - {{origin: port_market, destination: station_south_exit, per_day: 4, windows: [["10:35", "10:55"]]}}
"""


def _printed(out: str) -> dict[str, tuple[str, str]]:
    """KPI name -> (mean text, CI text) of the rows of a printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and (parts[0] in HEADLINE_KPIS or parts[0].startswith("drt.")):
            rows[parts[0]] = (parts[1], " ".join(parts[2:]))
    return rows


def test_run_prints_drt_kpis_that_match_the_request_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "tiny_drt.yaml"
    sc.write_text(TINY_DRT.format(base=STATION), encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(sc), "-r", "2", "-j", "1", "-o", str(tmp_path), "--run-id", "r"]) == 0
    out = capsys.readouterr().out
    rows = _printed(out)
    assert "on-demand (DRT):" in out
    # the DRT block follows the headline block, in the documented order
    names = [n for n in rows if n.startswith("drt.")]
    assert names[:2] == ["drt.requests", "drt.served_share"]
    assert out.index("on-demand (DRT):") > out.index("trips_cancelled")

    req = pd.read_csv(tmp_path / "tiny_drt" / "r" / "drt_requests.csv")
    per_rep = req.groupby("replication")
    late = per_rep.apply(lambda d: int((d["t_request_s"] > 10.5 * H).sum()))
    outside = per_rep.apply(lambda d: int((d["reject_reason"] == "outside_hours").sum()))
    assert (late == outside).all() and late.sum() > 0  # the late stream, and only it
    served = per_rep.apply(lambda d: float((d["status"] == "served").mean()))
    assert float(rows["drt.requests"][0]) == pytest.approx(per_rep.size().mean(), rel=1e-3)
    assert float(rows["drt.served_share"][0]) == pytest.approx(served.mean(), rel=1e-3)
    assert float(rows["drt.rejected.outside_hours"][0]) == pytest.approx(late.mean(), rel=1e-3)
    # a 95% CI is printed for every DRT row (two replications)
    assert all(ci.startswith("[") for n, (_, ci) in rows.items() if n.startswith("drt."))
    # reasons that never occurred are not listed; the ones that did follow drt.rejected
    absent = set(req["reject_reason"].dropna())
    assert "drt.rejected.capacity" not in rows and "capacity" not in absent
    listed = [n for n in names if n.startswith("drt.rejected.")]
    assert {n.removeprefix("drt.rejected.") for n in listed} == absent
    assert names.index("drt.rejected") == names.index(listed[0]) - 1


def test_run_without_drt_service_prints_no_drt_block(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["run", str(AV), "--set", 'service.end_time="11:00"', "-r", "1", "-j", "1",
                 "--no-tables", "-o", str(tmp_path), "--run-id", "r"]) == 0
    out = capsys.readouterr().out
    assert "drt." not in out and "on-demand" not in out
    assert "boardings" in _printed(out)


def _e(mean: float | None, lo: float | None = None, hi: float | None = None) -> dict:
    return {"mean": mean, "ci_low": lo, "ci_high": hi}


def test_format_lists_reasons_that_occurred_most_frequent_first() -> None:
    kpis = {"requests": _e(10.0, 8.0, 12.0), "drt.requests": _e(10.0, 8.0, 12.0),
            "drt.served_share": _e(0.5, 0.25, 0.75), "drt.rejected": _e(5.0, 4.0, 6.0),
            "drt.rejected.capacity": _e(0.0, 0.0, 0.0),
            "drt.rejected.time_window": _e(2.0, 1.0, 3.0),
            "drt.rejected.outside_area": _e(2.0, 1.0, 3.0),
            "drt.rejected.outside_hours": _e(1.0, 0.0, 2.0),
            "drt.cost_per_trip_yen": _e(23987.4, -35827.0, 83802.0),
            "drt.wait_mean_min": _e(None)}
    text = format_kpi_table({"scenario": "s", "replications": 3, "seed": 1, "kpis": kpis})
    assert text.splitlines()[1].startswith("  warning: only 3 replication(s)")
    names = [ln.split()[0] for ln in text.splitlines()[3:] if not ln.endswith(":")]
    assert names == ["requests", "drt.requests", "drt.served_share", "drt.wait_mean_min",
                     "drt.cost_per_trip_yen", "drt.rejected", "drt.rejected.outside_area",
                     "drt.rejected.time_window", "drt.rejected.outside_hours"]
    rows = _printed(text)
    assert rows["drt.cost_per_trip_yen"] == ("23987", "[-35827, 83802]")  # no exponent
    assert rows["drt.served_share"] == ("0.5", "[0.25, 0.75]")
    assert rows["drt.wait_mean_min"] == ("-", "-")  # no served booking: no mean, no CI
    # the reasons are indented under drt.rejected
    line = next(ln for ln in text.splitlines() if "time_window" in ln)
    assert line.startswith("    drt.rejected.time_window")


def test_format_without_drt_kpis_is_the_headline_table_only() -> None:
    kpis = {k: _e(1.0, 0.5, 1.5) for k in HEADLINE_KPIS}
    text = format_kpi_table({"scenario": "s", "replications": 5, "seed": 7, "kpis": kpis})
    lines = text.splitlines()
    assert lines[0] == "s: 5 replication(s), seed 7"
    # without DRT the all-mode totals equal the timetabled KPIs and are not repeated
    shown = [k for k in HEADLINE_KPIS if not k.startswith("total_")]
    assert len(lines) == 2 + len(shown)
    assert [ln.split()[0] for ln in lines[2:]] == shown
    assert lines[2] == f"  {'requests':<22} {'1':>12} {'[0.5, 1.5]':>25}"
    assert not any(k in text for k in DRT_HEADLINE_KPIS)


def test_format_warns_below_five_replications_and_shows_totals_with_drt() -> None:
    kpis = {k: _e(1.0, 0.5, 1.5) for k in HEADLINE_KPIS}
    kpis["drt.requests"] = _e(3.0, 2.0, 4.0)
    for n, warned in ((1, True), (4, True), (5, False), (20, False)):
        text = format_kpi_table({"scenario": "s", "replications": n, "seed": 7, "kpis": kpis})
        assert ("unreliable" in text) is warned
        assert "total_boardings" in text and "total_co2_kg" in text
