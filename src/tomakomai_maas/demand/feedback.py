"""Mode choice <-> simulated supply feedback, per replication (the runner's entry point).

``simulate_with_choice(world, seed)`` runs one replication of a World whose demand contains
a :class:`~tomakomai_maas.demand.modechoice.ModeChoiceDemand` (``demand.generated``):

0. draw the trips on the ``demand`` stream (other demand parts - trips CSV, stop rates - are
   drawn from the same generator in the World's order, so the requests equal what
   ``simulate(world, seed)`` would draw), skim their level of service and draw one uniform
   per traveller from the ``choice`` stream (kept for all iterations: common random numbers);
1. choose modes; for ``k = 1 .. maas.choice_iterations``: simulate the day with the chosen
   public-transport and DRT riders (same seed every iteration), measure per first boarding
   (route, stop, hour) the *extra* wait over the planned one - time left behind by full
   vehicles included, ``failure_penalty_min`` added for riders who gave up - and the spread
   of arrival delays, add them to the static skims of every traveller who would board there,
   smooth (method of successive averages: weight ``1/(k+1)`` on the new skims), choose again
   and record the share of travellers who changed mode (among those with a bus, AV bus or
   DRT alternative: nobody else's level of service changes); stop early when that share is
   at most ``maas.convergence_tol``;
2. simulate the final choices with every traveller (walkers walk; car and bike travellers
   are logged as ``skipped`` with their mode, so the trips table lists everyone).

It returns the simulator's tables plus:

``choices``  one row per traveller (and per last-mile trip of a driver to an event with a
    car park), sorted by ``request_id``: :data:`CHOICES_SCHEMA`. ``u_<mode>`` is the
    systematic utility (NaN = mode unavailable), ``p_<mode>`` the final probability,
    ``chosen_mode`` the choice, ``request_mode`` what the simulator got (``pt`` for
    bus/av_bus).
``choice_iterations``  one row per iteration (0 = static skims): :data:`ITERATIONS_SCHEMA`.
``ridership``  boardings/alightings/denied boardings by route, stop and hour of the
    vehicle's arrival: :data:`RIDERSHIP_SCHEMA`.

and the KPIs of :func:`choice_kpis`. No simpy import here (the simulator does it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.demand.choice import MODES, LevelOfService
from tomakomai_maas.demand.modechoice import (
    SIM_MODE,
    Choices,
    ModeChoiceDemand,
    Prepared,
    find_mode_choice,
)
from tomakomai_maas.rng import stream
from tomakomai_maas.world import Request, World

__all__ = [
    "CHOICES_SCHEMA",
    "ITERATIONS_SCHEMA",
    "RIDERSHIP_SCHEMA",
    "ChoiceRun",
    "ReplicationInputs",
    "SimContext",
    "prepare_replication",
    "simulate_with_choice",
    "observed_stats",
    "apply_observed",
    "choice_kpis",
    "ridership_table",
]

log = logging.getLogger(__name__)

_F, _I, _S, _B = "float64", "int64", "str", "bool"

CHOICES_SCHEMA: dict[str, str] = {
    "request_id": _S, "stage": _S, "source": _S, "purpose": _S, "direction": _S,
    "age_band": _S, "home_zone": _S, "o_zone": _S, "d_zone": _S, "event": _S,
    "depart_s": _F, "car_in_household": _B, "licence": _B, "winter": _B,
    **{f"u_{m}": _F for m in MODES}, **{f"p_{m}": _F for m in MODES},
    "chosen_mode": _S, "request_mode": _S,
}
"""Columns of the ``choices`` table (``depart_s``: desired departure, s since midnight)."""

ITERATIONS_SCHEMA: dict[str, str] = {
    "iteration": _I, "travellers": _I, "eligible": _I, "changed": _I, "changed_share": _F,
    "last_mile_trips": _I, "last_mile_changed": _I,
    **{f"share_{m}": _F for m in MODES},
}
"""Columns of the ``choice_iterations`` table (iteration 0: choice on the static skims).

``eligible``: travellers with a bus, autonomous-bus or DRT alternative - the only ones whose
level of service the feedback changes; ``changed``/``changed_share``: how many of them (share
of ``eligible``) changed mode at that iteration; ``share_<mode>``: mode shares of all
travellers after it."""

RIDERSHIP_SCHEMA: dict[str, str] = {
    "route_id": _S, "stop_id": _S, "hour": _I, "boardings": _I, "alightings": _I,
    "denied": _I,
}
"""Columns of the ``ridership`` table (``hour`` of the vehicle's arrival at the stop)."""


class _Holder:
    """``sample_requests`` that returns whatever requests were put in it (one process)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def __call__(self, rng: np.random.Generator) -> list[Request]:
        return list(self.requests)


@dataclass(eq=False)
class SimContext:
    """A World whose demand is replaced by fixed requests, with one planner reused across
    iterations (and calibration evaluations)."""

    world: World
    holder: _Holder
    planner: Any

    @classmethod
    def for_world(cls, world: World) -> SimContext:
        from tomakomai_maas.journey import JourneyPlanner

        holder = _Holder()
        w = replace(world, sample_requests=holder)
        return cls(world=w, holder=holder, planner=JourneyPlanner(w))

    def simulate(self, seed: int, requests: list[Request], *, tables: bool = True) -> Any:
        from tomakomai_maas.sim import simulate

        self.holder.requests = requests
        try:
            return simulate(self.world, seed, planner=self.planner, tables=tables)
        finally:
            self.holder.requests = []


@dataclass(eq=False)
class ReplicationInputs:
    """What one replication draws before any choice (cacheable across choice settings)."""

    seed: int
    prepared: Prepared
    other_requests: list[Request]
    u: np.ndarray


@dataclass(eq=False)
class ChoiceRun:
    """Outcome of :func:`simulate_with_choice`."""

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame]
    result: Any
    choices: Choices
    iterations: pd.DataFrame
    converged: bool
    changed_share: tuple[float, ...] = field(default_factory=tuple)


def prepare_replication(world: World, seed: int, demand: ModeChoiceDemand | None = None
                        ) -> ReplicationInputs:
    """Step 0 of the module docstring for ``world`` and ``seed``."""
    mc = demand if demand is not None else find_mode_choice(world.sample_requests)
    if mc is None:
        raise ValueError("the World has no generated demand with mode choice")
    rng = stream(seed, "demand")
    sr = world.sample_requests
    parts = [sr] if find_mode_choice(sr) is sr else list(getattr(sr, "parts", ()))
    other: list[Request] = []
    prepared: Prepared | None = None
    for part in parts:
        if isinstance(part, ModeChoiceDemand):
            prepared = mc.prepare(rng)
        else:
            other.extend(part(rng))
    assert prepared is not None
    u = mc.uniforms(stream(seed, "choice"), prepared)
    return ReplicationInputs(seed=seed, prepared=prepared, other_requests=other, u=u)


# ----------------------------------------------------------------------------- feedback
def observed_stats(trips: pd.DataFrame, legs: pd.DataFrame, *, failure_penalty_min: float
                   ) -> dict[str, Any]:
    """Extra wait and arrival-delay spread of simulated riders by first boarding, and DRT
    waits by hour (rejected or abandoned DRT bookings count as ``failure_penalty_min``).

    Returns ``{"by_key": {(route, stop, hour): (mean extra wait min, sd delay min)},
    "by_route_hour": {...}, "by_route": {...}, "drt": {hour: mean wait min}, "drt_all":
    mean or NaN}``.
    """
    out: dict[str, Any] = {"by_key": {}, "by_route_hour": {}, "by_route": {}, "drt": {},
                           "drt_all": math.nan}
    if trips is None or not len(trips):
        return out
    pt = trips[trips["request_mode"] == "pt"]
    if len(pt) and legs is not None and len(legs):
        rides = legs[(legs["kind"] == "ride") & legs["request_id"].isin(pt["request_id"])]
        first = rides.sort_values(["request_id", "leg_index"]).drop_duplicates("request_id")
        m = pt.merge(first[["request_id", "route_id", "from_stop", "planned_start_s"]],
                     on="request_id", how="inner")
        if len(m):
            failed = m["status"].isin(["gave_up", "denied"]).to_numpy()
            extra = (m["wait_min"] - m["planned_wait_min"]).to_numpy(float) \
                + np.where(failed, failure_penalty_min, 0.0)
            late = ((m["arrive_s"] - m["planned_arrive_s"]) / 60.0).to_numpy(float)
            late = np.where(np.isfinite(late), late, extra)
            d = pd.DataFrame({"route": m["route_id"].astype(str).to_numpy(),
                              "stop": m["from_stop"].astype(str).to_numpy(),
                              "hour": (m["planned_start_s"].to_numpy(float) // 3600)
                              .astype(np.int64),
                              "extra": extra, "late": late})
            for name, keys in (("by_key", ["route", "stop", "hour"]),
                               ("by_route_hour", ["route", "hour"]), ("by_route", ["route"])):
                g = d.groupby(keys, sort=True)
                stats = pd.DataFrame({"extra": g["extra"].mean(),
                                      "sd": g["late"].std(ddof=0).fillna(0.0)})
                out[name] = {(k if isinstance(k, tuple) else (k,)): (float(r.extra), float(r.sd))
                             for k, r in stats.iterrows()}
    drt = trips[(trips["request_mode"] == "drt") & (trips["status"] != "skipped")]
    if len(drt):
        h = (drt["depart_s"].to_numpy(float) // 3600).astype(np.int64)
        # served riders' waits; a rejected / abandoned booking counts as the failure penalty
        w = np.where(drt["status"].to_numpy() == "served", drt["wait_min"].to_numpy(float),
                     failure_penalty_min)
        w = np.where(np.isfinite(w), w, failure_penalty_min)
        out["drt"] = {int(k): float(w[h == k].mean()) for k in np.unique(h)}
        out["drt_all"] = float(w.mean())
    return out


def apply_observed(prepared: Prepared, stats: dict[str, Any]) -> LevelOfService:
    """The static skims of ``prepared`` with the observed extra waits and spreads added."""
    los = prepared.los
    wait = los.wait_min.copy()
    rel = los.reliability_sd_min.copy()
    for mode, sk in prepared.pt.items():
        j = MODES.index(mode)
        for i in np.flatnonzero(sk.available):
            r, s, h = str(sk.route[i]), str(sk.board_stop[i]), int(sk.board_hour[i])
            v = stats["by_key"].get((r, s, h))
            if v is None:
                v = stats["by_route_hour"].get((r, h))
            if v is None:
                continue
            wait[i, j] = max(0.0, wait[i, j] + v[0])
            rel[i, j] = math.hypot(rel[i, j], v[1])
    if stats["drt"] or math.isfinite(stats["drt_all"]):
        j = MODES.index("drt")
        hours = (prepared.trips["depart_s"].to_numpy(float) // 3600).astype(np.int64)
        for i in np.flatnonzero(los.available[:, j]):
            v = stats["drt"].get(int(hours[i]), stats["drt_all"])
            if math.isfinite(v):
                wait[i, j] = v
    return replace(los, wait_min=wait, reliability_sd_min=rel)


def _shares(ch: np.ndarray) -> np.ndarray:
    c = np.bincount(np.asarray(ch, dtype=np.int64), minlength=len(MODES)).astype(float)
    return c / c.sum() if c.sum() else c


def _iter_row(k: int, ch: Choices, eligible: int, changed: int, last_changed: int
              ) -> dict[str, Any]:
    n = len(ch.main)
    row: dict[str, Any] = {"iteration": k, "travellers": n, "eligible": eligible,
                           "changed": changed,
                           "changed_share": changed / eligible if eligible else 0.0,
                           "last_mile_trips": int((ch.last >= 0).sum()),
                           "last_mile_changed": last_changed}
    for m, s in zip(MODES, _shares(ch.main), strict=True):
        row[f"share_{m}"] = float(s)
    return row


def simulate_with_choice(world: World, seed: int, *, demand: ModeChoiceDemand | None = None,
                         inputs: ReplicationInputs | None = None,
                         context: SimContext | None = None, full: bool = True
                         ) -> ChoiceRun | None:
    """One replication with mode choice and feedback (module docstring); ``None`` when the
    World has no generated demand.

    ``demand`` overrides the World's (e.g. other choice parameters); ``inputs`` and
    ``context`` reuse earlier draws and the planner (calibration); ``full=False`` simulates
    only public-transport/DRT riders at the end (same boardings, no full trips table).
    """
    mc = demand if demand is not None else find_mode_choice(world.sample_requests)
    if mc is None:
        return None
    if world.drt is None and mc.drt is not None:  # DRT only where the World runs one
        mc = replace(mc, drt=None)
    if inputs is None:
        inputs = prepare_replication(world, seed, mc)
    ctx = context if context is not None else SimContext.for_world(world)
    setup = mc.setup
    p = inputs.prepared
    los = p.los
    los_last = p.last.los if p.last is not None else None
    ch = mc.choose(p, los, los_last, inputs.u)
    fb = [MODES.index(m) for m in ("bus", "av_bus", "drt")]
    eligible = p.los.available[:, fb].any(axis=1) if p.n else np.zeros(0, dtype=bool)
    n_elig = int(eligible.sum())
    rows = [_iter_row(0, ch, n_elig, 0, 0)]
    changed: list[float] = []
    converged = False
    for k in range(1, setup.iterations + 1):
        reqs = mc.requests(p, ch, simulated_only=True) + list(inputs.other_requests)
        res = ctx.simulate(seed, sorted(reqs, key=lambda q: (q.depart_s, q.request_id)))
        stats = observed_stats(res.trips, res.legs, failure_penalty_min=setup.failure_penalty_min)
        w = 1.0 / (k + 1) if setup.smoothing == "msa" else 1.0
        los = LevelOfService.blend(los, apply_observed(p, stats), w)
        if p.last is not None and los_last is not None:
            los_last = LevelOfService.blend(los_last, apply_observed(p.last, stats), w)
        new = mc.choose(p, los, los_last, inputs.u)
        n_changed = int((new.main != ch.main).sum())
        last_changed = int(((new.last != ch.last) & ((new.last >= 0) | (ch.last >= 0))).sum())
        share = n_changed / n_elig if n_elig else 0.0
        changed.append(share)
        rows.append(_iter_row(k, new, n_elig, n_changed, last_changed))
        log.info("replication seed %d: choice iteration %d: %.4f of travellers changed mode",
                 seed, k, share)
        ch = new
        if share <= setup.tol:
            converged = True
            break
    reqs = mc.requests(p, ch, simulated_only=not full) + list(inputs.other_requests)
    res = ctx.simulate(seed, sorted(reqs, key=lambda q: (q.depart_s, q.request_id)))
    tables = {k: v for k, v in res.tables.items() if v is not None}
    iters = pd.DataFrame(rows, columns=list(ITERATIONS_SCHEMA)).astype(ITERATIONS_SCHEMA)
    if full:
        tables["choices"] = _choices_table(mc, p, ch, los, los_last)
        tables["ridership"] = ridership_table(tables.get("vehicle_stops"))
    tables["choice_iterations"] = iters
    kpis = choice_kpis(tables, prepared=p, choices=ch, setup_modes=setup.modes,
                       iterations_run=len(changed), converged=converged)
    return ChoiceRun(kpis=kpis, tables=tables, result=res, choices=ch, iterations=iters,
                     converged=converged, changed_share=tuple(changed))


# ----------------------------------------------------------------------------- outputs
def _choice_rows(mc: ModeChoiceDemand, p: Prepared, chosen: np.ndarray, los: LevelOfService,
                 rows: np.ndarray) -> pd.DataFrame:
    df = p.trips.iloc[rows]
    u = mc.utilities(p, los)[rows]
    pr = mc.probabilities(p, los)[rows]
    c = np.asarray(chosen, dtype=np.int64)
    out = pd.DataFrame({
        "request_id": df["trip_id"].to_numpy(), "stage": df["stage"].to_numpy(),
        **{col: df[col].to_numpy() for col in ("source", "purpose", "direction", "age_band",
                                               "home_zone", "o_zone", "d_zone", "event",
                                               "depart_s", "car_in_household", "licence")},
        "winter": np.full(len(rows), p.winter),
        **{f"u_{m}": np.where(np.isfinite(u[:, j]), u[:, j], np.nan)
           for j, m in enumerate(MODES)},
        **{f"p_{m}": pr[:, j] for j, m in enumerate(MODES)},
        "chosen_mode": np.array([MODES[k] for k in c], dtype=object),
        "request_mode": np.array([SIM_MODE[MODES[k]] for k in c], dtype=object),
    })
    return out


def _choices_table(mc: ModeChoiceDemand, p: Prepared, ch: Choices, los: LevelOfService,
                   los_last: LevelOfService | None) -> pd.DataFrame:
    parts = [_choice_rows(mc, p, ch.main, los, np.arange(p.n))]
    if p.last is not None and los_last is not None:
        act = np.flatnonzero(ch.last >= 0)
        if len(act):
            parts.append(_choice_rows(mc, p.last, ch.last[act], los_last, act))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    df = df.reindex(columns=list(CHOICES_SCHEMA)).astype(CHOICES_SCHEMA)
    return df.sort_values("request_id", kind="mergesort").reset_index(drop=True)


def ridership_table(vehicle_stops: pd.DataFrame | None) -> pd.DataFrame:
    """Boardings, alightings and denied boardings by route, stop and hour."""
    if vehicle_stops is None or not len(vehicle_stops):
        return pd.DataFrame(columns=list(RIDERSHIP_SCHEMA)).astype(RIDERSHIP_SCHEMA)
    v = vehicle_stops.assign(hour=(vehicle_stops["arr_s"] // 3600).astype(np.int64))
    g = v.groupby(["route_id", "stop_id", "hour"], sort=True)[
        ["boardings", "alightings", "denied"]].sum().reset_index()
    g = g[(g["boardings"] > 0) | (g["alightings"] > 0) | (g["denied"] > 0)]
    return g.reindex(columns=list(RIDERSHIP_SCHEMA)).astype(RIDERSHIP_SCHEMA) \
        .reset_index(drop=True)


def choice_kpis(tables: dict[str, pd.DataFrame], *, prepared: Prepared | None = None,
                choices: Choices | None = None, setup_modes: Sequence[str] = MODES,
                iterations_run: int = 0, converged: bool = False) -> dict[str, float]:
    """Mode-choice KPIs of one replication (added to :func:`~tomakomai_maas.metrics.kpi.
    summarise`'s when the ``choices`` table exists).

    ==============================  ============================================================
    KPI                             definition
    ==============================  ============================================================
    choice_travellers               generated travellers in the study area (main trips; the
                                    denominator of the mode shares; ``travellers`` of
                                    :func:`~tomakomai_maas.metrics.kpi.summarise` also counts
                                    last-mile trips and other demand)
    mode_share.<mode>               share of travellers choosing ``<mode>`` (every mode of the
                                    choice set, 0 when nobody chose it)
    last_mile_trips                 last-mile trips (drivers to an event with a car park)
    last_mile_share.<mode>          their mode shares (when there are any)
    choice_iterations               feedback iterations run
    choice_changed_share_last       share of travellers with a bus/AV/DRT alternative who
                                    changed mode at the last iteration (NaN without)
    choice_converged                1 if it fell to ``maas.convergence_tol`` (NaN without)
    boardings_av, boardings_bus     boardings on autonomous / human-driven vehicle trips
    trips_generated                 trips drawn before the study-area and snapping filters
    trips_dropped_snap              trips dropped: an end too far from the walk network
    ==============================  ============================================================
    """
    k: dict[str, float] = {}
    main_modes: np.ndarray | None = None
    last_modes: np.ndarray | None = None
    if choices is not None:
        main_modes = np.asarray(MODES, dtype=object)[choices.main]
        last_modes = np.asarray(MODES, dtype=object)[choices.last[choices.last >= 0]]
    elif tables.get("choices") is not None:
        ch = tables["choices"]
        main_modes = ch.loc[ch["stage"] == "main", "chosen_mode"].to_numpy(dtype=object)
        last_modes = ch.loc[ch["stage"] == "last_mile", "chosen_mode"].to_numpy(dtype=object)
    if main_modes is not None:
        n = len(main_modes)
        k["choice_travellers"] = float(n)
        for m in setup_modes:
            k[f"mode_share.{m}"] = float((main_modes == m).sum()) / n if n else math.nan
        if prepared is not None and prepared.last is not None and last_modes is not None:
            nl = len(last_modes)
            k["last_mile_trips"] = float(nl)
            for m in ("walk", "bus", "av_bus", "drt"):
                if m in setup_modes:
                    k[f"last_mile_share.{m}"] = (float((last_modes == m).sum()) / nl if nl
                                                 else math.nan)
    it = tables.get("choice_iterations")
    k["choice_iterations"] = float(iterations_run)
    if it is not None and iterations_run > 0:
        k["choice_changed_share_last"] = float(it["changed_share"].iloc[-1])
        k["choice_converged"] = 1.0 if converged else 0.0
    else:
        k["choice_changed_share_last"] = math.nan
        k["choice_converged"] = math.nan
    vt = tables.get("vehicle_trips")
    if vt is not None and len(vt):
        ran = vt[~vt["cancelled"].astype(bool)]
        av = ran["automation_level"].to_numpy() >= 2
        k["boardings_av"] = float(ran.loc[av, "boardings"].sum())
        k["boardings_bus"] = float(ran.loc[~av, "boardings"].sum())
    else:
        k["boardings_av"] = k["boardings_bus"] = 0.0
    if prepared is not None:
        k["trips_generated"] = float(prepared.n_generated)
        k["trips_dropped_snap"] = float(prepared.n_dropped_snap)
    return k
