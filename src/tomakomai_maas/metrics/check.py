"""Regression checks of a run's KPIs against a golden, with bands from replication variance.

A **golden** (``tests/golden/<scenario>.json``, made by ``python tools/update_goldens.py``)
stores, per KPI, the mean, the between-replication standard deviation ``s`` and the count
``n`` of a reference run with many replications (30), plus the seed, replications and
``--set`` overrides that made it and the sha256 of its ``summary.json``.

Statistical check (default)
---------------------------
A new run with ``m`` replications passes KPI *k* when::

    |mean_new - mean_gold| <= c * se + floor
    se    = sqrt(s_p^2 / n_gold + s_p^2 / m)                      (variance="pooled", default)
    s_p^2 = ((n_gold - 1) s_gold^2 + (m - 1) s_new^2) / (n_gold + m - 2)
    floor = 1e-9 + 1e-6 * |mean_gold|

This is the band ``z * sqrt(s_gold^2/n_gold + s_new^2/m)`` with the two variances estimated
jointly. Why pooled: when nothing changed, both runs draw replications from the same
distribution, so the pooled variance is unbiased and stable (n_gold + m - 2 = 33 degrees of
freedom), while ``s_new`` of a 5-replication run has 4 degrees of freedom: plugging it in
with a normal ``z`` gives several times the nominal false-alarm rate, and with the honest
Student-t (Welch) quantile the band becomes ~2.5x wider and misses real changes. With
``variance="separate"`` the literal form ``sqrt(s_gold^2/n_gold + s_new^2/m)`` is used with
a Welch–Satterthwaite t quantile. With ``m = 1`` (no ``s_new``) both use ``s_gold``.

``c`` is the Student-t quantile ``t_{df}(1 - a/2)`` with the Šidák per-KPI level
``a = 1 - (1 - alpha)^(1/K)``: ``alpha`` (default 0.01) is the family-wise false-alarm rate
over the ``K`` KPIs whose pooled variance is > 0 (K ≈ 25 → a ≈ 4e-4 → c ≈ 4.0 at 33
degrees of freedom; Bonferroni ``alpha/K`` gives nearly the same). KPIs with zero variance on
both sides (deterministic: vehicle_km, energy of a fixed timetable, ...) must agree to the
``floor`` (1 ppm relative, plus 1e-9 for round-off); they cannot raise false alarms and are
not counted in K. A KPI that is undefined (NaN: e.g. takeovers per 100 km without automated
vehicles) passes if it is undefined on both sides. A KPI the golden has but the run lacks
fails (MISSING), unless the golden itself had it in only some of its replications (ABSENT:
e.g. the revenue of a route nobody rode on some days); a KPI only the run has is reported
as NEW and does not fail.

Detectability: with the default 5 new replications a shift is flagged with ~50% probability
when it equals the band, and almost surely at ~1.5 bands, i.e. at about
``(c + 2) * s * sqrt(1/30 + 1/5) ≈ 2.9 s`` — three between-day standard deviations.
The check prints the band of every KPI, which is the smallest change it reliably notices.

Exact check (``exact=True``, ``--exact``)
-----------------------------------------
For determinism: the run's ``summary.json`` must be byte-identical to the reference (a
``summary.json`` or a golden's stored sha256 when the run used the golden's seed,
replications and overrides); otherwise every differing value is listed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scipy import stats

from tomakomai_maas.errors import TomakomaiError

__all__ = [
    "GOLDEN_FORMAT",
    "KpiCheck",
    "CheckReport",
    "ExactDifference",
    "ExactReport",
    "make_golden",
    "load_golden",
    "write_golden",
    "find_summary",
    "check_summary",
    "check_exact",
    "critical_value",
    "format_report",
    "format_exact",
    "scenario_differences",
]

log = logging.getLogger(__name__)

GOLDEN_FORMAT = "tomakomai-maas golden v1"
_IGNORED_RESOLVED = ("seed", "replications", "output", "source_file")


@dataclass(frozen=True)
class KpiCheck:
    """One KPI's verdict. ``status``: PASS, FAIL, MISSING (golden only), NEW (run only),
    ABSENT (golden only, but the golden had it in only some replications: not a failure)."""

    kpi: str
    status: str
    golden_mean: float | None
    new_mean: float | None
    diff: float | None
    band: float | None
    z: float | None
    critical: float | None
    golden_std: float | None = None
    new_std: float | None = None
    golden_n: int = 0
    new_n: int = 0


@dataclass
class CheckReport:
    """All KPI verdicts of one check."""

    scenario: str
    rows: list[KpiCheck]
    alpha: float
    per_kpi_alpha: float
    n_stochastic: int
    variance: str
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(r.status in ("FAIL", "MISSING") for r in self.rows)

    @property
    def failures(self) -> list[KpiCheck]:
        return [r for r in self.rows if r.status in ("FAIL", "MISSING")]

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "passed": self.passed, "alpha": self.alpha,
                "per_kpi_alpha": self.per_kpi_alpha, "n_stochastic": self.n_stochastic,
                "variance": self.variance, "notes": self.notes,
                "rows": [asdict(r) for r in self.rows]}


# ----------------------------------------------------------------------------- goldens

def make_golden(summary: Mapping[str, Any], *, summary_bytes: bytes | None = None,
                manifest: Mapping[str, Any] | None = None, overrides: Sequence[str] = (),
                scenario_file: str | None = None, check_replications: int = 5,
                root: Path | None = None) -> dict[str, Any]:
    """A golden from a reference run's ``summary.json`` (and ``manifest.json``).

    ``overrides`` and ``scenario_file`` record how to reproduce the run (the golden test reruns
    the scenario with them); ``root`` makes paths in the stored resolved scenario relative.
    """
    kpis = summary.get("kpis", {})
    for k, e in kpis.items():
        if e.get("n", 0) and e.get("n", 0) < 2:
            raise TomakomaiError(f"golden KPI {k} has n={e.get('n')}: a golden needs a run with "
                                 "at least 2 replications (30 recommended)")
    g: dict[str, Any] = {
        "format": GOLDEN_FORMAT,
        "scenario": summary.get("scenario"),
        "title": summary.get("title", ""),
        "scenario_file": scenario_file,
        "overrides": list(overrides),
        "seed": summary.get("seed"),
        "replications": summary.get("replications"),
        "check_replications": int(check_replications),
        "summary_sha256": hashlib.sha256(summary_bytes).hexdigest() if summary_bytes else None,
        "kpis": {k: dict(v) for k, v in sorted(kpis.items())},
    }
    if manifest is not None and "resolved_scenario" in manifest:
        g["resolved_scenario"] = _portable(manifest["resolved_scenario"], root)
    return g


def _portable(x: Any, root: Path | None) -> Any:
    if isinstance(x, dict):
        return {k: _portable(v, root) for k, v in x.items()}
    if isinstance(x, list):
        return [_portable(v, root) for v in x]
    if isinstance(x, str) and root is not None and os.path.isabs(x):
        try:
            return Path(x).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return x
    return x


def load_golden(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a golden (or a plain ``summary.json``, treated as a golden with its KPIs)."""
    p = Path(path)
    if not p.is_file():
        raise TomakomaiError(f"{p}: golden not found (make goldens with: "
                             "python tools/update_goldens.py)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TomakomaiError(f"{p}: not a readable JSON golden: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("kpis"), dict):
        raise TomakomaiError(f"{p}: not a golden or summary.json (no 'kpis' mapping)")
    return data


def write_golden(path: str | os.PathLike[str], golden: Mapping[str, Any]) -> Path:
    """Write a golden deterministically (sorted keys, UTF-8)."""
    from tomakomai_maas.runner import write_json

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_json(p, dict(golden))
    return p


def find_summary(run: str | os.PathLike[str]) -> Path:
    """``summary.json`` of a run folder, a summary path itself, or the newest run in a
    scenario's results folder (``results/<scenario>/``)."""
    p = Path(run)
    if p.is_file():
        return p
    if (p / "summary.json").is_file():
        return p / "summary.json"
    if p.is_dir():
        # newest = last written (run ids need not sort by time: explicit --run-id, "-10")
        runs = sorted((d for d in p.iterdir() if d.is_dir() and not d.name.startswith(".")
                       and (d / "summary.json").is_file()),
                      key=lambda d: ((d / "summary.json").stat().st_mtime_ns, d.name))
        if runs:
            log.info("checking the newest run in %s: %s", p, runs[-1].name)
            return runs[-1] / "summary.json"
    raise TomakomaiError(f"{p}: no summary.json here (give a run folder such as "
                         "results/<scenario>/<run-id>/)")


# ----------------------------------------------------------------------------- statistics

def critical_value(per_kpi_alpha: float, df: float) -> float:
    """Two-sided Student-t quantile ``t_df(1 - a/2)`` (normal when df is infinite)."""
    if not math.isfinite(df) or df > 1e6:
        return float(stats.norm.ppf(1 - per_kpi_alpha / 2))
    return float(stats.t.ppf(1 - per_kpi_alpha / 2, df))


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _se_df(sg: float, ng: int, sn: float | None, m: int, variance: str) -> tuple[float, float]:
    if sn is None or m < 2:  # no spread from the new run: use the golden's for both
        return math.sqrt(sg * sg / ng + sg * sg / m), float(ng - 1)
    if variance == "separate":
        a, b = sg * sg / ng, sn * sn / m
        se = math.sqrt(a + b)
        den = (a * a / (ng - 1) if ng > 1 else 0.0) + b * b / (m - 1)
        return se, ((a + b) ** 2 / den if den > 0 else math.inf)
    sp2 = ((ng - 1) * sg * sg + (m - 1) * sn * sn) / (ng + m - 2)
    return math.sqrt(sp2 * (1.0 / ng + 1.0 / m)), float(ng + m - 2)


def check_summary(summary: Mapping[str, Any], golden: Mapping[str, Any], *,
                  alpha: float = 0.01, variance: str = "pooled",
                  kpis: Sequence[str] | None = None) -> CheckReport:
    """Check a run's summary KPIs against a golden (see the module docstring).

    Args:
        summary: the run's ``summary.json`` content.
        golden: a golden (or another run's summary with ≥ 2 replications).
        alpha: family-wise false-alarm rate over the checked KPIs.
        variance: ``"pooled"`` (default) or ``"separate"`` (Welch).
        kpis: only these KPIs (default: all in either).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if variance not in ("pooled", "separate"):
        raise ValueError(f"variance must be 'pooled' or 'separate', got {variance!r}")
    gk: Mapping[str, Any] = golden.get("kpis", {})
    nk: Mapping[str, Any] = summary.get("kpis", {})
    names = sorted(set(gk) | set(nk)) if kpis is None else list(kpis)
    prepared = []
    for k in names:
        g, s = gk.get(k), nk.get(k)
        if g is None or s is None:
            prepared.append((k, g, s, None))
            continue
        gm, nm = _num(g.get("mean")), _num(s.get("mean"))
        ng, m = int(g.get("n") or 0), int(s.get("n") or 0)
        sg = _num(g.get("std")) or 0.0
        sn = _num(s.get("std"))
        if gm is None or nm is None or ng < 2 or m < 1:
            prepared.append((k, g, s, None))
            continue
        # spreads at round-off level (a deterministic KPI summed in floating point) are 0
        tiny = 1e-9 * (1.0 + abs(gm))
        sg = sg if sg > tiny else 0.0
        sn = None if sn is None else (sn if sn > tiny else 0.0)
        se, df = _se_df(sg, ng, sn, m, variance)
        prepared.append((k, g, s, (gm, nm, ng, m, sg, sn, se, df)))
    n_sto = sum(1 for *_, st in prepared if st is not None and st[6] > 0)
    per = 1.0 - (1.0 - alpha) ** (1.0 / max(n_sto, 1))
    rows = []
    for k, g, s, st in prepared:
        if g is None:
            rows.append(KpiCheck(k, "NEW", None, _num(s.get("mean")), None, None, None, None,
                                 new_std=_num(s.get("std")), new_n=int(s.get("n") or 0)))
            continue
        if s is None:
            # a KPI the reference reported in only some replications (e.g. revenue of a route
            # nobody rode in some of them) may well be absent from a short run
            reps = golden.get("replications")
            conditional = isinstance(reps, int) and int(g.get("n") or 0) < reps
            rows.append(KpiCheck(k, "ABSENT" if conditional else "MISSING",
                                 _num(g.get("mean")), None, None, None, None, None,
                                 golden_std=_num(g.get("std")), golden_n=int(g.get("n") or 0)))
            continue
        if st is None:
            gm, nm = _num(g.get("mean")), _num(s.get("mean"))
            ok = (gm is None) == (nm is None) and (gm is None or abs(gm - nm) <= _floor(gm))
            rows.append(KpiCheck(k, "PASS" if ok else "FAIL", gm, nm,
                                 None if gm is None or nm is None else nm - gm, None, None, None,
                                 _num(g.get("std")), _num(s.get("std")), int(g.get("n") or 0),
                                 int(s.get("n") or 0)))
            continue
        gm, nm, ng, m, sg, sn, se, df = st
        d = nm - gm
        floor = _floor(gm)
        if se > 0:
            c = critical_value(per, df)
            band = c * se + floor
            z = d / se
        else:
            c, band = None, floor
            z = 0.0 if abs(d) <= floor else math.copysign(math.inf, d)
        status = "PASS" if abs(d) <= band else "FAIL"
        rows.append(KpiCheck(k, status, gm, nm, d, band, z, c, sg, sn, ng, m))
    report = CheckReport(str(summary.get("scenario", golden.get("scenario", "?"))), rows,
                         alpha, per, n_sto, variance)
    if golden.get("scenario") and summary.get("scenario") != golden.get("scenario"):
        report.notes.append(f"the run is scenario {summary.get('scenario')!r}, the golden "
                            f"{golden.get('scenario')!r}")
    return report


def _floor(gm: float | None) -> float:
    return 1e-9 + 1e-6 * abs(gm or 0.0)


def scenario_differences(run_resolved: Mapping[str, Any], golden: Mapping[str, Any], *,
                         ignore_new_fields: bool = False) -> list[tuple[str, Any, Any]]:
    """Fields where the run's resolved scenario differs from the golden's (paths compared by
    file name; seed, replications, output and source_file ignored).

    ``ignore_new_fields``: skip fields the golden's scenario does not have at all (a schema
    field added since, with its default).
    """
    from tomakomai_maas.metrics.compare import ABSENT, diff_resolved

    ref = golden.get("resolved_scenario")
    if not isinstance(ref, Mapping):
        return []

    def norm(x: Any) -> Any:
        if isinstance(x, Mapping):
            return {k: norm(v) for k, v in x.items() if k not in _IGNORED_RESOLVED}
        if isinstance(x, list):
            return [norm(v) for v in x]
        if isinstance(x, str) and ("/" in x or os.sep in x) and not x.startswith(
                ("embedded:", "place:")):
            return Path(x).name
        return x

    diffs = diff_resolved(norm(ref), norm(run_resolved))
    if ignore_new_fields:
        diffs = [d for d in diffs if not (isinstance(d[1], str) and d[1] == ABSENT)]
    return diffs


# ----------------------------------------------------------------------------- exact

@dataclass(frozen=True)
class ExactDifference:
    kpi: str
    field: str
    expected: Any
    got: Any


@dataclass
class ExactReport:
    identical: bool
    reference: str
    differences: list[ExactDifference]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.identical


def check_exact(summary_path: str | os.PathLike[str], against: str | os.PathLike[str]
                ) -> ExactReport:
    """Byte-identity of a run's ``summary.json`` with a reference summary or golden."""
    sp = find_summary(summary_path)
    raw = sp.read_bytes()
    summary = json.loads(raw)
    ap = Path(against)
    ref_path = find_summary(ap) if ap.is_dir() else ap
    ref_raw = ref_path.read_bytes()
    ref = load_golden(ref_path)
    notes: list[str] = []
    if ref.get("format") == GOLDEN_FORMAT:
        for key in ("seed", "replications"):
            if ref.get(key) != summary.get(key):
                raise TomakomaiError(
                    f"--exact needs the golden's {key} ({ref.get(key)}), the run has "
                    f"{summary.get(key)}: rerun with --seed {ref.get('seed')} -r "
                    f"{ref.get('replications')}"
                    + "".join(f" --set '{o}'" for o in ref.get("overrides", [])))
        identical = ref.get("summary_sha256") == hashlib.sha256(raw).hexdigest()
    else:
        identical = raw == ref_raw
    diffs: list[ExactDifference] = []
    if not identical:
        for key in ("scenario", "seed", "replications", "replication_seeds", "title"):
            if key in ref and ref.get(key) != summary.get(key):
                diffs.append(ExactDifference("-", key, ref.get(key), summary.get(key)))
        gk, nk = ref.get("kpis", {}), summary.get("kpis", {})
        for k in sorted(set(gk) | set(nk)):
            a, b = gk.get(k), nk.get(k)
            if a is None or b is None:
                diffs.append(ExactDifference(k, "*", "absent" if a is None else "present",
                                             "absent" if b is None else "present"))
                continue
            for f in sorted(set(a) | set(b)):
                if a.get(f) != b.get(f):
                    diffs.append(ExactDifference(k, f, a.get(f), b.get(f)))
        if not diffs:
            notes.append("values are equal but the bytes differ (formatting or key order)")
    return ExactReport(identical, str(ref_path), diffs, notes)


# ----------------------------------------------------------------------------- formatting

def _f(x: float | None, digits: int = 5) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def format_report(report: CheckReport, *, show: str = "all") -> str:
    """A readable table: KPI, golden, new, diff, band, z, status.

    ``show``: ``"all"`` rows, or ``"moved"`` (only FAIL/MISSING/NEW and |z| ≥ 2). Rows are
    sorted by descending |z| so what moved most comes first.
    """
    head = (f"{report.scenario}: {len(report.rows)} KPIs, family-wise false-alarm rate "
            f"{report.alpha:g} (Šidák over {report.n_stochastic} stochastic KPIs: per-KPI "
            f"{report.per_kpi_alpha:.2g}; {report.variance} variance)")
    rows = sorted(report.rows, key=lambda r: (r.status not in ("FAIL", "MISSING"),
                                              -abs(r.z) if r.z is not None else 0.0, r.kpi))
    if show == "moved":
        rows = [r for r in rows if r.status != "PASS" or (r.z is not None and abs(r.z) >= 2)]
    w = max([len("KPI")] + [len(r.kpi) for r in rows])
    lines = [head, f"  {'KPI':<{w}}  {'golden':>11}  {'new':>11}  {'diff':>11}  {'band ±':>10}"
                   f"  {'z':>7}  status"]
    for r in rows:
        lines.append(f"  {r.kpi:<{w}}  {_f(r.golden_mean):>11}  {_f(r.new_mean):>11}  "
                     f"{_f(r.diff, 3):>11}  {_f(r.band, 3):>10}  {_f(r.z, 3):>7}  {r.status}")
    fails = report.failures
    lines.append(("PASS" if report.passed else "FAIL")
                 + f": {len(fails)} of {len(report.rows)} KPIs outside their band"
                 + (f" ({', '.join(r.kpi for r in fails)})" if fails else ""))
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def format_exact(report: ExactReport, *, limit: int = 50) -> str:
    if report.identical:
        return f"IDENTICAL: summary.json is byte-identical to {report.reference}"
    lines = [f"DIFFERENT from {report.reference}: {len(report.differences)} value(s) differ"]
    for d in report.differences[:limit]:
        lines.append(f"  {d.kpi}.{d.field}: expected {d.expected!r}, got {d.got!r}")
    if len(report.differences) > limit:
        lines.append(f"  ... {len(report.differences) - limit} more")
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)
