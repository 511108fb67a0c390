"""``run``, ``validate`` and ``show``: the scenario commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from tomakomai_maas.cli._progress import progress_bar
from tomakomai_maas.errors import ScenarioError, TomakomaiError

__all__ = ["register", "format_kpi_table"]

#: KPIs shown on the terminal after a run (all KPIs are in summary.json).
HEADLINE_KPIS = (
    "requests", "served_share", "gave_up", "denied_boardings", "boardings",
    "wait_mean_min", "wait_p95_min", "journey_mean_min", "on_time_share",
    "vehicle_km", "pax_km", "energy_kwh", "fuel_l", "co2_kg", "co2_g_per_pax_km",
    "takeovers", "trips_cancelled",
)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set operations.holding=false "
                        "(repeatable; values are YAML)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario and write results",
                       description="Build, simulate and write a scenario's results.")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    _add_common(p)
    p.add_argument("-r", "--replications", type=int, default=None,
                   help="number of replications (default: the scenario's)")
    p.add_argument("--seed", type=int, default=None, help="base seed (default: the scenario's)")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="results root (default: the scenario's output.dir)")
    p.add_argument("--run-id", default=None, help="run folder name (default: a timestamp)")
    p.add_argument("-j", "--workers", type=int, default=None,
                   help="worker processes for replications (default: CPU count)")
    p.add_argument("--no-tables", action="store_true", help="write only summary and manifest")
    p.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check scenario files without running them",
                       description="Run every check a run would (schema, files, feeds, "
                                   "snapping, demand) and report all problems.")
    v.add_argument("scenarios", type=Path, nargs="+")
    _add_common(v)
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("show", help="print the fully resolved scenario (defaults applied)")
    s.add_argument("scenario", type=Path)
    _add_common(s)
    s.set_defaults(func=_cmd_show)


def _cmd_run(args: argparse.Namespace) -> int:
    from tomakomai_maas.runner import run
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(args.scenario, args.overrides)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(f"--replications must be >= 1, got {args.replications}")
    out = run(sc, replications=args.replications, seed=args.seed, out_root=args.out,
              run_id=args.run_id, workers=args.workers, write_tables=not args.no_tables,
              progress=progress_bar("replications", quiet=args.quiet))
    if not args.quiet:
        sys.stdout.write(format_kpi_table(out.summary) + "\n")
        sys.stdout.write(f"results: {out.path}\n")
    return 0


def format_kpi_table(summary: dict) -> str:  # type: ignore[type-arg]
    """A plain-text table of the headline KPIs with their 95% CIs."""
    kpis = summary.get("kpis", {})
    n = summary.get("replications", 1)
    lines = [f"{summary.get('scenario')}: {n} replication(s), seed {summary.get('seed')}",
             f"  {'KPI':<22} {'mean':>12} {'95% CI':>25}"]
    for k in HEADLINE_KPIS:
        if k not in kpis:
            continue
        e = kpis[k]
        mean = e.get("mean")
        lo, hi = e.get("ci_low"), e.get("ci_high")
        ci = f"[{lo:.4g}, {hi:.4g}]" if lo is not None and hi is not None else "-"
        ms = f"{mean:.4g}" if mean is not None else "-"
        lines.append(f"  {k:<22} {ms:>12} {ci:>25}")
    return "\n".join(lines)


def _cmd_validate(args: argparse.Namespace) -> int:
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    failed = 0
    for path in args.scenarios:
        try:
            build(load_scenario(path, args.overrides))
        except TomakomaiError as exc:
            failed += 1
            sys.stderr.write(f"FAIL {path}\n{exc}\n")
        else:
            sys.stdout.write(f"ok   {path}\n")
    if failed:
        sys.stderr.write(f"{failed} of {len(args.scenarios)} scenario(s) invalid\n")
        return 2
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from tomakomai_maas.scenario.load import load_scenario, resolved_dict

    sc = load_scenario(args.scenario, args.overrides)
    sys.stdout.write(yaml.safe_dump(resolved_dict(sc), allow_unicode=True, sort_keys=False))
    return 0
