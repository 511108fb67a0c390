"""``calibrate``: fit mode-choice parameters to observed counts (thin wrapper).

Example (the shipped calibration, see docs/calibration.md)::

    tomakomai-maas calibrate scenarios/av_trial_2023.yaml \\
        --param maas.av_constant --target boardings=1359 --days 26 \\
        --source "facts §1.2 (延べ1,359人)" --sensitivity-days 22,23,24,25,26 \\
        --validate scenarios/mirai_fest_2023.yaml kpi=boardings observed=300 days=2 \\
        --predict scenarios/av_winter_2024.yaml kpi=boardings \\
        -r 20 --doc docs/calibration.md
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tomakomai_maas.cli.run import positive_int
from tomakomai_maas.errors import ScenarioError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="fit scenario parameters (e.g. maas.av_constant) to observed counts",
        description="Fit parameters so that the CRN-averaged KPI per operating day matches "
                    "observed totals (brentq on common-random-number replications), with "
                    "delta-method and bootstrap uncertainty; optionally validate and predict "
                    "other scenarios with the fitted values.")
    p.add_argument("scenario", type=Path)
    p.add_argument("--param", action="append", required=True, metavar="PATH[=LO:HI]",
                   help="scenario field to fit, e.g. maas.av_constant or "
                        "maas.choice.asc.bus=-5:3 (repeatable)")
    p.add_argument("--target", action="append", required=True, metavar="KPI=OBSERVED",
                   help="observed total of a KPI, e.g. boardings=1359 (one per --param)")
    p.add_argument("--days", type=float, action="append", default=None,
                   help="operating days the observed total covers (default: the scenario's "
                        "calendar; one per --target)")
    p.add_argument("--source", action="append", default=None,
                   help="where the observed number comes from (one per --target)")
    p.add_argument("--observed-sd", type=float, action="append", default=None,
                   help="standard error of the observed total (one per --target; default "
                        "sqrt(observed), a Poisson count; 0 for a derived average)")
    p.add_argument("--sensitivity-days", default="",
                   help="comma-separated day counts to refit with, e.g. 22,23,24,25,26")
    p.add_argument("--no-day-mix", action="store_true",
                   help="simulate the scenario's day only instead of the calendar's "
                        "weekday/weekend mix")
    p.add_argument("--validate", nargs="+", action="append", default=[],
                   metavar=("SCENARIO", "KEY=VALUE"),
                   help="scenario to run with the fitted values and compare (not fitted): "
                        "kpi=..., observed=..., days=..., source=...")
    p.add_argument("--predict", nargs="+", action="append", default=[],
                   metavar=("SCENARIO", "KEY=VALUE"),
                   help="scenario to predict with the fitted values: kpi=..., days=...")
    p.add_argument("-r", "--replications", type=int, default=20)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-j", "--workers", type=positive_int, default=1, metavar="N",
                   help="processes used to draw the replications' demand")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--xtol", type=float, default=1e-3)
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="scenario override (repeatable)")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="folder for calibration.json and calibration.md (default "
                        "results/calibration/<scenario>)")
    p.add_argument("--doc", type=Path, default=None,
                   help="markdown file whose calibrate:<scenario> block is replaced")
    p.set_defaults(func=_cmd_calibrate)


def _param(text: str):  # type: ignore[no-untyped-def]
    from tomakomai_maas.calibrate import Param

    if "=" not in text:
        return Param(text.strip())
    path, rng = text.split("=", 1)
    try:
        lo, hi = (float(x) for x in rng.split(":"))
    except ValueError:
        raise ScenarioError(f"--param {text!r}: bounds must look like LO:HI, e.g. -5:5") from None
    if not lo < hi:
        raise ScenarioError(f"--param {text!r}: lower bound must be below the upper bound")
    return Param(path.strip(), lo, hi)


def _kv(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for it in items:
        if "=" not in it:
            raise ScenarioError(f"{what}: expected KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    bad = set(out) - {"kpi", "observed", "days", "source"}
    if bad:
        raise ScenarioError(f"{what}: unknown key(s) {sorted(bad)}; allowed: kpi, observed, "
                            "days, source")
    return out


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from tomakomai_maas.calibrate import (
        Evaluator,
        Stratum,
        Target,
        fit,
        predict,
        render_markdown,
        update_doc,
    )
    from tomakomai_maas.runner import write_json

    params = [_param(x) for x in args.param]
    if len(args.target) != len(params):
        raise ScenarioError("calibrate: give one --target per --param")
    strata = [Stratum("day", 1.0)] if args.no_day_mix else None
    ev = Evaluator(args.scenario, overrides=args.overrides, strata=strata,
                   replications=args.replications, seed=args.seed, workers=args.workers)
    cal = ev.scenario.service.calendar
    n_days = len(cal.operating_days()) if cal is not None else 1
    targets = []
    for k, t in enumerate(args.target):
        if "=" not in t:
            raise ScenarioError(f"--target {t!r}: expected KPI=OBSERVED, e.g. boardings=1359")
        kpi, obs = t.split("=", 1)
        days = args.days[k] if args.days and k < len(args.days) else n_days
        src = args.source[k] if args.source and k < len(args.source) else ""
        sd = args.observed_sd[k] if args.observed_sd and k < len(args.observed_sd) else None
        targets.append(Target(kpi.strip(), float(obs), float(days), src, observed_sd=sd))
    sens = [float(x) for x in args.sensitivity_days.split(",") if x.strip()]
    res = fit(ev, params, targets, xtol=args.xtol, n_boot=args.bootstrap,
              sensitivity_days=sens)
    fitted = res.params[0]
    for role, specs in (("validation", args.validate), ("prediction", args.predict)):
        for spec in specs:
            kv = _kv(spec[1:], f"--{'validate' if role == 'validation' else 'predict'}")
            pr = predict(spec[0], kv.get("kpi", targets[0].kpi), fitted, res.values,
                         replications=args.replications, workers=args.workers,
                         days=float(kv["days"]) if "days" in kv else None,
                         observed=float(kv["observed"]) if "observed" in kv else None,
                         observed_days=float(kv["days"]) if "days" in kv else None,
                         source=kv.get("source", ""), role=role)
            (res.validations if role == "validation" else res.predictions).append(pr.as_dict())
    name = ev.scenario.name
    out = args.out or Path("results") / "calibration" / name
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "calibration.json", res.as_dict())
    md = render_markdown(res)
    (out / "calibration.md").write_text(md, encoding="utf-8")
    if args.doc is not None:
        update_doc(args.doc, name, md)
    for p in res.params:
        se = p.se_boot if math.isfinite(p.se_boot) else p.se_delta
        sys.stdout.write(f"{p.path} = {p.estimate:.4f} ± {se:.4f} (model {p.model_per_day:.2f}"
                         f"/day vs observed {p.target['per_day']:.2f}/day)\n")
    for pr in [*res.validations, *res.predictions]:
        sys.stdout.write(f"{pr['role']} {Path(pr['scenario']).name}: {pr['kpi']} "
                         f"{pr['per_day']:.1f}/day [{pr['ci'][0]:.1f}, {pr['ci'][1]:.1f}]\n")
    sys.stdout.write(f"wrote {out / 'calibration.json'}\n")
    if not args.quiet:
        sys.stdout.write(json.dumps(res.values) + "\n")
    return 0
