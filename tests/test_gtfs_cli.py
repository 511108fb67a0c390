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
