"""``tomakomai-maas gtfs info`` / ``gtfs validate``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tomakomai_maas.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "gtfs" / "tiny_jp"


def test_gtfs_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gtfs", "info", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "agencies:     テスト交通" in out
    assert "2023-09-01 .. 2023-10-31 (61 service days)" in out
    assert "R1" in out and "駅前港線" in out


def test_gtfs_validate_ok_and_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gtfs", "validate", str(FIXTURE)]) == 0
    assert "ok   " in capsys.readouterr().out
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURE, bad)
    (bad / "trips.txt").write_text((bad / "trips.txt").read_text(encoding="utf-8")
                                   .replace("R1,WE,T3", "R9,WE,T3"), encoding="utf-8")
    assert main(["gtfs", "validate", str(FIXTURE), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "route_id 'R9' is not a route_id in routes.txt" in err
    assert "1 of 2 feed(s) invalid" in err


def test_gtfs_info_on_missing_feed_exits_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gtfs", "info", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def _drop_column(feed: Path, table: str, column: str) -> None:
    import csv

    path = feed / f"{table}.txt"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    i = rows[0].index(column)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([r[:i] + r[i + 1:] for r in rows])


@pytest.mark.parametrize("table,column", [
    ("stop_times", "departure_time"), ("stop_times", "arrival_time"),
    ("stop_times", "trip_id"), ("stops", "stop_id"), ("trips", "trip_id"),
    ("routes", "route_id"), ("calendar", "start_date"), ("calendar", "service_id"),
])
def test_missing_column_is_one_problem_not_one_per_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, column: str) -> None:
    # every row of the fixture has a value in these columns, so a per-row check of the absent
    # column (blank first/last time, unknown id, ...) could only repeat the missing column
    bad = tmp_path / "feed"
    shutil.copytree(FIXTURE, bad)
    _drop_column(bad, table, column)
    assert main(["gtfs", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{table}.txt: required column '{column}' is missing; columns present:" in err
    assert "has 1 problem(s)" in err
    assert "line " not in err and "Traceback" not in err
