"""Reusing a comparison folder: an earlier comparison's files go, a user's own files stay,
and a folder that is not a comparison's is refused (unless --force)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_compare import write_cheap_scenario
from tomakomai_maas.cli import main
from tomakomai_maas.errors import TomakomaiError
from tomakomai_maas.metrics import compare as mc
from tomakomai_maas.report.comparison import _graph_loader, write_comparison
from tomakomai_maas.report.outdir import (
    check_comparison_dir,
    is_comparison_dir,
    remove_stale_outputs,
)
from tomakomai_maas.scenario.load import load_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cheap_scenario(tmp_path_factory.mktemp("scenario"))


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_second_comparison_replaces_the_first_and_keeps_user_files(
        scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    graphs = _graph_loader()
    a = load_scenario(scenario, ["name=base", 'service.end_time="12:00"'])
    b = load_scenario(scenario, ["name=old_variant", 'service.end_time="12:00"',
                                 "demand.scale=2"])
    c = load_scenario(scenario, ["name=new_variant", 'service.end_time="12:00"',
                                 "operations.dwell_per_boarding_s=8"])
    first = mc.compare([a, b], replications=1, workers=1, out_dir=out)
    write_comparison(first, out, lang="en", graph_for=graphs)
    assert (out / "plots" / "map_old_variant.png").is_file()
    assert (out / "runs" / "old_variant" / "run" / "summary.json").is_file()
    # the user's own files, in the folder and beside the plots
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "mine").mkdir()
    (out / "mine" / "data.csv").write_text("x\n1\n", encoding="utf-8")
    (out / "plots" / "README.txt").write_text("mine too", encoding="utf-8")
    (out / "runs" / "old_variant" / "keep.txt").write_text("mine", encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("not the comparison's", encoding="utf-8")
    meta = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    meta["files"] += ["../outside.txt", str(outside)]  # a tampered list never reaches out
    (out / "comparison.json").write_text(json.dumps(meta), encoding="utf-8")

    assert is_comparison_dir(out)
    check_comparison_dir(out)  # an earlier comparison: reusable without --force
    second = mc.compare([a, c], replications=1, workers=1, out_dir=out)
    paths = write_comparison(second, out, lang="en", graph_for=graphs)

    assert not (out / "plots" / "map_old_variant.png").exists()
    assert not (out / "runs" / "old_variant" / "run").exists()
    assert (out / "runs" / "new_variant" / "run" / "summary.json").is_file()
    assert (out / "runs" / "base" / "run" / "summary.json").is_file()
    mine = {"notes.txt", "mine/data.csv", "plots/README.txt", "runs/old_variant/keep.txt"}
    assert outside.read_text(encoding="utf-8") == "not the comparison's"
    # every file left is the new comparison's, one of its runs, or the user's
    meta = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert set(meta["files"]) == set(paths) - {"comparison.json"}
    left = {f for f in _files(out) if not f.startswith(("runs/base/run/", "runs/new_variant/"))}
    assert left == set(meta["files"]) | {"comparison.json"} | mine
    assert {"plots/map_base.png", "plots/map_new_variant.png"} <= set(meta["files"])


def test_interrupted_comparison_folder_is_recognised_and_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "map_gone.png").write_bytes(b"\x89PNG")
    (out / "kpis.csv").write_text("scenario,kpi\n", encoding="utf-8")
    assert is_comparison_dir(out)  # only names a comparison writes, no comparison.json yet
    assert remove_stale_outputs(out) == [out / "plots" / "map_gone.png"]
    assert (out / "kpis.csv").is_file()  # overwritten by the next write, not deleted
    (out / "todo.md").write_text("x", encoding="utf-8")
    assert not is_comparison_dir(out)


def test_a_foreign_folder_is_never_cleaned(tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "thesis.tex").write_text("x", encoding="utf-8")
    assert remove_stale_outputs(tmp_path) == []
    assert (tmp_path / "plots" / "photo.png").is_file()


def test_check_refuses_a_non_empty_foreign_folder(tmp_path: Path) -> None:
    check_comparison_dir(tmp_path / "new")  # missing: fine
    (tmp_path / "empty").mkdir()
    check_comparison_dir(tmp_path / "empty")
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x", encoding="utf-8")
    (foreign / "figures").mkdir()
    with pytest.raises(TomakomaiError) as exc:
        check_comparison_dir(foreign)
    msg = str(exc.value)
    assert str(foreign) in msg and "figures/, thesis.tex" in msg and "--force" in msg
    check_comparison_dir(foreign, force=True)
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(TomakomaiError, match="is a file"):
        check_comparison_dir(tmp_path / "file.txt", force=True)


def test_cli_refuses_before_running_and_force_keeps_the_users_files(
        scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.tex").write_text("x", encoding="utf-8")
    args = ["-q", "compare", str(scenario), "--set", 'service.end_time="11:00"', "-r", "1",
            "-j", "1", "-o", str(out)]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is not a comparison folder" in err and "thesis.tex" in err
    assert "Traceback" not in err
    assert _files(out) == {"thesis.tex"}  # nothing ran, nothing was written
    assert main([*args, "--force"]) == 0
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "x"
    assert (out / "report.html").is_file()
    assert main(args) == 0  # now it holds a comparison: reused without --force
    assert (out / "thesis.tex").is_file()
