"""Every bad input gets a clear error: file, field and allowed values, exit code, no traceback.

One test (or a few) per finding of the error-handling review; exit codes as documented in
``tomakomai_maas.cli`` and the README: 0 ok, 1 a check/validation failed, 2 bad input or
usage, 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from test_compare import write_cheap_scenario  # a sibling test module
from tomakomai_maas import runner
from tomakomai_maas.cli import EXIT_BAD_INPUT, EXIT_FAIL, main
from tomakomai_maas.errors import OutputError, ScenarioError, TomakomaiError
from tomakomai_maas.executors import get_executor, probe_scheduler
from tomakomai_maas.scenario.load import load_scenario, resolved_dict

ROOT = Path(__file__).resolve().parents[1]
# the cheap AV line over one hour, one replication: a run takes about a second
FAST = ["--set", 'service.end_time="10:30"', "-r", "1", "-j", "1", "--no-tables"]


@pytest.fixture()
def cheap(tmp_path: Path) -> Path:
    return write_cheap_scenario(tmp_path)


def _variant(cheap: Path, old: str, new: str, name: str = "bad.yaml") -> Path:
    text = cheap.read_text(encoding="utf-8")
    assert old in text
    p = cheap.parent / name
    p.write_text(text.replace(old, new), encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- 1. dates

def test_impossible_date_names_the_field_not_pyyaml(
        cheap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _variant(cheap, "date: 2023-09-20", "date: 2023-02-30")
    assert main(["run", str(bad), *FAST, "-o", str(cheap.parent / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert (f"{bad}: service.date: not a valid date (day value is outside expected range); "
            "allowed: a real calendar date written YYYY-MM-DD, e.g. 2023-09-20 "
            "(got '2023-02-30')") in err
    assert "Traceback" not in err and "constructor" not in err
    assert not (cheap.parent / "out").exists()  # nothing was started


def test_impossible_date_in_set_override(cheap: Path) -> None:
    with pytest.raises(ScenarioError, match=r"service\.date: not a valid date .*2023-02-29"):
        load_scenario(cheap, ["service.date=2023-02-29"])  # 2023 is not a leap year


def test_real_dates_still_load_as_dates_and_resolved_yaml_round_trips(
        cheap: Path, tmp_path: Path) -> None:
    p = _variant(cheap, "service: {date: 2023-09-20,",
                 "service: {calendar: {start_date: 2023-09-20, end_date: 2023-09-26, "
                 "exclude_dates: [2023-09-23], weekdays: [mon, tue, wed, sat, sun]}, "
                 "date: 2023-09-20,", "cal.yaml")
    sc = load_scenario(p)
    assert sc.service.date == dt.date(2023, 9, 20)
    assert sc.service.calendar is not None
    # 20th Wed, 23rd Sat excluded, 24th Sun, 25th Mon, 26th Tue (Thu 21st/Fri 22nd not listed)
    assert [d.day for d in sc.service.calendar.operating_days()] == [20, 24, 25, 26]
    # what runner.py writes as scenario.resolved.yaml loads back to the same scenario
    text = yaml.safe_dump(resolved_dict(sc), allow_unicode=True, sort_keys=False)
    again = tmp_path / "resolved.yaml"
    again.write_text(text, encoding="utf-8")
    assert resolved_dict(load_scenario(again)) == {**resolved_dict(sc),
                                                   "source_file": str(again.resolve())}


# ----------------------------------------------------------------------------- 2. OS errors

def test_output_root_that_is_a_file(cheap: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = cheap.parent / "README.md"
    readme.write_text("keep me\n", encoding="utf-8")
    assert main(["run", str(cheap), *FAST, "-o", str(readme)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{readme} is a file, not a folder; give a folder for the results (-o/--out" in err
    assert "Traceback" not in err and "NotADirectoryError" not in err
    assert readme.read_text(encoding="utf-8") == "keep me\n"


def test_any_os_error_reaching_main_is_one_line_unless_debug(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import tomakomai_maas.cli.run as cli_run

    def denied(args: object) -> int:
        raise PermissionError(13, "Permission denied", "/srv/results/x")

    monkeypatch.setattr(cli_run, "_cmd_show", denied)
    assert main(["show", "whatever.yaml"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: /srv/results/x: Permission denied (no permission")
    assert "Traceback" not in err
    with pytest.raises(PermissionError):
        main(["--debug", "show", "whatever.yaml"])


# ----------------------------------------------------------------------------- 3. times

@pytest.mark.parametrize("start,field,got", [("25:99", "start_time", "25:99"),
                                             ("25:30", "end_time", "17:30")])
def test_times_get_the_format_help_and_point_at_the_field(
        cheap: Path, capsys: pytest.CaptureFixture[str], start: str, field: str,
        got: str) -> None:
    bad = _variant(cheap, 'start_time: "09:30", end_time: "17:30"',
                   f'start_time: "{start}", end_time: "17:30"')
    assert main(["validate", str(bad)]) == EXIT_FAIL
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if f"service.{field}:" in x)
    assert ("HH:MM or HH:MM:SS; hours may exceed 23 for service after midnight (as in GTFS), "
            "minutes 00-59") in line
    assert line.endswith(f"(got '{got}')")
    assert "pattern" not in err and "{" not in err and "datetime" not in err
    assert err.count("service.") == 1  # one problem, not a second one about the window


# ----------------------------------------------------------------------------- 4. presets

def test_one_preset_typo_gives_one_error(cheap: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = _variant(cheap, "preset: av_navya_arma", "preset: av_navya_arm")
    assert main(["validate", str(bad)]) == EXIT_FAIL
    err = capsys.readouterr().err
    assert ("vehicle_types.av.preset: unknown preset 'av_navya_arm' (did you mean "
            "'av_navya_arma'?); allowed: av_navya_arma,") in err
    assert "1 problem(s)" in err and "lines[0].vehicle_type" not in err


def test_preset_typo_in_a_drt_scenario_gives_one_error(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "drt_station_area.yaml").read_text(encoding="utf-8")
    assert "preset: av_navya_arma " in text
    p = tmp_path / "drt.yaml"
    p.write_text(text.replace("preset: av_navya_arma ", "preset: av_navya_arm "),
                 encoding="utf-8")
    from tomakomai_maas.scenario.build import build

    with pytest.raises(ScenarioError) as exc:
        build(load_scenario(p))
    assert exc.value.problems == [
        f"{p}: vehicle_types.av_arma_2023.preset: unknown preset 'av_navya_arm' (did you mean "
        "'av_navya_arma'?); allowed: av_navya_arma, av_navya_evo, diesel_city_bus, drt_sedan, "
        "ev_city_bus"]


# ----------------------------------------------------------------------------- 6. folders

def test_a_folder_given_as_scenario(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["run", "scenarios"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: scenarios: is a folder, not a scenario file; give a .yaml "
                          "file, e.g. scenarios/av_trial_2023.yaml; scenario files in it: "
                          "av_trial_2023.yaml, av_winter_2024.yaml,")
    assert "Did you mean" not in err


# ----------------------------------------------------------------------------- 7. labels

@pytest.mark.parametrize("old,new", [
    ("dwell_fixed_s: 15", "dwel_fixed_s: 15"),            # schema error
    ("preset: av_navya_arma", "preset: av_navya_arm"),    # build error
    ("from_stop: av23_01, to_stop: av23_07", "from_stop: av23_99, to_stop: av23_07"),
])
def test_path_shown_as_given_once_per_line(
        cheap: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        old: str, new: str) -> None:
    _variant(cheap, old, new, "bad_preset.yaml")
    monkeypatch.chdir(cheap.parent)
    assert main(["run", "bad_preset.yaml", *FAST]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert str(cheap.parent) not in err  # never the resolved absolute form
    lines = err.splitlines()
    assert lines[0].startswith("error: bad_preset.yaml: ")
    assert all(line.count("bad_preset.yaml") == 1 for line in lines)


# ----------------------------------------------------------------------------- 8. options

@pytest.mark.parametrize("argv,expected", [
    (["run", "x.yaml", "-j", "0"], "argument -j/--workers: must be >= 1, got 0"),
    (["run", "x.yaml", "-j", "two"], "argument -j/--workers: expected a whole number >= 1"),
    (["compare", "x.yaml", "-j", "-1"], "argument -j/--workers: must be >= 1, got -1"),
    (["sweep", "x.yaml", "--grid", "a=1", "-j", "2", "--scheduler", "tcp://h:8786"],
     "argument --scheduler: not allowed with argument -j/--workers"),
    (["compare", "x.yaml", "--scheduler", "tcp://h:8786", "-j", "2"],
     "argument -j/--workers: not allowed with argument --scheduler"),
])
def test_bad_executor_options_are_usage_errors(
        capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_BAD_INPUT
    assert expected in capsys.readouterr().err


def test_get_executor_refuses_workers_and_scheduler_together() -> None:
    with pytest.raises(TomakomaiError, match="either -j/--workers .* or --scheduler"):
        get_executor(scheduler="tcp://127.0.0.1:8786", workers=2)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_probe_scheduler_connects_refuses_and_times_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert probe_scheduler(f"tcp://127.0.0.1:{server.getsockname()[1]}") is None
    assert "refused" in str(probe_scheduler(f"tcp://127.0.0.1:{_closed_port()}")).lower()
    assert "host and a port" in str(probe_scheduler("tcp://127.0.0.1"))

    import threading

    release = threading.Event()

    def hangs(*args: object, **kwargs: object) -> socket.socket:
        release.wait(5)  # a host that drops packets: connect() would wait for the timeout
        raise OSError("released")

    monkeypatch.setattr(socket, "create_connection", hangs)
    try:
        assert probe_scheduler("tcp://10.1.2.3:8786", timeout_s=0.2) == "no answer within 0.2 s"
    finally:
        release.set()


def test_unreachable_scheduler_fails_with_a_clear_message() -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(TomakomaiError) as exc:
        get_executor(scheduler=address)
    msg = str(exc.value)
    assert msg.startswith(f"--scheduler {address}: cannot reach the Dask scheduler (")
    assert "leave --scheduler out to run on local processes" in msg


# ----------------------------------------------------------------------------- 9. run ids

class _FrozenClock(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _FrozenClock:  # type: ignore[override]
        return cls(2025, 1, 31, 14, 30, 0, tzinfo=tz)


@pytest.fixture()
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "dt", types.SimpleNamespace(datetime=_FrozenClock,
                                                            timedelta=dt.timedelta))


def test_auto_run_ids_in_the_same_second_are_unique(tmp_path: Path, frozen_clock: None) -> None:
    # three runs start in the same second while the earlier ones are still writing
    got = [runner._reserve_run_dir(tmp_path, None, force=False) for _ in range(3)]
    assert [rid for rid, _ in got] == ["20250131-143000", "20250131-143000-2",
                                       "20250131-143000-3"]
    assert all(tmp.is_dir() and tmp.parent == tmp_path for _, tmp in got)
    # finished runs and failed runs keep their folders too
    fresh = tmp_path / "later"
    (fresh / "20250131-143000").mkdir(parents=True)
    (fresh / "20250131-143000-2.failed").mkdir()
    assert runner._reserve_run_dir(fresh, None, force=False)[0] == "20250131-143000-3"


def test_two_cli_runs_in_the_same_second_keep_both(
        cheap: Path, tmp_path: Path, frozen_clock: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        assert main(["-q", "run", str(cheap), *FAST, "-o", str(out)]) == 0
    runs = sorted(p.name for p in (out / "av_line_test").iterdir())
    assert runs == ["20250131-143000", "20250131-143000-2"]
    manifests = [json.loads((out / "av_line_test" / r / "manifest.json").read_text())
                 for r in runs]
    assert [m["run_id"] for m in manifests] == runs


def test_existing_run_id_needs_force(cheap: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    earlier = tmp_path / "av_line_test" / "base"
    earlier.mkdir(parents=True)
    (earlier / "summary.json").write_text('{"earlier": true}\n', encoding="utf-8")
    args = ["-q", "run", str(cheap), *FAST, "-o", str(tmp_path), "--run-id", "base"]
    assert main(args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert (f"error: run id 'base': {earlier} exists already (an earlier run); choose another "
            "--run-id, leave it out for a new timestamped folder, or add --force") in err
    assert json.loads((earlier / "summary.json").read_text()) == {"earlier": True}
    assert sorted(p.name for p in earlier.parent.iterdir()) == ["base"]  # nothing else written
    assert main([*args, "--force"]) == 0
    assert json.loads((earlier / "summary.json").read_text())["scenario"] == "av_line_test"


@pytest.mark.parametrize("rid", ["../escape", ".hidden", " "])
def test_run_id_must_be_a_folder_name(tmp_path: Path, rid: str) -> None:
    with pytest.raises(OutputError, match="a run id is a folder name"):
        runner._reserve_run_dir(tmp_path, rid, force=False)


# ----------------------------------------------------------------------------- 11. logging

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_info_logs_only_with_verbose(cheap: Path) -> None:
    quiet = _cli("validate", str(cheap))
    assert quiet.returncode == 0
    assert quiet.stdout == f"ok   {cheap}\n"
    assert "INFO" not in quiet.stderr
    loud = _cli("-v", "validate", str(cheap))
    assert loud.returncode == 0 and "INFO tomakomai_maas" in loud.stderr


# ----------------------------------------------------------------------------- 12. exit codes

def test_exit_codes_are_consistent(cheap: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = _variant(cheap, "preset: av_navya_arma", "preset: nope")
    # the validators: 0 when everything is valid, 1 when they found a problem
    assert main(["validate", str(cheap)]) == 0
    assert main(["validate", str(cheap), str(bad)]) == EXIT_FAIL
    assert main(["gtfs", "validate", str(tmp_path / "no_feed")]) == EXIT_FAIL
    # every other command: bad input is 2
    assert main(["run", str(bad), *FAST, "-o", str(tmp_path)]) == EXIT_BAD_INPUT
    assert main(["show", str(tmp_path / "missing.yaml")]) == EXIT_BAD_INPUT
    assert main(["gtfs", "info", str(tmp_path / "no_feed")]) == EXIT_BAD_INPUT
    assert main(["check", str(tmp_path), "--against", str(tmp_path / "g.json")]) == \
        EXIT_BAD_INPUT
    capsys.readouterr()


def test_a_server_that_is_not_a_dask_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    import threading

    from tomakomai_maas.executors import DaskExecutor

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def serve() -> None:  # accepts, answers with bytes that are no Dask message, waits
        conns = []
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.sendall(b"\xff" * 64)
            conns.append(conn)
        for c in conns:
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        with pytest.raises(TomakomaiError, match=r"not a Dask scheduler|cannot reach"):
            DaskExecutor(address, timeout_s=3)
    finally:
        stop.set()
        t.join(2)
        server.close()
