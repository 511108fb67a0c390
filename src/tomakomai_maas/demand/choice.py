"""Mode choice: a vectorised multinomial logit with MaaS levers (pure numpy, no simpy).

For trip ``i`` and mode ``m`` (columns in :attr:`LevelOfService.modes`, default :data:`MODES`):

.. code-block:: text

    GC[i,m] = ivt_weight[m] * ivt_min
            + walk_weight * W * walk_min
            + wait_weight * W' * RTI[m] * wait_min
            + transfer_penalty_min * (1 - transfer_penalty_reduction) * transfers
            + fare_eff[i,m] / value_of_time_yen_per_min
            + reliability_weight * reliability_sd_min
            + schedule_delay_weight * schedule_delay_min               (generalised minutes)
    V[i,m]  = asc[m] + (winter_asc[m] if winter) + (av_novelty_utility if m == "av_bus")
            + beta_gc_per_min * GC[i,m]
    P[i,m]  = exp(V[i,m]) / sum over available modes of exp(V[i,k]);  unavailable -> 0

``W``/``W'`` are the winter walk/wait factors (1 outside winter), ``RTI[m]`` the perceived-
wait multiplier of real-time information for the MaaS modes, and ``fare_eff`` the fare after
the integrated-ticket discount (MaaS modes) and the free-fare flag (``free_fare_modes``).

Directions the tests pin: a lower fare, shorter wait, real-time information, a transfer
penalty reduction or an AV novelty constant raise that mode's share; winter lowers walk and
bike shares (heavier walk/wait weights and negative winter constants) and raises car shares.

All coefficient defaults are **assumed** (orders of magnitude, not estimated for Tomakomai:
no person-trip survey covers the city, facts §4). Calibrate ASCs to observed ridership
(facts §2.2) before drawing conclusions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tomakomai_maas.errors import ScenarioError

__all__ = [
    "MODES",
    "PT_MODES",
    "LOS_FIELDS",
    "LevelOfService",
    "ChoiceParams",
    "MaasLevers",
    "apply_car_availability",
    "utilities",
    "softmax",
    "probabilities",
    "choose",
    "choose_with_uniforms",
    "mode_shares",
    "ChoiceIteration",
    "iterate_choice",
]

log = logging.getLogger(__name__)

MODES = ("walk", "bike", "car_driver", "car_passenger", "bus", "av_bus", "drt")
"""Known modes (default column order). ``bike`` is optional: mark it unavailable to drop it."""

PT_MODES = ("bus", "av_bus", "drt")
"""Public-transport modes, the default scope of the MaaS levers."""

LOS_FIELDS = ("walk_min", "wait_min", "ivt_min", "transfers", "fare_yen", "reliability_sd_min",
              "schedule_delay_min")
"""Level-of-service fields, each ``float[n_trips, n_modes]`` (see :class:`LevelOfService`)."""


@dataclass(frozen=True, eq=False)
class LevelOfService:
    """Level of service per trip and mode (arrays ``[n_trips, n_modes]``).

    ``walk_min``: walking (access + egress + transfer walks; walk mode: the whole trip);
    ``wait_min``: waiting (first wait + transfer waits; DRT: pickup wait); ``ivt_min``: time
    moving in a vehicle (bike: riding); ``transfers``: number of transfers; ``fare_yen``:
    out-of-pocket cost (fares; car: fuel + parking as the caller chooses);
    ``reliability_sd_min``: standard deviation of the door-to-door time;
    ``schedule_delay_min``: the part of a timetable gap a rider who knows the timetable spends
    elsewhere rather than at the stop (infrequent lines); ``available``: whether the mode can
    be chosen. Values of unavailable entries are ignored (set to 0).
    """

    walk_min: np.ndarray
    wait_min: np.ndarray
    ivt_min: np.ndarray
    transfers: np.ndarray
    fare_yen: np.ndarray
    reliability_sd_min: np.ndarray
    schedule_delay_min: np.ndarray
    available: np.ndarray
    modes: tuple[str, ...] = MODES

    def __post_init__(self) -> None:
        unknown = [m for m in self.modes if m not in MODES]
        if unknown or len(set(self.modes)) != len(self.modes) or not self.modes:
            raise ScenarioError(f"mode choice: modes {list(self.modes)} must be distinct names "
                                f"from {list(MODES)}")
        avail = np.asarray(self.available, dtype=bool)
        if avail.ndim != 2 or avail.shape[1] != len(self.modes):
            raise ScenarioError(f"mode choice: available has shape {avail.shape}; need "
                                f"(n_trips, {len(self.modes)}) for modes {list(self.modes)}")
        object.__setattr__(self, "available", avail)
        for f in LOS_FIELDS:
            a = np.asarray(getattr(self, f), dtype=float)
            if a.shape != avail.shape:
                raise ScenarioError(f"mode choice: {f} has shape {a.shape}, need {avail.shape}")
            bad = avail & ~(np.isfinite(a) & (a >= 0))
            if bad.any():
                i, j = np.argwhere(bad)[0]
                raise ScenarioError(f"mode choice: {f}[{i}, {self.modes[j]}] = "
                                    f"{float(a[i, j])!r}; need a finite value >= 0 for "
                                    "available modes "
                                    f"({int(bad.sum())} bad entries)")
            object.__setattr__(self, f, np.where(avail, a, 0.0))

    @property
    def n_trips(self) -> int:
        return int(self.available.shape[0])

    def mode_index(self, mode: str) -> int:
        """Column of ``mode``."""
        try:
            return self.modes.index(mode)
        except ValueError:
            raise ScenarioError(f"mode choice: mode {mode!r} not in {list(self.modes)}") from None

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, modes: tuple[str, ...] = MODES
                   ) -> LevelOfService:
        """Build from columns ``<mode>_<field>`` and ``<mode>_available``.

        Missing field columns are 0; a missing ``<mode>_available`` column means available if
        any ``<mode>_*`` column exists, else unavailable.
        """
        n = len(df)
        arrays = {f: np.zeros((n, len(modes))) for f in LOS_FIELDS}
        avail = np.zeros((n, len(modes)), dtype=bool)
        for j, m in enumerate(modes):
            present = False
            for f in LOS_FIELDS:
                col = f"{m}_{f}"
                if col in df.columns:
                    arrays[f][:, j] = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
                    present = True
            col = f"{m}_available"
            avail[:, j] = df[col].to_numpy(bool) if col in df.columns else present
        return cls(**arrays, available=avail, modes=modes)

    @classmethod
    def blend(cls, old: LevelOfService, new: LevelOfService, weight_new: float
              ) -> LevelOfService:
        """``(1 - w) * old + w * new`` field by field (availability from ``new``)."""
        if old.modes != new.modes or old.available.shape != new.available.shape:
            raise ScenarioError("mode choice: cannot blend LOS with different modes or sizes")
        w = float(weight_new)
        vals = {f: (1.0 - w) * getattr(old, f) + w * getattr(new, f) for f in LOS_FIELDS}
        # entries that become available take the new value (old was 0 / meaningless)
        for f in LOS_FIELDS:
            vals[f] = np.where(old.available, vals[f], getattr(new, f))
        return cls(**vals, available=new.available, modes=new.modes)


def apply_car_availability(los: LevelOfService, car_in_household: np.ndarray,
                           licence: np.ndarray) -> LevelOfService:
    """Restrict car modes: driver needs a household car and a licence; passenger a car.

    The inputs are the per-trip booleans of the generated trips (drawn by age band with
    :class:`~tomakomai_maas.demand.generation.CarAvailability`).
    """
    car = np.asarray(car_in_household, dtype=bool)
    lic = np.asarray(licence, dtype=bool)
    if car.shape != (los.n_trips,) or lic.shape != (los.n_trips,):
        raise ScenarioError(f"mode choice: car_in_household/licence need shape "
                            f"({los.n_trips},), got {car.shape}/{lic.shape}")
    avail = los.available.copy()
    if "car_driver" in los.modes:
        avail[:, los.mode_index("car_driver")] &= car & lic
    if "car_passenger" in los.modes:
        avail[:, los.mode_index("car_passenger")] &= car
    return replace(los, available=avail)


def _default_asc() -> dict[str, float]:
    # assumed; walk is the reference. Calibrate to observed shares/ridership.
    return {"walk": 0.0, "bike": -1.0, "car_driver": 0.5, "car_passenger": -0.5,
            "bus": -0.6, "av_bus": -0.6, "drt": -0.8}


def _default_ivt_weight() -> dict[str, float]:
    # assumed; riding a bike is effort, so weighted above in-vehicle time
    return {"walk": 1.0, "bike": 1.5, "car_driver": 1.0, "car_passenger": 1.0, "bus": 1.0,
            "av_bus": 1.0, "drt": 1.0}


def _default_winter_asc() -> dict[str, float]:
    # assumed; snow Dec-Mar, 103.5 snowfall days/yr (facts §5): cycling mostly stops
    return {"walk": -0.3, "bike": -2.5}


@dataclass(frozen=True)
class ChoiceParams:
    """Mode-choice coefficients. Every default is **assumed** (not estimated for Tomakomai).

    * ``beta_gc_per_min`` = -0.06 utility per generalised minute: the usual order of
      magnitude of in-vehicle-time coefficients in urban mode-choice models.
    * ``value_of_time_yen_per_min`` = 25 (1,500 yen/h): assumed order of magnitude of values
      of time used in Japan for non-business trips; converts fares into minutes.
    * ``walk_weight`` = ``wait_weight`` = 2.0 and ``transfer_penalty_min`` = 5: the same
      defaults as the journey planner (:class:`~tomakomai_maas.world.JourneyParams`).
    * ``reliability_weight`` = 0.8 generalised minutes per minute of travel-time standard
      deviation (assumed "reliability ratio").
    * ``winter_walk_factor`` = 1.5, ``winter_wait_factor`` = 1.3: walking and waiting
      outdoors on snow/ice weigh more (assumed); ``winter_asc``: extra constants in winter.
    * ``schedule_delay_weight`` = 0.5 generalised minutes per minute of schedule delay
      (assumed; between the value of in-vehicle time and nothing).
    * ``asc``: alternative-specific constants, walk = 0 reference (assumed, to calibrate).
    """

    beta_gc_per_min: float = -0.06
    value_of_time_yen_per_min: float = 25.0
    walk_weight: float = 2.0
    wait_weight: float = 2.0
    transfer_penalty_min: float = 5.0
    reliability_weight: float = 0.8
    winter_walk_factor: float = 1.5
    winter_wait_factor: float = 1.3
    schedule_delay_weight: float = 0.5
    asc: Mapping[str, float] = field(default_factory=_default_asc)
    ivt_weight: Mapping[str, float] = field(default_factory=_default_ivt_weight)
    winter_asc: Mapping[str, float] = field(default_factory=_default_winter_asc)

    def __post_init__(self) -> None:
        for nm in ("asc", "ivt_weight", "winter_asc"):
            unknown = [m for m in getattr(self, nm) if m not in MODES]
            if unknown:
                raise ScenarioError(f"choice.params.{nm}: unknown mode(s) {unknown}; allowed: "
                                    f"{list(MODES)}")
        checks = (("beta_gc_per_min", self.beta_gc_per_min <= 0, "<= 0"),
                  ("value_of_time_yen_per_min", self.value_of_time_yen_per_min > 0, "> 0"),
                  ("walk_weight", self.walk_weight >= 0, ">= 0"),
                  ("wait_weight", self.wait_weight >= 0, ">= 0"),
                  ("transfer_penalty_min", self.transfer_penalty_min >= 0, ">= 0"),
                  ("reliability_weight", self.reliability_weight >= 0, ">= 0"),
                  ("winter_walk_factor", self.winter_walk_factor >= 0, ">= 0"),
                  ("winter_wait_factor", self.winter_wait_factor >= 0, ">= 0"),
                  ("schedule_delay_weight", self.schedule_delay_weight >= 0, ">= 0"))
        for nm, ok, allowed in checks:
            if not ok:
                raise ScenarioError(f"choice.params.{nm}: {getattr(self, nm)!r} must be "
                                    f"{allowed}")


@dataclass(frozen=True)
class MaasLevers:
    """MaaS policy levers (defaults = no MaaS).

    * ``fare_discount_share``: share of the fare removed on ``maas_modes`` by an integrated
      ticket / subscription (1.0 = flat-rate subscription, zero marginal fare);
    * ``transfer_penalty_reduction``: share of the transfer penalty removed (through
      ticketing, coordinated transfers);
    * ``perceived_wait_multiplier``: real-time information; < 1 shortens the perceived wait
      on ``maas_modes`` (e.g. 0.8, assumed; no Tomakomai measurement);
    * ``av_novelty_utility``: constant added to ``av_bus`` (novelty/comfort; riders praised
      smooth braking, facts §1.4; the size is assumed, may be negative);
    * ``free_fare`` with ``free_fare_modes``: those modes cost nothing (the AV trials were
      free of charge, facts §1.2/§1.4).
    """

    fare_discount_share: float = 0.0
    transfer_penalty_reduction: float = 0.0
    perceived_wait_multiplier: float = 1.0
    av_novelty_utility: float = 0.0
    free_fare: bool = False
    free_fare_modes: tuple[str, ...] = ("av_bus",)
    maas_modes: tuple[str, ...] = PT_MODES

    def __post_init__(self) -> None:
        for nm in ("free_fare_modes", "maas_modes"):
            unknown = [m for m in getattr(self, nm) if m not in MODES]
            if unknown:
                raise ScenarioError(f"maas.{nm}: unknown mode(s) {unknown}; allowed: "
                                    f"{list(MODES)}")
        for nm in ("fare_discount_share", "transfer_penalty_reduction"):
            if not 0 <= getattr(self, nm) <= 1:
                raise ScenarioError(f"maas.{nm}: {getattr(self, nm)!r} must be in [0, 1]")
        if not self.perceived_wait_multiplier >= 0:
            raise ScenarioError(f"maas.perceived_wait_multiplier: "
                                f"{self.perceived_wait_multiplier!r} must be >= 0")


def _per_mode(modes: tuple[str, ...], values: Mapping[str, float], default: float
              ) -> np.ndarray:
    return np.array([float(values.get(m, default)) for m in modes])


def utilities(los: LevelOfService, params: ChoiceParams | None = None,
              levers: MaasLevers | None = None, *, winter: bool = False) -> np.ndarray:
    """Systematic utilities ``float[n_trips, n_modes]``; unavailable modes are ``-inf``."""
    params = params or ChoiceParams()
    levers = levers or MaasLevers()
    modes = los.modes
    maas = np.array([m in levers.maas_modes for m in modes])
    free = np.array([levers.free_fare and m in levers.free_fare_modes for m in modes])
    fare = los.fare_yen * np.where(maas, 1.0 - levers.fare_discount_share, 1.0)[None, :]
    fare = np.where(free[None, :], 0.0, fare)
    walk_w = params.walk_weight * (params.winter_walk_factor if winter else 1.0)
    wait_w = (params.wait_weight * (params.winter_wait_factor if winter else 1.0)
              * np.where(maas, levers.perceived_wait_multiplier, 1.0))
    gc = (los.ivt_min * _per_mode(modes, params.ivt_weight, 1.0)[None, :]
          + walk_w * los.walk_min
          + wait_w[None, :] * los.wait_min
          + params.transfer_penalty_min * (1.0 - levers.transfer_penalty_reduction)
          * los.transfers
          + fare / params.value_of_time_yen_per_min
          + params.reliability_weight * los.reliability_sd_min
          + params.schedule_delay_weight * los.schedule_delay_min)
    const = _per_mode(modes, params.asc, 0.0)
    if winter:
        const = const + _per_mode(modes, params.winter_asc, 0.0)
    const = const + np.array([levers.av_novelty_utility if m == "av_bus" else 0.0
                              for m in modes])
    v = const[None, :] + params.beta_gc_per_min * gc
    return np.where(los.available, v, -np.inf)


def softmax(v: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
    """Row-wise logit probabilities, stable for any finite magnitudes.

    Entries that are ``-inf`` or not ``available`` get probability 0. Raises
    :class:`ScenarioError` if a row has no available mode or an available utility is NaN
    or ``+inf``.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 2:
        raise ScenarioError(f"mode choice: utilities need 2 dimensions, got shape {v.shape}")
    avail = ~np.isneginf(v)
    if available is not None:
        avail &= np.asarray(available, dtype=bool)
    bad = avail & ~np.isfinite(v)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ScenarioError(f"mode choice: utility[{i}, {j}] = {float(v[i, j])!r} is not "
                            "finite")
    none = ~avail.any(axis=1)
    if none.any():
        raise ScenarioError(f"mode choice: {int(none.sum())} trip(s) have no available mode "
                            f"(first: row {int(np.flatnonzero(none)[0])}); walk is normally "
                            "always available")
    vm = np.where(avail, v, -np.inf)
    top = vm.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.where(avail, np.exp(vm - top), 0.0)
    return z / z.sum(axis=1, keepdims=True)


def probabilities(los: LevelOfService, params: ChoiceParams | None = None,
                  levers: MaasLevers | None = None, *, winter: bool = False) -> np.ndarray:
    """Mode probabilities ``float[n_trips, n_modes]`` (rows sum to 1; unavailable = 0)."""
    return softmax(utilities(los, params, levers, winter=winter), los.available)


def _choose_with(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    c = np.cumsum(probs, axis=1)
    c = c / c[:, -1:]
    return (u[:, None] >= c).sum(axis=1)


def choose_with_uniforms(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Mode index per row by inverse CDF of the given uniforms (one per row).

    Keeping each traveller's uniform across feedback iterations (common random numbers)
    makes a traveller switch only when the probabilities move across it.
    """
    probs = np.asarray(probs, dtype=float)
    u = np.asarray(u, dtype=float)
    if probs.ndim != 2 or u.shape != (probs.shape[0],):
        raise ScenarioError(f"mode choice: need probabilities (n, modes) and n uniforms, got "
                            f"{probs.shape} and {u.shape}")
    if not len(u):
        return np.zeros(0, dtype=np.int64)
    return _choose_with(probs, u).astype(np.int64)


def choose(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one mode index per row (``int64[n_trips]``); zero-probability modes never win."""
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or (probs < 0).any() or not (probs.sum(axis=1) > 0).all():
        raise ScenarioError("mode choice: probabilities need shape (n_trips, n_modes), "
                            "non-negative rows with a positive sum")
    return _choose_with(probs, rng.random(probs.shape[0]))


def mode_shares(choices: np.ndarray, n_modes: int) -> np.ndarray:
    """Share of each mode index among ``choices`` (zeros for an empty array)."""
    c = np.bincount(np.asarray(choices, dtype=np.int64), minlength=n_modes).astype(float)
    return c / c.sum() if c.sum() else c


@dataclass(frozen=True, eq=False)
class ChoiceIteration:
    """Result of :func:`iterate_choice`.

    ``changed_share[k]``: share of travellers whose mode changed at feedback iteration
    ``k + 1``; ``mode_shares[k]``: shares after iteration ``k`` (``k = 0``: initial LOS).
    """

    choices: np.ndarray
    probabilities: np.ndarray
    los: LevelOfService
    changed_share: tuple[float, ...]
    mode_shares: tuple[tuple[float, ...], ...]
    converged: bool
    n_iter: int


def iterate_choice(initial_los: LevelOfService,
                   simulate_fn: Callable[[np.ndarray], LevelOfService], n_iter: int, *,
                   rng: np.random.Generator, params: ChoiceParams | None = None,
                   levers: MaasLevers | None = None, winter: bool = False, tol: float = 0.01,
                   smoothing: str = "msa") -> ChoiceIteration:
    """Choice <-> supply feedback until few travellers switch mode.

    Each traveller keeps one uniform draw for all iterations (common random numbers), so a
    traveller switches only when their probabilities move across it. Iteration ``k``
    (1..``n_iter``) calls ``simulate_fn(choices)`` - e.g. simulate the day with these modes
    and return skimmed LOS (waits, in-vehicle times, reliability) for the same trips and
    modes - then smooths the LOS (``smoothing="msa"``: method of successive averages,
    weight ``1/(k+1)`` on the new LOS; ``"none"``: take it as is), re-chooses and records
    the share of travellers who changed mode. Stops when that share is <= ``tol``.
    """
    if n_iter < 0:
        raise ScenarioError(f"mode choice: n_iter must be >= 0, got {n_iter}")
    if smoothing not in ("msa", "none"):
        raise ScenarioError(f"mode choice: smoothing {smoothing!r}; allowed: msa, none")
    los = initial_los
    u = rng.random(los.n_trips)
    probs = probabilities(los, params, levers, winter=winter)
    choices = _choose_with(probs, u)
    n_modes = len(los.modes)
    shares = [tuple(mode_shares(choices, n_modes))]
    changed: list[float] = []
    converged = False
    k = 0
    for k in range(1, n_iter + 1):
        new = simulate_fn(choices.copy())
        if not isinstance(new, LevelOfService) or new.modes != los.modes \
                or new.n_trips != los.n_trips:
            raise ScenarioError("mode choice: simulate_fn must return a LevelOfService with "
                                f"the same modes {list(los.modes)} and {los.n_trips} trips")
        los = LevelOfService.blend(los, new, 1.0 / (k + 1)) if smoothing == "msa" else new
        probs = probabilities(los, params, levers, winter=winter)
        new_choices = _choose_with(probs, u)
        frac = float(np.mean(new_choices != choices)) if len(u) else 0.0
        changed.append(frac)
        choices = new_choices
        shares.append(tuple(mode_shares(choices, n_modes)))
        log.info("mode choice iteration %d: %.4f of travellers changed mode", k, frac)
        if frac <= tol:
            converged = True
            break
    return ChoiceIteration(choices=choices, probabilities=probs, los=los,
                           changed_share=tuple(changed), mode_shares=tuple(shares),
                           converged=converged, n_iter=k)
