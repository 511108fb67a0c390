"""``check``: compare a run's KPIs with a golden (tolerance bands from replication variance).

Exit codes: 0 = pass, 1 = regression (a KPI outside its band, or not byte-identical with
``--exact``), 2 = bad input.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check a run's KPIs against a golden (regression test)",
        description="Compare RUN's summary.json KPIs with a golden made from a reference run "
                    "with many replications. A KPI passes when |mean_new - mean_golden| is "
                    "within c * se, se from the pooled replication variance and c a Student-t "
                    "quantile for a family-wise false-alarm rate --alpha over the KPIs "
                    "(Šidák). See tomakomai_maas.metrics.check for the details.",
        epilog="examples:\n"
               "  tomakomai-maas check results/av_trial_2023/run1 --against "
               "tests/golden/av_trial_2023.json\n"
               "  tomakomai-maas check RUN --against OTHER_RUN/summary.json --exact\n"
               "  tomakomai-maas check RUN --against tests/golden/x.json --update",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="run folder (with summary.json), a summary.json, or "
                   "a scenario's results folder (its newest run is used)")
    p.add_argument("--against", type=Path, required=True, metavar="GOLDEN",
                   help="golden JSON (tests/golden/<scenario>.json) or another summary.json")
    p.add_argument("--exact", action="store_true",
                   help="determinism check: summary.json must be byte-identical")
    p.add_argument("--update", action="store_true",
                   help="rewrite GOLDEN from RUN (keeps its recorded overrides) instead of "
                        "checking")
    p.add_argument("--alpha", type=float, default=0.01,
                   help="family-wise false-alarm rate over the checked KPIs (default 0.01)")
    p.add_argument("--variance", choices=("pooled", "separate"), default="pooled",
                   help="pooled (default) or separate (Welch) variance estimate")
    p.add_argument("--show", choices=("moved", "all"), default="moved",
                   help="print only the KPIs that moved (|z| >= 2 or not PASS; default) or all")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="also write the verdicts as JSON")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from tomakomai_maas.errors import TomakomaiError
    from tomakomai_maas.metrics import check as ck

    summary_path = ck.find_summary(args.run)
    sys.stdout.write(_checking_line(args.run, summary_path) + "\n")
    if args.update:
        return _update(summary_path, args.against)
    if args.exact:
        rep = ck.check_exact(summary_path, args.against)
        sys.stdout.write(ck.format_exact(rep) + "\n")
        if args.json:
            args.json.write_text(json.dumps({
                "identical": rep.identical, "reference": rep.reference,
                "differences": [d.__dict__ for d in rep.differences]}, indent=2,
                ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return 0 if rep.identical else 1
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TomakomaiError(f"{summary_path}: cannot read summary: {exc}") from exc
    golden = ck.load_golden(args.against)
    try:
        report = ck.check_summary(summary, golden, alpha=args.alpha, variance=args.variance)
    except ValueError as exc:
        raise TomakomaiError(str(exc)) from exc
    resolved = _resolved_scenario(summary_path)
    # fields the golden's scenario lacks are schema fields added since, with their defaults
    # (as in tests/test_golden_scenarios.py): the KPI check decides whether they matter
    diffs = (ck.scenario_differences(resolved, golden, ignore_new_fields=True)
             if resolved is not None else [])
    if diffs:
        # said before the table: every verdict below compares different settings
        shown = "; ".join(f"{p}: {_short(a)} -> {_short(b)}" for p, a, b in diffs[:5])
        more = f" (+{len(diffs) - 5} more)" if len(diffs) > 5 else ""
        sys.stdout.write(
            f"warning: the run's scenario differs from the one {args.against} was made with "
            f"in {len(diffs)} field(s) (golden -> run): {shown}{more}\n"
            f"  the KPIs below compare different settings; to run with the golden's settings:"
            f"\n  {reproduce_command(golden, resolved)}\n")
        report.notes.append(f"the run's scenario differs from the golden's in "
                            f"{len(diffs)} field(s): {shown}{more}")
    elif golden.get("overrides"):
        report.notes.append("golden made with " + " ".join(
            f"--set {shlex.quote(o)}" for o in golden["overrides"]))
    sys.stdout.write(ck.format_report(report, show=args.show) + "\n")
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False,
                                        default=str) + "\n", encoding="utf-8")
    return 0 if report.passed else 1


def _checking_line(given: Path, summary_path: Path) -> str:
    """``checking run <folder>``, saying when the newest run of a results folder was picked."""
    run_dir = summary_path.parent
    if given.is_file() or (given / "summary.json").is_file():
        return f"checking run {run_dir}"
    others = sum(1 for d in given.iterdir() if d.is_dir() and not d.name.startswith(".")
                 and (d / "summary.json").is_file())
    return f"checking run {run_dir} (the newest of {others} run(s) in {given})"


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _resolved_scenario(summary_path: Path) -> dict | None:  # type: ignore[type-arg]
    manifest = summary_path.parent / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        resolved = json.loads(manifest.read_text(encoding="utf-8")).get("resolved_scenario")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return resolved if isinstance(resolved, dict) else None


def reproduce_command(golden: dict, resolved: dict | None = None) -> str:  # type: ignore[type-arg]
    """The ``tomakomai-maas run`` command with the golden's scenario file, seed, replications
    (``check_replications``) and ``--set`` overrides: what CI runs to check this golden."""
    scenario = golden.get("scenario_file") or (resolved or {}).get("source_file") \
        or "SCENARIO.yaml"
    parts = ["tomakomai-maas", "run", shlex.quote(str(scenario))]
    if golden.get("seed") is not None:
        parts += ["--seed", str(golden["seed"])]
    reps = golden.get("check_replications") or golden.get("replications")
    if reps:
        parts += ["-r", str(reps)]
    for o in golden.get("overrides", []):
        parts += ["--set", shlex.quote(str(o))]
    return " ".join(parts)


def _update(summary_path: Path, golden_path: Path) -> int:
    from tomakomai_maas.metrics import check as ck

    old = ck.load_golden(golden_path) if golden_path.is_file() else {}
    manifest_path = summary_path.parent / "manifest.json"
    manifest = (json.loads(manifest_path.read_text(encoding="utf-8"))
                if manifest_path.is_file() else None)
    raw = summary_path.read_bytes()
    golden = ck.make_golden(json.loads(raw), summary_bytes=raw, manifest=manifest,
                            overrides=old.get("overrides", []),
                            scenario_file=old.get("scenario_file"),
                            check_replications=old.get("check_replications", 5),
                            root=Path.cwd())
    ck.write_golden(golden_path, golden)
    sys.stdout.write(f"wrote golden {golden_path} from {summary_path} "
                     f"({golden['replications']} replications)\n")
    return 0
