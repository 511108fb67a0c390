"""The main command end to end: determinism across processes, atomic results, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tomakomai_maas.cli import main

ROOT = Path(__file__).resolve().parents[1]
AV = ROOT / "scenarios" / "av_trial_2023.yaml"
SHORT = ["--set", 'service.end_time="12:30"', "-r", "2", "-j", "1", "--no-tables"]
# The trial line with stop-to-stop demand (fast: no zone skims or mode choice)
STOP_DEMAND = """\
extends: {av}
demand:
  generated: null
  stop_rates:
    - {{from_stop: av23_01, to_stop: av23_07, per_day: 20, start_time: "09:30", end_time: "14:40"}}
    - {{from_stop: av23_07, to_stop: av23_01, per_day: 20, start_time: "09:30", end_time: "15:15"}}
"""


def _run_in_subprocess(scenario: Path, out: Path, run_id: str, seed: int) -> bytes:
    subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "-q", str(scenario), *SHORT,
                    "--seed", str(seed), "-o", str(out), "--run-id", run_id],
                   check=True, capture_output=True, text=True)
    return (out / "av_trial_2023" / run_id / "summary.json").read_bytes()


def test_same_seed_gives_byte_identical_summary_in_separate_processes(tmp_path: Path) -> None:
    sc = tmp_path / "av_stop_demand.yaml"
    sc.write_text(STOP_DEMAND.format(av=AV), encoding="utf-8")
    a = _run_in_subprocess(sc, tmp_path, "a", 11)
    b = _run_in_subprocess(sc, tmp_path, "b", 11)
    c = _run_in_subprocess(sc, tmp_path, "c", 12)
    assert a == b
    assert a != c
    summary = json.loads(a)
    assert summary["replication_seeds"] == [11, 12]
    assert summary["kpis"]["boardings"]["n"] == 2


def test_run_writes_manifest_and_resolved_scenario(tmp_path: Path) -> None:
    assert main(["-q", "run", str(AV), *SHORT, "-o", str(tmp_path), "--run-id", "r"]) == 0
    run = tmp_path / "av_trial_2023" / "r"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["seed"] == 20230920
    assert manifest["resolved_scenario"]["service"]["end_time"] == "12:30"
    assert "simpy" in manifest["versions"]
    assert (run / "scenario.resolved.yaml").read_text().startswith("name: av_trial_2023")
    assert not list((tmp_path / "av_trial_2023").glob(".*tmp*"))  # temp folder renamed away


def test_bad_input_exits_2_with_message_and_keeps_earlier_results(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "run", str(AV), *SHORT, "-o", str(tmp_path), "--run-id", "good"]) == 0
    good = (tmp_path / "av_trial_2023" / "good" / "summary.json").read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(AV.read_text(encoding="utf-8").replace(
        "vehicle_type: av_arma_2023", "vehicle_type: av_arma_2032"), encoding="utf-8")
    (tmp_path / "gtfs").symlink_to(ROOT / "gtfs")
    capsys.readouterr()
    # even told to replace the good run (--force), a failing run leaves it alone
    assert main(["-q", "run", str(bad), *SHORT, "-o", str(tmp_path), "--run-id", "good",
                 "--force"]) == 2
    err = capsys.readouterr().err
    assert "lines[0].vehicle_type: unknown vehicle type 'av_arma_2032' (did you mean " \
           "'av_arma_2023'?)" in err
    assert "Traceback" not in err
    # the failed run neither replaced the good one nor left half a result
    assert (tmp_path / "av_trial_2023" / "good" / "summary.json").read_bytes() == good
    failed = json.loads((tmp_path / "av_trial_2023" / "good.failed" / "manifest.json").read_text())
    assert failed["status"] == "failed" and "av_arma_2032" in failed["error"]


def test_terminal_accessibility_block_reads_the_summary() -> None:
    from tomakomai_maas.cli.run import format_kpi_table

    acc = {"all": {"covered_300m_share": 0.068, "covered_1000m_share": 0.5,
                   "covered_500m_share": 0.186, "pt_reach_x_share": 0.369,
                   "pt_tt_x_min": 61.36, "reach_x_share": 0.4, "tt_x_min": 50.0,
                   "pt_reach_y_share": 0.0, "pt_tt_y_min": None, "reach_y_share": 0.026},
           "65p": {"covered_300m_share": 0.07, "covered_500m_share": 0.19,
                   "covered_1000m_share": 0.51}}
    text = format_kpi_table({"scenario": "s", "replications": 1, "seed": 1, "kpis": {},
                             "accessibility": acc})
    lines = text.splitlines()
    at = [i for i, ln in enumerate(lines) if "accessibility" in ln][0]
    assert lines[at + 1:at + 4] == [  # thresholds in numeric order, 65+ in brackets
        "    within 300 m of a served stop or in a DRT area: 6.8% (65+ 7.0%)",
        "    within 500 m of a served stop or in a DRT area: 18.6% (65+ 19.0%)",
        "    within 1000 m of a served stop or in a DRT area: 50.0% (65+ 51.0%)"]
    assert ("x: by public transport 36.9%, mean 61.4 min door to door incl. waits; by public "
            "transport or on foot 40.0%") in text
    assert "y: by public transport 0.0%; by public transport or on foot 2.6%" in text
    assert "accessibility" not in format_kpi_table({"scenario": "s", "kpis": {}})
