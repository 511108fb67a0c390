"""Calibrate mode-choice parameters to observed counts with common random numbers.

The model quantity is the CRN-averaged KPI per operating day: replication ``r`` of every
evaluation uses the same seed (so the same trips and choice uniforms), and the operating
days are represented by *strata* (e.g. weekdays and weekends of the calendar) whose KPIs are
averaged with the strata's day shares. For one parameter the fit solves
``mean_r KPI_r(theta) = observed / days`` with :func:`scipy.optimize.brentq` on a bracket
found by stepping out from the scenario's value; with several parameters (one target each)
it cycles through them (Gauss-Seidel) until no value moves by more than ``xtol``.

Uncertainty (single parameter):

* **delta method** - ``se(theta) = sqrt(sd_r(KPI_r(theta_hat))^2 / R + sd_obs^2) / |slope|``
  with the slope from a central CRN difference around ``theta_hat`` and ``sd_obs`` the
  standard error of the observed count per day (:attr:`Target.per_day_sd`: Poisson unless
  given) - the observed total is itself one noisy draw;
* **bootstrap** - the per-replication KPI is evaluated on a grid of parameter values around
  ``theta_hat``; replications are resampled with replacement, the observed count is redrawn
  from its sampling distribution (normal, ``sd_obs``), and the root of the resampled mean
  curve is found by linear interpolation; the percentile interval of those roots is
  reported.

Only ``maas.*`` parameters are fast to evaluate (they act after trip generation, so the trips
and skims of each replication are drawn once and reused); other scenario fields are
supported by rebuilding the World at every evaluation.

:func:`predict` runs another scenario with the fitted values and returns the KPI per
operating day with a 95% CI combining simulation noise and calibration uncertainty
(``var = s^2 / R + slope^2 se(theta)^2``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from tomakomai_maas.errors import ScenarioError

__all__ = [
    "Param",
    "Target",
    "Stratum",
    "calendar_strata",
    "with_values",
    "Evaluator",
    "ParamFit",
    "FitResult",
    "fit",
    "Prediction",
    "predict",
    "render_markdown",
    "update_doc",
]

log = logging.getLogger(__name__)

_WEEKEND_DAY_TYPE = "saturday"


@dataclass(frozen=True)
class Param:
    """A scenario field to fit, e.g. ``maas.av_constant``, optionally bounded."""

    path: str
    lower: float = -math.inf
    upper: float = math.inf
    step: float = 1.0


@dataclass(frozen=True)
class Target:
    """An observed total ``observed`` of KPI ``kpi`` over ``days`` operating days.

    ``observed_sd``: standard error of the observed total; default ``sqrt(observed)``, i.e.
    the total treated as a Poisson count (day-to-day overdispersion is not known).
    """

    kpi: str
    observed: float
    days: float = 1.0
    source: str = ""
    label: str = ""
    observed_sd: float | None = None

    @property
    def per_day(self) -> float:
        return self.observed / self.days

    @property
    def per_day_sd(self) -> float:
        sd = self.observed_sd if self.observed_sd is not None else math.sqrt(
            max(self.observed, 0.0))
        return float(sd) / self.days


@dataclass(frozen=True)
class Stratum:
    """A kind of operating day: its share of the days and the overrides that simulate it."""

    label: str
    weight: float
    overrides: tuple[str, ...] = ()


def calendar_strata(sc: Any) -> list[Stratum]:
    """Weekday and weekend strata from the scenario's operating calendar.

    Mon-Fri days are simulated with ``service.day_type=weekday`` on the first such operating
    date, Sat/Sun days with ``service.day_type=saturday`` (weekend trip rates) on the first
    such date. National holidays are not known to the model and count by their weekday.
    Without a calendar: one stratum, the scenario as it is.
    """
    cal = sc.service.calendar
    if cal is None:
        return [Stratum("day", 1.0)]
    days = cal.operating_days()
    if not days:
        raise ScenarioError(f"{sc.label}: service.calendar has no operating "
                            "days")
    from tomakomai_maas.metrics.annual import day_stratum  # the one weekday/weekend rule

    wd = [d for d in days if day_stratum(d) == "weekday"]
    we = [d for d in days if day_stratum(d) == "weekend"]
    out = []
    if wd:
        out.append(Stratum("weekday", len(wd) / len(days),
                           ("service.day_type=weekday", f"service.date={wd[0].isoformat()}")))
    if we:
        out.append(Stratum("weekend", len(we) / len(days),
                           (f"service.day_type={_WEEKEND_DAY_TYPE}",
                            f"service.date={we[0].isoformat()}")))
    return out


def with_values(sc: Any, values: Mapping[str, float]) -> Any:
    """The scenario with ``path=value`` overrides applied (validated again)."""
    from tomakomai_maas.scenario.load import apply_overrides, scenario_from_dict

    if not values:
        return sc
    data = sc.model_dump(mode="json")
    data = apply_overrides(data, [f"{k}={float(v)!r}" for k, v in values.items()],
                           source=sc.label)
    return scenario_from_dict(data, source=sc.source_file, label=sc.label)


class Evaluator:
    """CRN evaluations of a scenario's KPIs per operating day as parameters change.

    ``evaluate(values)`` returns ``{kpi: float[R]}``: for each replication the day-share
    weighted mean over the strata. Results are cached by ``values``.
    """

    def __init__(self, path: str | Path, *, overrides: Sequence[str] = (),
                 strata: Sequence[Stratum] | None = None, replications: int = 10,
                 seed: int | None = None, workers: int = 1) -> None:
        from tomakomai_maas.demand.feedback import SimContext, prepare_replication
        from tomakomai_maas.demand.modechoice import find_mode_choice
        from tomakomai_maas.rng import replication_seed
        from tomakomai_maas.scenario.build import build
        from tomakomai_maas.scenario.load import load_scenario

        self.path = Path(path)
        self.overrides = tuple(overrides)
        base = load_scenario(self.path, self.overrides)
        self.scenario = base
        self.strata = list(strata) if strata is not None else calendar_strata(base)
        wsum = sum(s.weight for s in self.strata)
        if not self.strata or wsum <= 0:
            raise ScenarioError("calibrate: need at least one stratum with a positive weight")
        self.weights = np.array([s.weight / wsum for s in self.strata])
        self.replications = int(replications)
        s0 = int(seed if seed is not None else base.seed)
        self.seeds = [replication_seed(s0, i) for i in range(self.replications)]
        self.n_evals = 0
        self._cache: dict[tuple[tuple[str, float], ...], dict[str, np.ndarray]] = {}
        self._sc, self._world, self._mc, self._ctx, self._inputs = [], [], [], [], []
        for st in self.strata:
            sc = load_scenario(self.path, (*self.overrides, *st.overrides))
            world = build(sc)
            mc = find_mode_choice(world.sample_requests)
            if mc is None:
                raise ScenarioError(f"{self.path}: calibrate needs generated demand with mode "
                                    "choice (demand.generated)")
            self._sc.append(sc)
            self._world.append(world)
            self._mc.append(mc)
            self._ctx.append(SimContext.for_world(world))
            self._inputs.append(_prepare_all(world, self.seeds, workers, prepare_replication))
            log.info("calibrate: stratum %s (weight %.3f) prepared %d replications", st.label,
                     st.weight / wsum, len(self.seeds))

    def reseeded(self, seed: int, replications: int | None = None) -> Evaluator:
        """The same scenario and strata with other replication seeds (worlds reused)."""
        from tomakomai_maas.demand.feedback import prepare_replication
        from tomakomai_maas.rng import replication_seed

        other = object.__new__(Evaluator)
        other.__dict__.update(self.__dict__)
        other.replications = int(replications or self.replications)
        other.seeds = [replication_seed(int(seed), i) for i in range(other.replications)]
        other.n_evals = 0
        other._cache = {}
        other._inputs = [[prepare_replication(w, s, mc) for s in other.seeds]
                         for w, mc in zip(self._world, self._mc, strict=True)]
        return other

    def evaluate(self, values: Mapping[str, float]) -> dict[str, np.ndarray]:
        """``{kpi: per-replication values}`` at these parameter values."""
        from tomakomai_maas.demand.feedback import SimContext, prepare_replication
        from tomakomai_maas.demand.modechoice import ChoiceSetup, find_mode_choice
        from tomakomai_maas.metrics.kpi import summarise
        from tomakomai_maas.scenario.build import build

        key = tuple(sorted((k, round(float(v), 12)) for k, v in values.items()))
        if key in self._cache:
            return self._cache[key]
        fast = all(k.startswith("maas.") for k in values)
        per: list[list[dict[str, float]]] = []
        for si in range(len(self.strata)):
            sc = with_values(self._sc[si], values)
            if fast:
                world, ctx, inputs = self._world[si], self._ctx[si], self._inputs[si]
                mc = self._mc[si].with_setup(ChoiceSetup.from_config(sc.maas))
            else:
                world = build(sc)
                mc = find_mode_choice(world.sample_requests)
                ctx = SimContext.for_world(world)
                inputs = [prepare_replication(world, s, mc) for s in self.seeds]
            rows = []
            for inp in inputs:
                run = simulate_with_choice_fast(world, inp, mc, ctx)
                k = summarise(run.tables, world)
                k.update(run.kpis)
                rows.append(k)
            per.append(rows)
        names = sorted({k for rows in per for r in rows for k in r})
        out = {}
        for nm in names:
            m = np.array([[r.get(nm, math.nan) for r in rows] for rows in per], dtype=float)
            out[nm] = (self.weights[:, None] * m).sum(axis=0)
        self.n_evals += 1
        self._cache[key] = out
        return out

    def mean(self, kpi: str, values: Mapping[str, float]) -> float:
        v = self.evaluate(values)
        if kpi not in v:
            raise ScenarioError(f"calibrate: KPI {kpi!r} not produced; available: "
                                f"{', '.join(sorted(v))}")
        return float(np.mean(v[kpi]))


def simulate_with_choice_fast(world: Any, inputs: Any, mc: Any, ctx: Any) -> Any:
    """One replication for calibration: cached draws, PT/DRT riders only at the end."""
    from tomakomai_maas.demand.feedback import simulate_with_choice

    return simulate_with_choice(world, inputs.seed, demand=mc, inputs=inputs, context=ctx,
                                full=False)


_WORKER_WORLD: Any = None


def _init_worker(world: Any) -> None:  # pragma: no cover - runs in worker processes
    global _WORKER_WORLD
    _WORKER_WORLD = world


def _prepare_in_worker(seed: int) -> Any:  # pragma: no cover - runs in worker processes
    from tomakomai_maas.demand.feedback import prepare_replication

    return prepare_replication(_WORKER_WORLD, seed)


def _prepare_all(world: Any, seeds: Sequence[int], workers: int,
                 prepare: Callable[..., Any]) -> list[Any]:
    if workers <= 1 or len(seeds) <= 1:
        return [prepare(world, s) for s in seeds]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(seeds)), initializer=_init_worker,
                             initargs=(world,)) as pool:
        return list(pool.map(_prepare_in_worker, seeds))


# ----------------------------------------------------------------------------- fitting
@dataclass
class ParamFit:
    """Fitted value of one parameter with its uncertainty and diagnostics."""

    path: str
    target: dict[str, Any]
    estimate: float
    se_delta: float
    ci_delta: tuple[float, float]
    slope_per_unit: float
    model_per_day: float
    model_per_day_sd: float
    residual_per_day: float
    bracket: tuple[float, float]
    root_converged: bool
    se_boot: float = math.nan
    ci_boot: tuple[float, float] = (math.nan, math.nan)
    boot_outside_grid: float = math.nan
    per_replication: list[float] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    grid_mean: list[float] = field(default_factory=list)


@dataclass
class FitResult:
    """Everything a calibration run found (see :meth:`as_dict` for the JSON form)."""

    scenario: str
    params: list[ParamFit]
    values: dict[str, float]
    strata: list[dict[str, Any]]
    replications: int
    seeds: list[int]
    evaluations: int
    cycles: int
    converged: bool
    wall_time_s: float
    sensitivity: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bracket(fun: Callable[[float], float], x0: float, p: Param, max_steps: int = 12
             ) -> tuple[float, float]:
    """An interval around a sign change of ``fun``, stepping out from ``x0`` (doubling)."""
    lo_b, hi_b = p.lower, p.upper
    x0 = min(max(x0, lo_b), hi_b)
    f0 = fun(x0)
    if f0 == 0:
        return x0, x0
    x1 = min(max(x0 + p.step, lo_b), hi_b)
    if x1 == x0:
        x1 = max(x0 - p.step, lo_b)
    f1 = fun(x1)
    if f0 * f1 <= 0:
        return (min(x0, x1), max(x0, x1))
    # step towards smaller |f|
    step = (x1 - x0) if abs(f1) < abs(f0) else (x0 - x1)
    a, fa = (x1, f1) if abs(f1) < abs(f0) else (x0, f0)
    for _ in range(max_steps):
        step *= 2.0
        b = min(max(a + step, lo_b), hi_b)
        if b == a:
            break
        fb = fun(b)
        if fa * fb <= 0:
            return (a, b) if a < b else (b, a)
        a, fa = b, fb
    raise ScenarioError(f"calibrate: cannot bracket a solution for {p.path} (last value "
                        f"{a:g}: model - observed = {fa:g} per day); check the target, the KPI "
                        f"and the bounds")


def _solve(fun: Callable[[float], float], x0: float, p: Param, xtol: float
           ) -> tuple[float, tuple[float, float], bool]:
    a, b = _bracket(fun, x0, p)
    if a == b:
        return a, (a, b), True
    root, res = optimize.brentq(fun, a, b, xtol=xtol, full_output=True, disp=False)
    return float(root), (a, b), bool(res.converged)


def _boot_roots(grid: np.ndarray, per_rep: np.ndarray, target: float, n_boot: int,
                rng: np.random.Generator, target_sd: float = 0.0) -> np.ndarray:
    """Roots of resampled mean curves (``per_rep``: [grid, R]) against a target redrawn with
    ``target_sd``; NaN when off the grid."""
    R = per_rep.shape[1]
    idx = rng.integers(0, R, size=(n_boot, R))
    tgt = target + target_sd * rng.standard_normal(n_boot)
    curves = per_rep[:, idx].mean(axis=2).T - tgt[:, None]  # [n_boot, grid]
    roots = np.full(n_boot, np.nan)
    for b in range(n_boot):
        c = curves[b]
        sign = np.flatnonzero(np.diff(np.sign(c)) != 0)
        if len(sign):
            k = int(sign[0])
            c0, c1 = c[k], c[k + 1]
            roots[b] = grid[k] + (grid[k + 1] - grid[k]) * (-c0 / (c1 - c0) if c1 != c0
                                                             else 0.5)
        elif c[0] == 0:
            roots[b] = grid[0]
    return roots


def fit(ev: Evaluator, params: Sequence[Param], targets: Sequence[Target], *,
        start: Mapping[str, float] | None = None, xtol: float = 1e-3, max_cycles: int = 6,
        slope_h: float = 0.2, n_boot: int = 2000, grid_points: int = 11,
        sensitivity_days: Sequence[float] = (), seed: int = 0) -> FitResult:
    """Fit ``params[i]`` so that ``targets[i]`` matches (module docstring)."""
    if len(params) != len(targets) or not params:
        raise ScenarioError("calibrate: give one --target per --param")
    t0 = time.perf_counter()
    values = {p.path: float(_current(ev.scenario, p.path) if start is None or p.path not in start
                            else start[p.path]) for p in params}
    brackets: dict[str, tuple[float, float]] = {}
    conv: dict[str, bool] = {}
    cycles = 0
    converged = False
    for cycles in range(1, max_cycles + 1):  # noqa: B007
        moved = 0.0
        for p, tg in zip(params, targets, strict=True):
            def fun(x: float, p: Param = p, tg: Target = tg) -> float:
                return ev.mean(tg.kpi, {**values, p.path: x}) - tg.per_day
            x, br, ok = _solve(fun, values[p.path], p, xtol)
            moved = max(moved, abs(x - values[p.path]))
            values[p.path] = x
            brackets[p.path], conv[p.path] = br, ok
        log.info("calibrate cycle %d: %s", cycles,
                 ", ".join(f"{k}={v:.4f}" for k, v in values.items()))
        if len(params) == 1 or moved <= xtol:
            converged = all(conv.values())
            break
    fits = []
    for p, tg in zip(params, targets, strict=True):
        fits.append(_diagnose(ev, p, tg, values, brackets[p.path], conv[p.path], slope_h,
                              n_boot=n_boot if len(params) == 1 else 0,
                              grid_points=grid_points, seed=seed))
    sens = []
    if sensitivity_days and len(params) == 1:
        p, tg = params[0], targets[0]
        for d in sensitivity_days:
            tg_d = Target(tg.kpi, tg.observed, float(d), tg.source)

            def fun_d(x: float, tg_d: Target = tg_d) -> float:
                return ev.mean(tg_d.kpi, {**values, p.path: x}) - tg_d.per_day
            x, _, ok = _solve(fun_d, values[p.path], p, xtol)
            sens.append({"days": float(d), "target_per_day": tg_d.per_day, "estimate": x,
                         "converged": ok})
    return FitResult(
        scenario=str(ev.path), params=fits, values=dict(values),
        strata=[{"label": s.label, "weight": float(w), "overrides": list(s.overrides)}
                for s, w in zip(ev.strata, ev.weights, strict=True)],
        replications=ev.replications, seeds=list(ev.seeds), evaluations=ev.n_evals,
        cycles=cycles, converged=converged, wall_time_s=round(time.perf_counter() - t0, 2),
        sensitivity=sens)


def _current(sc: Any, path: str) -> float:
    node: Any = sc
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else getattr(node, part, None)
        if node is None:
            return 0.0
    return float(node)


def _diagnose(ev: Evaluator, p: Param, tg: Target, values: dict[str, float],
              bracket: tuple[float, float], ok: bool, h: float, *, n_boot: int,
              grid_points: int, seed: int) -> ParamFit:
    th = values[p.path]
    at = ev.evaluate(values)[tg.kpi]
    R = len(at)
    sd = float(np.std(at, ddof=1)) if R > 1 else math.nan
    lo = max(th - h, p.lower)
    hi = min(th + h, p.upper)
    slope = (ev.mean(tg.kpi, {**values, p.path: hi}) - ev.mean(tg.kpi, {**values, p.path: lo})) \
        / (hi - lo) if hi > lo else math.nan
    sd_obs = tg.per_day_sd
    se = math.sqrt(sd * sd / R + sd_obs * sd_obs) / abs(slope) \
        if slope and math.isfinite(slope) and R > 1 else math.nan
    tq = float(stats.norm.ppf(0.975)) if R > 1 else math.nan
    out = ParamFit(
        path=p.path, target={**asdict(tg), "per_day": tg.per_day, "per_day_sd": sd_obs},
        estimate=th, se_delta=se,
        ci_delta=(th - tq * se, th + tq * se), slope_per_unit=float(slope),
        model_per_day=float(np.mean(at)), model_per_day_sd=sd,
        residual_per_day=float(np.mean(at) - tg.per_day), bracket=bracket, root_converged=ok,
        per_replication=[float(x) for x in at])
    if n_boot > 0 and math.isfinite(se) and R > 1:
        width = max(4.0 * se, 2 * h)
        grid = np.linspace(max(th - width, p.lower), min(th + width, p.upper), grid_points)
        curves = np.array([ev.evaluate({**values, p.path: float(x)})[tg.kpi] for x in grid])
        roots = _boot_roots(grid, curves, tg.per_day, n_boot, np.random.default_rng(seed),
                            target_sd=sd_obs)
        good = roots[np.isfinite(roots)]
        out.grid = [float(x) for x in grid]
        out.grid_mean = [float(x) for x in curves.mean(axis=1)]
        out.boot_outside_grid = float(1.0 - len(good) / n_boot)
        if len(good) > 10:
            out.se_boot = float(np.std(good, ddof=1))
            out.ci_boot = (float(np.percentile(good, 2.5)), float(np.percentile(good, 97.5)))
    return out


# ----------------------------------------------------------------------------- prediction
@dataclass
class Prediction:
    """A KPI per operating day of another scenario with the fitted values."""

    scenario: str
    kpi: str
    days: float
    per_day: float
    per_day_sd: float
    sim_se: float
    calib_se: float
    ci: tuple[float, float]
    ci_calibration_only: tuple[float, float]
    total: float
    total_ci: tuple[float, float]
    slope_per_unit: float
    strata: list[dict[str, Any]]
    observed: float | None = None
    observed_days: float | None = None
    source: str = ""
    role: str = "prediction"
    per_replication: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def predict(path: str | Path, kpi: str, fitted: ParamFit, values: Mapping[str, float], *,
            overrides: Sequence[str] = (), replications: int = 10, seed: int | None = None,
            days: float | None = None, observed: float | None = None,
            observed_days: float | None = None, source: str = "", role: str = "prediction",
            workers: int = 1, h: float | None = None,
            evaluator: Evaluator | None = None) -> Prediction:
    """``kpi`` per operating day of scenario ``path`` at the fitted ``values`` with a CI that
    includes the calibration uncertainty of ``fitted`` (delta method; the calibration-only
    interval evaluates the model at the ends of the parameter's CI). ``evaluator`` reuses
    prepared replications of the scenario (then ``path``/``overrides``/... are ignored)."""
    ev = evaluator if evaluator is not None else Evaluator(
        path, overrides=overrides, replications=replications, seed=seed, workers=workers)
    vals = dict(values)
    at = ev.evaluate(vals)[kpi]
    R = len(at)
    mean = float(np.mean(at))
    sd = float(np.std(at, ddof=1)) if R > 1 else math.nan
    se_th = fitted.se_boot if math.isfinite(fitted.se_boot) else fitted.se_delta
    ci_th = fitted.ci_boot if all(math.isfinite(x) for x in fitted.ci_boot) else fitted.ci_delta
    step = h if h is not None else (se_th if math.isfinite(se_th) and se_th > 0 else 0.1)
    th = vals[fitted.path]
    up = ev.mean(kpi, {**vals, fitted.path: th + step})
    dn = ev.mean(kpi, {**vals, fitted.path: th - step})
    slope = (up - dn) / (2 * step)
    sim_se = sd / math.sqrt(R) if R > 1 else math.nan
    calib_se = abs(slope) * se_th if math.isfinite(se_th) else 0.0
    tot = math.hypot(sim_se, calib_se)
    ci = (mean - 1.96 * tot, mean + 1.96 * tot)
    lo_v = ev.mean(kpi, {**vals, fitted.path: ci_th[0]})
    hi_v = ev.mean(kpi, {**vals, fitted.path: ci_th[1]})
    n_days = float(days if days is not None else _operating_days(ev.scenario))
    return Prediction(
        scenario=str(path), kpi=kpi, days=n_days, per_day=mean, per_day_sd=sd, sim_se=sim_se,
        calib_se=calib_se, ci=ci, ci_calibration_only=(min(lo_v, hi_v), max(lo_v, hi_v)),
        total=mean * n_days, total_ci=(ci[0] * n_days, ci[1] * n_days), slope_per_unit=slope,
        strata=[{"label": s.label, "weight": float(w), "overrides": list(s.overrides)}
                for s, w in zip(ev.strata, ev.weights, strict=True)],
        observed=observed, observed_days=observed_days, source=source, role=role,
        per_replication=[float(x) for x in at])


def _operating_days(sc: Any) -> int:
    cal = sc.service.calendar
    return len(cal.operating_days()) if cal is not None else 1


# ----------------------------------------------------------------------------- reporting
def _fmt(x: float | None, nd: int = 1) -> str:
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return "–"
    return f"{x:,.{nd}f}"


def render_markdown(res: FitResult, *, title: str | None = None) -> str:
    """The calibration report block: parameters, simulated vs observed, diagnostics."""
    name = Path(res.scenario).stem
    lines = [f"### {title or 'Calibration of ' + name}", ""]
    lines += ["| parameter | estimate | SE (delta) | 95% CI (delta) | SE (bootstrap) | "
              "95% CI (bootstrap) | d(model/day)/d(param) |",
              "|---|---|---|---|---|---|---|"]
    for p in res.params:
        lines.append(f"| `{p.path}` | {p.estimate:.3f} | {_fmt(p.se_delta, 3)} | "
                     f"[{_fmt(p.ci_delta[0], 3)}, {_fmt(p.ci_delta[1], 3)}] | "
                     f"{_fmt(p.se_boot, 3)} | [{_fmt(p.ci_boot[0], 3)}, {_fmt(p.ci_boot[1], 3)}]"
                     f" | {_fmt(p.slope_per_unit, 2)} |")
    lines += ["", "| quantity | role | observed | model (95% CI) | source |",
              "|---|---|---|---|---|"]
    for p in res.params:
        t = p.target
        R = len(p.per_replication)
        h = (float(stats.t.ppf(0.975, R - 1)) * p.model_per_day_sd / math.sqrt(R)
             if R > 1 else math.nan)
        d = t["days"]
        what = t.get("label") or f"{name}: {t['kpi']} over {d:g} operating days"
        lines.append(f"| {what} | calibration target | {_fmt(t['observed'], 0)} | "
                     f"{_fmt(p.model_per_day * d, 0)} [{_fmt((p.model_per_day - h) * d, 0)}, "
                     f"{_fmt((p.model_per_day + h) * d, 0)}] (simulation noise only) | "
                     f"{t.get('source', '')} |")
        lines.append(f"| … per operating day | calibration target | {_fmt(t['per_day'])} | "
                     f"{_fmt(p.model_per_day)} [{_fmt(p.model_per_day - h)}, "
                     f"{_fmt(p.model_per_day + h)}] | {t.get('source', '')} |")
    for pr in [*res.validations, *res.predictions]:
        nm = Path(pr["scenario"]).stem
        obs = (_fmt(pr["observed"], 0) + (f" over {pr['observed_days']:g} days"
                                          if pr.get("observed_days") else "")
               if pr.get("observed") is not None else "NOT FOUND")
        od = pr.get("observed_days") or pr["days"]
        lines.append(f"| {nm}: {pr['kpi']} over {od:g} days | {pr['role']} (not fitted) | "
                     f"{obs} | {_fmt(pr['per_day'] * od, 0)} [{_fmt(pr['ci'][0] * od, 0)}, "
                     f"{_fmt(pr['ci'][1] * od, 0)}] | {pr.get('source', '')} |")
        lines.append(f"| … per operating day | {pr['role']} (not fitted) | "
                     f"{_fmt(pr['observed'] / od) if pr.get('observed') is not None else '–'}"
                     f" | {_fmt(pr['per_day'])} [{_fmt(pr['ci'][0])}, {_fmt(pr['ci'][1])}]; "
                     f"calibration alone [{_fmt(pr['ci_calibration_only'][0])}, "
                     f"{_fmt(pr['ci_calibration_only'][1])}] | {pr.get('source', '')} |")
    if res.sensitivity:
        p0 = res.params[0]
        lines += ["", f"Sensitivity of `{p0.path}` to the number of operating days:", "",
                  "| operating days | target per day | estimate |", "|---|---|---|"]
        for s in res.sensitivity:
            lines.append(f"| {s['days']:g} | {s['target_per_day']:.2f} | {s['estimate']:.3f} |")
    lines += ["", "Diagnostics: " + "; ".join([
        f"{res.replications} replications (seeds {res.seeds[0]}–{res.seeds[-1]}), common "
        "random numbers",
        "strata " + ", ".join(f"{s['label']} {s['weight']:.3f}" for s in res.strata),
        f"{res.evaluations} CRN evaluations, {res.cycles} cycle(s), converged: "
        f"{res.converged}",
        *[f"`{p.path}`: bracket [{p.bracket[0]:.3f}, {p.bracket[1]:.3f}], brentq converged "
          f"{p.root_converged}, residual {p.residual_per_day:+.2f}/day, observed s.e. "
          f"{_fmt(p.target.get('per_day_sd'), 2)}/day, per-replication sd "
          f"{_fmt(p.model_per_day_sd, 2)}/day, bootstrap roots off the grid "
          f"{_fmt(100 * p.boot_outside_grid, 1)} %" for p in res.params],
        f"wall time {res.wall_time_s:.0f} s"]) + ".", ""]
    return "\n".join(lines)


def update_doc(doc: Path, key: str, block: str) -> None:
    """Replace (or append) the block between ``<!-- calibrate:KEY:begin/end -->`` markers."""
    begin, end = f"<!-- calibrate:{key}:begin -->", f"<!-- calibrate:{key}:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    new = f"{begin}\n{block.rstrip()}\n{end}"
    if begin in text and end in text:
        i, j = text.index(begin), text.index(end) + len(end)
        text = text[:i] + new + text[j:]
    else:
        text = text.rstrip() + ("\n\n" if text else "") + new + "\n"
    doc.write_text(text, encoding="utf-8")
