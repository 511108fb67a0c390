"""``sweep``: run a scenario over a grid of overrides (same seeds everywhere) and plot KPIs."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from tomakomai_maas.cli.compare import add_executor_options

__all__ = ["register"]

DEFAULT_KPIS = ("served_share", "wait_mean_min")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="run a scenario over a parameter grid",
        description="Run SCENARIO at every point of the cartesian product of the --grid "
                    "values (each point is a set of --set overrides), with the same "
                    "replication seeds at every point (common random numbers). Writes "
                    "sweep.csv (one row per point x KPI, with the paired difference from the "
                    "first point), sweep.md, points.json and plots/sweep_<kpi>.png.",
        epilog="example:\n  tomakomai-maas sweep scenarios/av_trial_2023.yaml "
               "--grid operations.dwell_per_boarding_s=2,3,4 --grid demand.scale=1,1.5 "
               "-r 10 -o results/sweep_dwell --kpi served_share --kpi wait_mean_min",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=Path)
    p.add_argument("--grid", action="append", default=[], required=True,
                   metavar="KEY=V1,V2,...", help="a swept field and its values (repeatable; "
                   "the first --grid is the x axis of the plots)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field at every point (repeatable)")
    p.add_argument("-r", "--replications", type=int, default=None,
                   help="replications per point (default: the scenario's)")
    p.add_argument("--seed", type=int, default=None, help="base seed (default: the scenario's)")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="output folder (default: <output.dir>/sweep/<timestamp>)")
    p.add_argument("--kpi", action="append", default=None, metavar="KPI",
                   help=f"KPI to plot (repeatable; default: {', '.join(DEFAULT_KPIS)})")
    p.add_argument("--lang", choices=("ja", "en"), default="ja")
    p.add_argument("--quiet", dest="sub_quiet", action="store_true", help="no progress bar")
    add_executor_options(p)
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from tomakomai_maas.cli._progress import progress_bar
    from tomakomai_maas.errors import ScenarioError
    from tomakomai_maas.executors import get_executor
    from tomakomai_maas.metrics.compare import parse_grid, sweep
    from tomakomai_maas.report.sweep import write_sweep
    from tomakomai_maas.scenario.load import load_scenario

    quiet = bool(args.quiet or args.sub_quiet)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(f"--replications must be >= 1, got {args.replications}")
    grid = parse_grid(args.grid)
    out = args.out
    if out is None:
        sc = load_scenario(args.scenario, args.overrides)
        out = Path(sc.output.dir) / "sweep" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kpis = args.kpi or list(DEFAULT_KPIS)
    from tomakomai_maas.runner import make_output_dir

    make_output_dir(out)  # an unusable -o fails now, not after the simulations
    bar = progress_bar("sweep", quiet=quiet)
    with get_executor(scheduler=args.scheduler, workers=args.workers) as ex:
        result = sweep(args.scenario, grid, overrides=args.overrides,
                       replications=args.replications, seed=args.seed, executor=ex,
                       progress=bar)
    known = set(result.table["kpi"])
    unknown = [k for k in kpis if k not in known]
    if unknown:
        raise ScenarioError(f"--kpi {', '.join(unknown)}: unknown KPI; known: "
                            f"{', '.join(sorted(known))}")
    paths = write_sweep(result, out, kpis=kpis, lang=args.lang)
    if not quiet:
        sys.stdout.write((out / "sweep.md").read_text(encoding="utf-8"))
    sys.stdout.write(f"sweep: {paths['sweep.csv']}\n")
    return 0
