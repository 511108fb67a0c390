"""``run``, ``validate`` and ``show``: the scenario commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from tomakomai_maas.cli._progress import progress_bar
from tomakomai_maas.errors import ScenarioError, TomakomaiError

__all__ = ["register", "format_kpi_table", "positive_int", "HEADLINE_KPIS",
           "DRT_HEADLINE_KPIS"]

#: KPIs shown on the terminal after a run (all KPIs are in summary.json). ``boardings``,
#: ``vehicle_km`` ... count timetabled vehicles; the ``total_*`` rows add DRT and are shown
#: only when the run has DRT (without it they equal the timetabled rows).
HEADLINE_KPIS = (
    "requests", "served_share", "pt_requests", "pt_served_share", "gave_up",
    "denied_boardings", "boardings", "total_boardings",
    "wait_mean_min", "wait_p95_min", "journey_mean_min", "on_time_share",
    "vehicle_km", "total_vehicle_km", "pax_km", "total_pax_km", "energy_kwh",
    "total_energy_kwh", "fuel_l", "total_fuel_l", "co2_kg", "total_co2_kg", "co2_g_per_pax_km",
    "total_co2_g_per_pax_km", "takeovers", "trips_cancelled",
)

#: On-demand (DRT) KPIs shown after the headline ones, only when the run has a DRT service
#: (its ``drt.*`` KPIs are in summary.json). Names missing from the summary are skipped.
DRT_HEADLINE_KPIS = (
    "drt.requests", "drt.served_share", "drt.cancelled", "drt.wait_mean_min",
    "drt.wait_p95_min", "drt.ride_mean_min", "drt.detour_mean", "drt.shared_share",
    "drt.passengers", "drt.vehicle_km", "drt.empty_km_share", "drt.occupancy",
    "drt.vehicle_km_per_pax", "drt.idle_share", "drt.energy_kwh", "drt.fuel_l", "drt.co2_kg",
    "drt.soc_min", "drt.fare_revenue_yen", "drt.cost_per_trip_yen", "drt.subsidy_per_trip_yen",
    "drt.rejected",
)
#: Prefix of the per-reason rejection counts; a reason is shown when any replication had one.
DRT_REJECTED_PREFIX = "drt.rejected."


def positive_int(text: str) -> int:
    """argparse type of counts such as ``-j/--workers``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


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
    p.add_argument("--run-id", default=None,
                   help="run folder name (default: the start time, with -2, -3, ... appended "
                        "when that folder exists); an existing run is replaced only with "
                        "--force")
    p.add_argument("--force", action="store_true",
                   help="replace the run of the same --run-id (atomically, at the end)")
    p.add_argument("-j", "--workers", type=positive_int, default=None, metavar="N",
                   help="worker processes for replications (>= 1; default: CPU count)")
    p.add_argument("--no-tables", action="store_true", help="write only summary and manifest")
    p.add_argument("--quiet", dest="sub_quiet", action="store_true",
                   help="no progress bar and no KPI table (as the global -q)")
    p.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check scenario files without running them "
                                        "(exit 1 if any is invalid)",
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
    quiet = bool(args.quiet or args.sub_quiet)
    out = run(sc, replications=args.replications, seed=args.seed, out_root=args.out,
              run_id=args.run_id, workers=args.workers, write_tables=not args.no_tables,
              progress=progress_bar("replications", quiet=quiet), force=args.force)
    if not quiet:
        sys.stdout.write(format_kpi_table(out.summary) + "\n")
        sys.stdout.write(f"results: {out.path}\n")
    return 0


def format_kpi_table(summary: dict) -> str:  # type: ignore[type-arg]
    """A plain-text table of the headline KPIs with their 95% CIs.

    When the summary has on-demand KPIs (``drt.*``: the scenario has a DRT service) a second
    block follows with :data:`DRT_HEADLINE_KPIS` and, after ``drt.rejected``, the rejections
    by reason (``drt.rejected.<reason>``) that occurred in at least one replication, most
    frequent first (ties by name). Rows show the mean and the 95% CI over replications
    (truncated to the KPI's range, :func:`tomakomai_maas.metrics.stats.kpi_bounds`); with
    fewer than 5 replications a warning line says the CIs are unreliable.
    """
    from tomakomai_maas.metrics.stats import few_replications_warning

    kpis = summary.get("kpis", {})
    n = summary.get("replications", 1)
    has_drt = any(k.startswith("drt.") for k in kpis)
    rows = [k for k in HEADLINE_KPIS if k in kpis and (has_drt or not k.startswith("total_"))]
    drt_rows: list[str] = []
    if has_drt:
        drt_rows = [k for k in DRT_HEADLINE_KPIS if k in kpis]
        reasons = [k for k in kpis if k.startswith(DRT_REJECTED_PREFIX)
                   and _occurred(kpis[k])]
        reasons.sort(key=lambda k: (-float(kpis[k].get("mean") or 0.0), k))
        at = drt_rows.index("drt.rejected") + 1 if "drt.rejected" in drt_rows else len(drt_rows)
        drt_rows[at:at] = reasons
    width = max([22, *(len(k) + (2 if k.startswith(DRT_REJECTED_PREFIX) else 0)
                       for k in drt_rows)])
    lines = [f"{summary.get('scenario')}: {n} replication(s), seed {summary.get('seed')}"]
    warn = few_replications_warning(int(n or 1))
    if warn:
        lines.append(f"  warning: {warn}")
    lines.append(f"  {'KPI':<{width}} {'mean':>12} {'95% CI':>25}")
    lines += [_kpi_row(k, kpis[k], width) for k in rows]
    if drt_rows:
        lines.append("  on-demand (DRT):")
        lines += [_kpi_row(k, kpis[k], width, indent=2 if k.startswith(DRT_REJECTED_PREFIX)
                           else 0) for k in drt_rows]
    lines += _access_lines(summary.get("accessibility") or {})
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _access_lines(acc: dict) -> list[str]:  # type: ignore[type-arg]
    """Accessibility block (``summary.json`` ``accessibility``): coverage shares of all
    residents (65+ and without a car in brackets) and the reach / mean travel time to each
    destination; empty without accessibility."""
    every = acc.get("all")
    if not every:
        return []
    lines = ["  accessibility (residents; walk along the road network; accessibility.csv):"]
    for key in sorted((k for k in every if k.startswith("covered_") and k.endswith("m_share")),
                      key=lambda k: float(k[8:-7].replace("_", "."))):
        d = key[8:-7].replace("_", ".")
        extra = ", ".join(f"{lab} {_pct(acc[b].get(key))}" for b, lab in
                          (("65p", "65+"), ("no_car", "no car")) if b in acc)
        lines.append(f"    within {d} m of a served stop or in a DRT area: "
                     f"{_pct(every[key])}" + (f" ({extra})" if extra else ""))
    for key in (k for k in every if k.startswith("pt_reach_") and k.endswith("_share")):
        dest = key[9:-6]
        tt = every.get(f"pt_tt_{dest}_min")
        t = "" if tt is None else f", mean {tt:.1f} min door to door incl. waits"
        either = every.get(f"reach_{dest}_share")
        lines.append(f"    {dest}: by public transport {_pct(every[key])}{t}; "
                     f"by public transport or on foot {_pct(either)}")
    return lines


def _occurred(e: dict) -> bool:  # type: ignore[type-arg]
    """A count KPI (>= 0 in every replication) that was above zero in at least one."""
    mean = e.get("mean")
    return isinstance(mean, int | float) and mean > 0


def _num(x: float | None) -> str:
    """4 significant digits; large values (yen, km) in full instead of an exponent."""
    if x is None:
        return "-"
    return f"{x:.0f}" if 1e4 <= abs(x) < 1e15 else f"{x:.4g}"


def _kpi_row(k: str, e: dict, width: int, *, indent: int = 0) -> str:  # type: ignore[type-arg]
    lo, hi = e.get("ci_low"), e.get("ci_high")
    ci = f"[{_num(lo)}, {_num(hi)}]" if lo is not None and hi is not None else "-"
    name = " " * indent + k
    return f"  {name:<{width}} {_num(e.get('mean')):>12} {ci:>25}"


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
        return 1  # the check ran and found problems (like gtfs validate and check)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from tomakomai_maas.scenario.load import load_scenario, resolved_dict

    sc = load_scenario(args.scenario, args.overrides)
    sys.stdout.write(yaml.safe_dump(resolved_dict(sc), allow_unicode=True, sort_keys=False))
    return 0
