"""``compare``: run scenarios with common random numbers and write tables, plots and a report."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "add_executor_options"]

#: KPIs printed on the terminal (all KPIs are in kpis.csv / report.html).
#: ``total_*`` are all modes (timetabled + DRT), ``boardings`` timetabled vehicles only.
TERMINAL_KPIS = ("requests", "pt_served_share", "total_boardings", "boardings",
                 "wait_mean_min", "journey_mean_min", "on_time_share", "total_vehicle_km",
                 "total_co2_kg", "co2_g_per_boarding")


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """``-j/--workers`` or ``--scheduler`` (shared by compare and sweep; not both)."""
    from tomakomai_maas.cli.run import positive_int

    g = p.add_mutually_exclusive_group()
    g.add_argument("-j", "--workers", type=positive_int, default=None, metavar="N",
                   help="local worker processes (>= 1; default: CPU count)")
    g.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run replications on a Dask distributed cluster instead of local "
                        "processes (pip install 'tomakomai-maas[distributed]')")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare scenarios (same seeds) and write a report",
        description="Run every scenario with the same replication seeds (common random "
                    "numbers), then write kpis.csv, kpis.md, differences.csv, changes.csv, "
                    "plots/*.png, report.html and each scenario's run folder (runs/). The "
                    "first scenario is the baseline.")
    p.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files (baseline first)")
    p.add_argument("-r", "--replications", type=int, default=None,
                   help="replications per scenario (default: the baseline's)")
    p.add_argument("--seed", type=int, default=None,
                   help="base seed: replication i uses seed+i in every scenario "
                        "(default: the baseline's seed)")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="output folder (default: <baseline output.dir>/compare/<timestamp>)")
    p.add_argument("--force", action="store_true",
                   help="write into --out even if it is a non-empty folder that is not an "
                        "earlier comparison (same-named files are overwritten, nothing else is "
                        "touched); an earlier comparison's files are always replaced")
    p.add_argument("--lang", choices=("ja", "en"), default="ja", help="labels of plots/report")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field in every scenario (repeatable; values are YAML)")
    p.add_argument("--no-tables", action="store_true",
                   help="run folders get only summary and manifest (no trips/legs tables)")
    p.add_argument("--quiet", dest="sub_quiet", action="store_true",
                   help="no progress bar and no KPI table")
    add_executor_options(p)
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from tomakomai_maas.cli._progress import progress_bar
    from tomakomai_maas.errors import ScenarioError
    from tomakomai_maas.executors import get_executor
    from tomakomai_maas.metrics.compare import compare
    from tomakomai_maas.report.comparison import write_comparison
    from tomakomai_maas.report.outdir import check_comparison_dir
    from tomakomai_maas.scenario.load import load_scenario

    quiet = bool(args.quiet or args.sub_quiet)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(f"--replications must be >= 1, got {args.replications}")
    scenarios = [load_scenario(p, args.overrides) for p in args.scenarios]
    out = args.out
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(scenarios[0].output.dir) / "compare" / stamp
    check_comparison_dir(out, force=args.force)  # before anything runs or is written
    bar = progress_bar("replications", quiet=quiet)

    def progress(label: str, done: int, total: int) -> None:
        if bar is not None:
            bar.set_label(label)
            bar(done, total)

    with get_executor(scheduler=args.scheduler, workers=args.workers) as ex:
        comp = compare(scenarios, replications=args.replications, seed=args.seed,
                       out_dir=out, executor=ex, write_tables=not args.no_tables,
                       progress=progress)
    paths = write_comparison(comp, out, lang=args.lang)
    if not quiet:
        sys.stdout.write(format_comparison(comp) + "\n")
    sys.stdout.write(f"report: {paths['report.html']}\n")
    return 0


def _f(x: float) -> str:
    return "-" if x is None or not math.isfinite(float(x)) else f"{float(x):.4g}"


def format_comparison(comp: Any) -> str:
    """Terminal table: headline KPIs per scenario and paired differences from the baseline."""
    kt = comp.kpi_table.set_index(["kpi", "scenario"])
    diff = comp.differences
    dt_ = diff.set_index(["kpi", "scenario"]) if len(diff) else None
    labels = comp.labels
    rows = []
    for k in TERMINAL_KPIS:
        if (k, labels[0]) not in kt.index:
            continue
        cells = [_f(kt.loc[(k, labels[0]), "mean"])]
        for s in labels[1:]:
            m = _f(kt.loc[(k, s), "mean"])
            if dt_ is not None and (k, s) in dt_.index:
                r = dt_.loc[(k, s)]
                d = float(r["diff"])
                sign = "+" if math.isfinite(d) and d > 0 else ""
                star = "*" if r["significant"] else ""
                m = f"{m} ({sign}{_f(d)}{star})"
            cells.append(m)
        rows.append((k, cells))
    widths = [max([len(lab)] + [len(c[i]) for _, c in rows]) for i, lab in enumerate(labels)]
    from tomakomai_maas.metrics.stats import few_replications_warning

    warn = few_replications_warning(int(comp.replications))
    lines = [f"{len(labels)} scenario(s), {comp.replications} replication(s), seeds "
             f"{comp.base_seed}..{comp.base_seed + comp.replications - 1}. "
             f"Differences vs {labels[0]}: paired, * = 95% CI excludes 0.",
             *([f"  warning: {warn}"] if warn else []),
             f"  {'KPI':<20}" + "".join(f"  {lab:>{w}}" for lab, w in zip(labels, widths,
                                                                           strict=True))]
    for k, cells in rows:
        lines.append(f"  {k:<20}" + "".join(f"  {c:>{w}}" for c, w in zip(cells, widths,
                                                                          strict=True)))
    from tomakomai_maas.report.comparison import caution_texts

    lines += [f"caution: {c}" for c in caution_texts(comp, "en")]
    return "\n".join(lines)
