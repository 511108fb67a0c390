"""``sweep``: cartesian grid of overrides, same seeds at every point, table and plots."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from test_compare import write_cheap_scenario  # a sibling test module
from tomakomai_maas.cli import main
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.metrics.compare import grid_points, parse_grid, sweep
from tomakomai_maas.metrics.stats import mean_ci


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cheap_scenario(tmp_path_factory.mktemp("scenario"))


def test_parse_grid_and_cartesian_points() -> None:
    grid = parse_grid(["operations.dwell_per_boarding_s=2,3,4", "demand.scale=1,1.5"])
    assert grid == [("operations.dwell_per_boarding_s", ["2", "3", "4"]),
                    ("demand.scale", ["1", "1.5"])]
    pts = grid_points(grid)
    assert len(pts) == 6
    assert pts[1].params == {"operations.dwell_per_boarding_s": 2, "demand.scale": 1.5}
    assert pts[5].overrides == ("operations.dwell_per_boarding_s=4", "demand.scale=1.5")
    weather = grid_points(parse_grid(["weather.day=clear,snowfall"]))
    assert [p.params["weather.day"] for p in weather] == ["clear", "snowfall"]


@pytest.mark.parametrize("bad", ["demand.scale", "demand.scale=", "=1,2", "demand.scale=1,,2"])
def test_parse_grid_rejects_malformed(bad: str) -> None:
    with pytest.raises(ScenarioError, match="KEY=V1,V2"):
        parse_grid([bad])
    with pytest.raises(ScenarioError, match="twice"):
        parse_grid(["a=1", "a=2"])


def test_sweep_uses_the_same_seeds_at_every_point(scenario: Path) -> None:
    res = sweep(scenario, parse_grid(["operations.dwell_per_boarding_s=4,12",
                                      "energy.grid_kg_co2_per_kwh=0.55"]),
                replications=3, seed=77, workers=1)
    assert res.seeds == [77, 78, 79]
    t = res.table
    assert list(t.columns[:3]) == ["point", "operations.dwell_per_boarding_s",
                                   "energy.grid_kg_co2_per_kwh"]
    req = t[t["kpi"] == "requests"].set_index("point")
    # demand does not depend on dwell: identical requests, paired difference exactly 0
    assert req.at[0, "mean"] == req.at[1, "mean"]
    assert req.at[1, "diff"] == 0.0 and req.at[1, "diff_ci_high"] == 0.0
    delay = t[t["kpi"] == "dep_delay_mean_min"].set_index("point")
    e = mean_ci([k["dep_delay_mean_min"] for k in res.kpis[1]])
    assert delay.at[1, "mean"] == pytest.approx(e.mean)
    assert delay.at[1, "ci_low"] == pytest.approx(e.ci_low)
    assert delay.at[1, "diff"] > 0


def test_sweep_cli_writes_table_and_plots(scenario: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sw"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        rc = main(["sweep", str(scenario), "--grid", "operations.dwell_per_boarding_s=2,6",
                   "--grid", "demand.scale=1,2", "-r", "2", "-o", str(out), "-j", "1",
                   "--kpi", "served_share", "--kpi", "boardings", "--quiet"])
    assert rc == 0
    assert f"sweep: {out / 'sweep.csv'}" in capsys.readouterr().out
    t = pd.read_csv(out / "sweep.csv")
    assert t["point"].nunique() == 4 and set(t["demand.scale"]) == {1, 2}
    pts = json.loads((out / "points.json").read_text())
    assert [p["overrides"] for p in pts["points"]][3] == [
        "operations.dwell_per_boarding_s=6", "demand.scale=2"]
    for k in ("served_share", "boardings"):
        assert (out / "plots" / f"sweep_{k}.png").is_file()
    md = (out / "sweep.md").read_text(encoding="utf-8")
    assert md.count("\n") == 2 + 4 and "(`boardings`)" in md
    # the same folder again with one KPI: the other KPI's plot goes, a user's file stays
    (out / "plots" / "my_notes.png").write_bytes(b"mine")
    rc = main(["sweep", str(scenario), "--grid", "demand.scale=1,2", "-r", "1", "-o", str(out),
               "-j", "1", "--kpi", "boardings", "--quiet"])
    assert rc == 0
    assert sorted(q.name for q in (out / "plots").iterdir()) == ["my_notes.png",
                                                                 "sweep_boardings.png"]
    rc = main(["sweep", str(scenario), "--grid", "demand.scale=1", "-r", "1", "-o",
               str(tmp_path / "x"), "-j", "1", "--kpi", "nope", "--quiet"])
    assert rc == 2 and "unknown KPI" in capsys.readouterr().err


class _Tty:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_progress_bar_only_on_a_terminal_and_not_when_quiet() -> None:
    from tomakomai_maas.cli._progress import progress_bar

    assert progress_bar("x", stream=_Tty(False)) is None  # CI logs, pipes
    assert progress_bar("x", quiet=True, stream=_Tty(True)) is None
    tty = _Tty(True)
    bar = progress_bar("sweep", stream=tty)
    assert bar is not None
    bar(0, 4)
    bar.set_label("point 3")
    bar(4, 4)
    assert "\r  sweep [" in tty.text and "point 3 [##############################] 4/4" in tty.text
    assert tty.text.endswith("\n")


def test_sweep_refuses_an_output_under_a_file_before_simulating(
        scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import tomakomai_maas.metrics.compare as mcmp

    def no_sweep(*a: object, **k: object) -> None:
        raise AssertionError("simulated before checking the output folder")

    monkeypatch.setattr(mcmp, "sweep", no_sweep)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine", encoding="utf-8")
    rc = main(["sweep", str(scenario), "--grid", "demand.scale=1", "-r", "1", "-o",
               str(blocker / "sw"), "-j", "1", "--quiet"])
    assert rc == 2
    assert "notes.txt is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text(encoding="utf-8") == "mine"
