"""Executors return identical results in job order, whichever ran them (serial, process
pool, Dask distributed on a localhost LocalCluster)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from test_compare import write_cheap_scenario  # a sibling test module
from tomakomai_maas.cli import main
from tomakomai_maas.errors import TomakomaiError
from tomakomai_maas.executors import (
    DaskExecutor,
    LocalExecutor,
    SerialExecutor,
    get_executor,
)
from tomakomai_maas.runner import simulate_replications
from tomakomai_maas.scenario.build import build
from tomakomai_maas.scenario.load import load_scenario

SEEDS = [3, 1, 4, 1, 5]


def _distributed():
    """The distributed package; in CI a missing install fails instead of skipping."""
    try:
        import distributed
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("dask[distributed] is missing: it is in the [test] extra")
        pytest.skip("dask[distributed] not installed (pip install -e '.[test]')")
    return distributed


def _same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (ka, ta), (kb, tb) in zip(a, b, strict=True):
        assert ka.keys() == kb.keys()
        for k in ka:
            assert ka[k] == kb[k] or (ka[k] != ka[k] and kb[k] != kb[k]), k  # NaN == NaN
        assert ta.keys() == tb.keys()
        for name in ta:
            pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True)


@pytest.fixture(scope="module")
def scenario_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cheap_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def world(scenario_path: Path):
    """A built scenario World (picklable, as process pools need)."""
    return build(load_scenario(scenario_path))


@pytest.fixture(scope="module")
def serial(world) -> list:
    return simulate_replications(world, SEEDS, workers=1)


def _square(x: int, y: int = 0) -> int:
    return x * x + y


def test_map_keeps_job_order_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    jobs = [(i, 1) for i in range(7)]
    for ex in (SerialExecutor(), LocalExecutor(2)):
        seen.clear()
        with ex:
            assert ex.map(_square, jobs, progress=lambda d, t: seen.append((d, t))) == [
                i * i + 1 for i in range(7)]
        assert seen[-1] == (7, 7) and [d for d, _ in seen] == list(range(1, 8))


def test_process_pool_equals_serial(world, serial) -> None:
    with LocalExecutor(2) as ex:
        _same(simulate_replications(world, SEEDS, executor=ex), serial)


def test_get_executor_choices() -> None:
    assert isinstance(get_executor(workers=1), SerialExecutor)
    assert isinstance(get_executor(workers=3), LocalExecutor)
    with pytest.raises(TomakomaiError, match="tcp://HOST:PORT"):
        get_executor(scheduler="localhost:8786")
    with pytest.raises(TomakomaiError, match=">= 1"):
        get_executor(workers=0)


def test_job_errors_propagate() -> None:
    with LocalExecutor(2) as ex, pytest.raises(TypeError):
        ex.map(_square, [(1,), ("a",)])


@pytest.fixture(scope="module")
def cluster():
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  host="127.0.0.1", protocol="tcp", dashboard_address=None
                                  ) as c:
        yield c


def test_dask_equals_serial(world, serial, cluster) -> None:
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    done: list[int] = []
    with DaskExecutor(cluster.scheduler_address) as ex:
        got = simulate_replications(world, SEEDS, executor=ex,
                                    progress=lambda d, t: done.append(d))
    _same(got, serial)
    assert sorted(done) == list(range(1, len(SEEDS) + 1))


def test_cannot_reach_scheduler_is_a_clear_error() -> None:
    _distributed()
    with pytest.raises(TomakomaiError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=1)


def test_sweep_cli_on_dask_matches_local(cluster, scenario_path: Path, tmp_path: Path) -> None:
    args = ["-q", "sweep", str(scenario_path), "--grid", "operations.dwell_per_boarding_s=4,12",
            "-r", "2", "--kpi", "dep_delay_mean_min"]
    assert main([*args, "-o", str(tmp_path / "dask"), "--scheduler",
                 cluster.scheduler_address]) == 0
    assert main([*args, "-o", str(tmp_path / "local"), "-j", "1"]) == 0
    assert ((tmp_path / "dask" / "sweep.csv").read_bytes()
            == (tmp_path / "local" / "sweep.csv").read_bytes())
