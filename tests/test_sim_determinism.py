"""Same seed -> identical tables, across processes and hash seeds; other seed -> different."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import simworlds as sw
from tomakomai_maas.sim import simulate

TESTS = Path(__file__).parent


def _hash_in_subprocess(seed: int, hash_seed: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = hash_seed  # set iteration order differs between the two runs
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    code = f"import simworlds; print(simworlds.table_hash({seed}))"
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )


def test_same_seed_same_tables_in_separate_processes() -> None:
    procs = [_hash_in_subprocess(7, "1"), _hash_in_subprocess(7, "2")]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(outs[0]) == 64
    assert outs[0] == outs[1] == sw.table_hash(7)


def test_other_seed_changes_tables() -> None:
    assert sw.table_hash(7) != sw.table_hash(8)


def test_same_seed_same_event_log_in_process() -> None:
    world = sw.busy_world()
    a, b = simulate(world, 3), simulate(world, 3)
    assert a.events == b.events
    assert a.counters == b.counters
