#!/usr/bin/env python3
"""Regenerate the regression goldens ``tests/golden/<scenario>.json`` (explicitly).

    python tools/update_goldens.py                      # every scenarios/*.yaml
    python tools/update_goldens.py av_trial_2023        # only these (file stems)
    python tools/update_goldens.py --replications 50 --hours 2

For each shipped scenario it runs a reference with many replications (default 30, seeds
``seed .. seed+29``) at a short horizon (``--set service.start_time/end_time``, a window of ``hours`` that
contains the first timetabled departure; recorded in the golden), writes the golden (per KPI: mean, between-replication std, n),
then runs the check CI does (``check_replications`` = 5 replications, the same seed) and
prints its table, so a golden that CI would reject is seen at once.

Run it when a KPI moved on purpose (model change) or a scenario was added, read the printed
check of what moved, and commit the goldens with a message saying why they changed.
``tests/test_golden_scenarios.py`` fails for a shipped scenario without a golden.

The horizon limits generated demand and DRT service hours to the window; timetabled trips
of the whole day still run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from tomakomai_maas.executors import LocalExecutor  # noqa: E402
from tomakomai_maas.metrics.check import (  # noqa: E402
    check_summary,
    format_report,
    make_golden,
    write_golden,
)
from tomakomai_maas.runner import run  # noqa: E402
from tomakomai_maas.scenario.load import load_scenario  # noqa: E402
from tomakomai_maas.scenario.schema import format_time, parse_time_s  # noqa: E402

GOLDEN_DIR = ROOT / "tests" / "golden"
SCENARIO_DIR = ROOT / "scenarios"


def horizon_overrides(path: Path, hours: float) -> list[str]:
    """A short service window of ``hours`` that contains the first scheduled departure.

    It starts at the service start, or 30 min before the first timetabled departure when
    that is later (an event shuttle starting at 11:00 in a day opening at 07:00 would
    otherwise have no trips in the window). Times are quoted: YAML reads 12:30 as 750.
    """
    from tomakomai_maas.scenario.build import build

    sc = load_scenario(path)
    start = parse_time_s(sc.service.start_time)
    world = build(sc)
    if world.trips:
        start = max(start, min(t.dep_s[0] for t in world.trips) - 1800)
    end = min(start + hours * 3600, parse_time_s(sc.service.end_time))
    return [f'service.start_time="{format_time(start)[:5]}"',
            f'service.end_time="{format_time(end)[:5]}"']


def update(path: Path, *, replications: int, hours: float, check_replications: int,
           ex: LocalExecutor) -> bool:
    overrides = horizon_overrides(path, hours)
    sc = load_scenario(path, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        ref = run(sc, replications=replications, out_root=Path(tmp), run_id="golden",
                  write_tables=False, executor=ex)
        raw = (ref.path / "summary.json").read_bytes()
        manifest = json.loads((ref.path / "manifest.json").read_text(encoding="utf-8"))
        golden = make_golden(json.loads(raw), summary_bytes=raw, manifest=manifest,
                             overrides=overrides,
                             scenario_file=path.resolve().relative_to(ROOT).as_posix(),
                             check_replications=check_replications, root=ROOT)
        out = write_golden(GOLDEN_DIR / f"{path.stem}.json", golden)
        new = run(sc, replications=check_replications, out_root=Path(tmp), run_id="check",
                  write_tables=False, executor=ex)
    report = check_summary(new.summary, golden)
    print(f"wrote {out.relative_to(ROOT)} ({replications} replications, "
          f"{' '.join(overrides)})")
    print(format_report(report, show="moved"))
    return report.passed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help="scenario file stems (default: all shipped)")
    p.add_argument("--replications", type=int, default=30)
    p.add_argument("--hours", type=float, default=3.0, help="horizon from service start")
    p.add_argument("--check-replications", type=int, default=5)
    p.add_argument("-j", "--workers", type=int, default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    paths = sorted(SCENARIO_DIR.glob("*.yaml"))
    if args.names:
        by_stem = {q.stem: q for q in paths}
        missing = [n for n in args.names if n not in by_stem]
        if missing:
            p.error(f"no scenarios/{missing[0]}.yaml; shipped: {', '.join(sorted(by_stem))}")
        paths = [by_stem[n] for n in args.names]
    ok = True
    with LocalExecutor(args.workers) as ex:
        for path in paths:
            ok &= update(path, replications=args.replications, hours=args.hours,
                         check_replications=args.check_replications, ex=ex)
    if not ok:
        print("WARNING: a fresh golden fails the CI check (a ~1% chance event, or a "
              "non-deterministic model); investigate before committing", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
