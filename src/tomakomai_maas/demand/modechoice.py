"""Generated demand with MaaS mode choice: zones -> trips -> level of service -> requests.

:class:`ModeChoiceDemand` is the picklable ``sample(rng) -> list[Request]`` that
``scenario.build()`` puts into the World for ``demand.generated``. One call:

1. draws the day's person-trips with :class:`~tomakomai_maas.demand.generation.
   GeneratedDemand` from the generator it is given (the ``demand`` stream), keeps those of
   the study area (``keep_zones``), snaps both ends to the walk network (trip ends farther
   than ``max_snap_m`` are dropped and counted) and draws each trip's arrival margin;
2. skims the level of service of every mode from the supply (:mod:`.los`);
3. chooses a mode per traveller with the multinomial logit (:mod:`.choice`) from uniforms of
   the ``choice`` stream (``stream(seed, "choice")``, one per traveller and one per possible
   last-mile trip);
4. turns every traveller into a :class:`~tomakomai_maas.world.Request` whose ``mode`` is
   the simulator's mode: ``pt`` for ``bus``/``av_bus`` (access/egress restricted to the
   chosen kind of line, no walk-only fallback, leaving later on infrequent lines), ``drt``,
   ``walk``, or ``car_driver``/``car_passenger``/``bike`` (logged as skipped, i.e. counted).

Event attendees who drive to an event with a ``parking`` place also make a *last-mile* trip
between the car park and the venue (request id ``<trip_id>L``), chosen among walk and the
timetabled/DRT modes (e.g. the TOMAKOMAI MIRAI FEST shuttle, facts §1.1).

:mod:`.feedback` runs steps 3-4 repeatedly with simulated waits and crowding
(``maas.choice_iterations``); a plain call is its iteration 0. No simpy here.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.demand.choice import (
    MODES,
    ChoiceParams,
    LevelOfService,
    MaasLevers,
    apply_car_availability,
    choose_with_uniforms,
    probabilities,
    utilities,
)
from tomakomai_maas.demand.generation import GeneratedDemand
from tomakomai_maas.demand.los import (
    CarLos,
    PtSkim,
    PtSupply,
    car_level_of_service,
    drt_level_of_service,
    skim_pt,
)
from tomakomai_maas.rng import stream
from tomakomai_maas.world import Request

__all__ = [
    "SIM_MODE",
    "PAX_CLASS",
    "ChoiceSetup",
    "EventParking",
    "Prepared",
    "Choices",
    "ModeChoiceDemand",
    "choice_rng_for",
    "find_mode_choice",
]

log = logging.getLogger(__name__)

SIM_MODE = {"walk": "walk", "bike": "bike", "car_driver": "car_driver",
            "car_passenger": "car_passenger", "bus": "pt", "av_bus": "pt", "drt": "drt"}
"""Request mode the simulator receives for each chosen mode."""

PAX_CLASS = {"0_14": "child", "15_64": "adult", "65p": "adult"}
"""Request ``pax_class`` (the fare class) by age band: seniors pay the adult fare (the 65+
熟年定期券 was abolished, facts §2.3; holders of other passes are not modelled)."""

_LAST_MILE_MODES = ("walk", "bus", "av_bus", "drt")


@dataclass(frozen=True)
class ChoiceSetup:
    """Everything the choice stage uses (cheap to swap: calibration changes only this).

    ``modes``: the scenario's choice set; ``free_periods``: ``(start_s, end_s, modes)``
    windows of free fares; ``iterations``/``tol``/``smoothing``/``failure_penalty_min``: the
    feedback loop (:mod:`.feedback`).
    """

    params: ChoiceParams = field(default_factory=ChoiceParams)
    levers: MaasLevers = field(default_factory=MaasLevers)
    modes: tuple[str, ...] = ("walk", "car_driver", "car_passenger", "bus", "av_bus", "drt")
    free_periods: tuple[tuple[float, float, tuple[str, ...]], ...] = ()
    iterations: int = 0
    tol: float = 0.01
    smoothing: str = "msa"
    failure_penalty_min: float = 30.0

    @classmethod
    def from_config(cls, maas: Any) -> ChoiceSetup:
        """From a :class:`~tomakomai_maas.scenario.schema_demand.MaasConfig`."""
        from tomakomai_maas.scenario.schema import parse_time_s

        c = maas.choice
        asc = dict(c.asc)
        asc.setdefault("av_bus", asc.get("bus", 0.0))
        params = ChoiceParams(
            beta_gc_per_min=c.beta_gc_per_min, value_of_time_yen_per_min=c.value_of_time_yen_per_min,
            walk_weight=c.walk_weight, wait_weight=c.wait_weight,
            transfer_penalty_min=c.transfer_penalty_min, reliability_weight=c.reliability_weight,
            winter_walk_factor=c.winter_walk_factor, winter_wait_factor=c.winter_wait_factor,
            schedule_delay_weight=c.schedule_delay_weight, asc=asc, ivt_weight=dict(c.ivt_weight),
            winter_asc=dict(c.winter_asc))
        levers = MaasLevers(
            fare_discount_share=maas.fare_discount_share,
            transfer_penalty_reduction=maas.transfer_penalty_reduction,
            perceived_wait_multiplier=maas.realtime_wait_multiplier if maas.realtime_info
            else 1.0,
            av_novelty_utility=maas.av_constant,
            free_fare=bool(maas.free_fare_modes), free_fare_modes=tuple(maas.free_fare_modes),
            maas_modes=tuple(maas.maas_modes))
        periods = tuple((parse_time_s(p.start_time), parse_time_s(p.end_time), tuple(p.modes))
                        for p in maas.free_fare_periods)
        return cls(params=params, levers=levers, modes=tuple(maas.modes), free_periods=periods,
                   iterations=maas.choice_iterations, tol=maas.convergence_tol,
                   smoothing=maas.smoothing, failure_penalty_min=maas.failure_penalty_min)


@dataclass(frozen=True)
class EventParking:
    """Car park of an event: last-mile trips run between it and the venue."""

    event: str
    name: str
    lat: float
    lon: float
    node: int
    snap_m: float
    venue_lat: float
    venue_lon: float
    venue_node: int
    venue_snap_m: float
    share: float = 1.0


@dataclass(eq=False)
class Prepared:
    """One replication's travellers and their static level of service (no choice yet).

    ``trips``: the generated trips kept (columns of
    :data:`~tomakomai_maas.demand.generation.GENERATED_TRIP_COLUMNS` plus ``stage``), ``los``
    their LOS over :data:`~tomakomai_maas.demand.choice.MODES`, ``pt`` the timetabled skims
    by mode, ``direct_walk_s`` the walk-all-the-way time. ``last`` (if any) holds the
    last-mile trips, one per event trip with parking (``last_of[j]``: row of the main trip).
    """

    trips: pd.DataFrame
    los: LevelOfService
    pt: dict[str, PtSkim]
    direct_walk_s: np.ndarray
    winter: bool
    n_generated: int = 0
    n_outside_area: int = 0
    n_dropped_snap: int = 0
    last: Prepared | None = None
    last_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        return len(self.trips)


@dataclass(eq=False)
class Choices:
    """Chosen mode index (into :data:`MODES`) per main trip and per active last-mile trip
    (``-1`` = no last-mile trip, the traveller did not drive)."""

    main: np.ndarray
    last: np.ndarray


def choice_rng_for(demand_rng: np.random.Generator) -> np.random.Generator:
    """The ``choice`` stream that belongs to a ``demand`` stream.

    ``stream(seed, "demand")`` -> ``stream(seed, "choice")``. For any other generator (tests,
    custom callers) a child generator spawned from its seed sequence (deterministic).
    """
    bg = demand_rng.bit_generator
    ss = getattr(bg, "seed_seq", None)
    ent = getattr(ss, "entropy", None)
    if (isinstance(ent, list | tuple) and len(ent) == 2 and not getattr(ss, "spawn_key", ())
            and int(ent[1]) == zlib.crc32(b"demand")):
        return stream(int(ent[0]), "choice")
    if ss is not None and hasattr(ss, "spawn"):
        return np.random.default_rng(ss.spawn(1)[0])
    return np.random.default_rng(int(demand_rng.integers(2**63)))  # pragma: no cover


def find_mode_choice(sample_requests: Any) -> ModeChoiceDemand | None:
    """The :class:`ModeChoiceDemand` inside a World's ``sample_requests`` (or None)."""
    if isinstance(sample_requests, ModeChoiceDemand):
        return sample_requests
    for part in getattr(sample_requests, "parts", ()) or ():
        if isinstance(part, ModeChoiceDemand):
            return part
    return None


@dataclass(frozen=True, eq=False)
class ModeChoiceDemand:
    """Picklable generated demand with mode choice (see the module docstring).

    Built by :func:`tomakomai_maas.scenario.build_demand.build_generated_demand`. ``walk`` /
    ``drive``: :class:`~tomakomai_maas.network.TravelTimes` oracles (walk network; car at road
    speeds); ``hour_speed_factor``: car speed multipliers by hour (operations x weather);
    ``drt``: the World's DRT service (or a :class:`~tomakomai_maas.demand.los.DrtSpec` from
    the scenario's ``drt:`` section, or None); its skims drive at ``hour_speed_factor`` and
    respect the weather's suspended periods ``drt_suspended_s`` (autonomous fleets).
    """

    generator: GeneratedDemand
    supply: PtSupply
    walk: Any
    drive: Any
    setup: ChoiceSetup = field(default_factory=ChoiceSetup)
    car: CarLos = field(default_factory=CarLos)
    hour_speed_factor: tuple[float, ...] = (1.0,) * 24
    keep_zones: frozenset[str] | None = None
    max_snap_m: float = 1500.0
    timetable_headway_s: float = 900.0
    arrival_margin_s: float = 300.0
    bike_speed_mps: float = 12.0 / 3.6
    drt: Any = None
    drt_fare_yen: float = 500.0
    drt_suspended_s: tuple[tuple[float, float], ...] = ()
    parking: tuple[EventParking, ...] = ()

    # ------------------------------------------------------------------ variants
    def with_setup(self, setup: ChoiceSetup) -> ModeChoiceDemand:
        """The same demand with another choice stage (e.g. a calibrated constant)."""
        return replace(self, setup=setup)

    # ------------------------------------------------------------------ sampling
    def __call__(self, rng: np.random.Generator) -> list[Request]:
        prepared = self.prepare(rng)
        u = self.uniforms(choice_rng_for(rng), prepared)
        choices = self.choose(prepared, prepared.los,
                              prepared.last.los if prepared.last is not None else None, u)
        return self.requests(prepared, choices)

    def uniforms(self, rng: np.random.Generator, prepared: Prepared) -> np.ndarray:
        """``[2, n]`` uniforms: row 0 chooses the main mode, row 1 the last-mile mode."""
        return rng.random((2, prepared.n))

    # ------------------------------------------------------------------ step 1-2
    def prepare(self, rng: np.random.Generator) -> Prepared:
        """Draw the trips (demand stream) and skim their level of service."""
        g = self.generator
        df = g(rng)
        n_gen = len(df)
        u_margin = rng.random(n_gen)  # always drawn: common random numbers
        u_park = rng.random(n_gen)
        keep = np.ones(n_gen, dtype=bool)
        if self.keep_zones is not None:
            keep &= df["o_zone"].isin(self.keep_zones).to_numpy() & \
                df["d_zone"].isin(self.keep_zones).to_numpy()
        n_out = int((~keep).sum())
        o_idx, o_m = self._snap(self.walk, df["o_lat"], df["o_lon"])
        d_idx, d_m = self._snap(self.walk, df["d_lat"], df["d_lon"])
        ok_snap = (o_m <= self.max_snap_m) & (d_m <= self.max_snap_m)
        n_drop = int((keep & ~ok_snap).sum())
        keep &= ok_snap
        if n_drop:
            log.info("generated demand: %d trip(s) dropped, an end lies farther than %g m from "
                     "the walk network", n_drop, self.max_snap_m)
        sel = np.flatnonzero(keep)
        df = df.iloc[sel].reset_index(drop=True)
        df["stage"] = "main"
        prepared = self._skim(df, o_idx[sel], o_m[sel], d_idx[sel], d_m[sel], u_margin[sel])
        prepared.n_generated, prepared.n_outside_area = n_gen, n_out
        prepared.n_dropped_snap = n_drop
        if self.parking:
            self._prepare_last_mile(prepared, u_margin[sel], u_park[sel])
        return prepared

    @staticmethod
    def _snap(oracle: Any, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        if len(lat) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx, dist = oracle.snap_many(np.asarray(lat, float), np.asarray(lon, float),
                                     max_snap_m=math.inf)
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=float)

    def _skim(self, df: pd.DataFrame, o_idx: np.ndarray, o_m: np.ndarray, d_idx: np.ndarray,
              d_m: np.ndarray, u_margin: np.ndarray, *,
              modes: Sequence[str] | None = None) -> Prepared:
        n = len(df)
        sup = self.supply
        jp = sup.journey
        speed = jp.walk_speed_mps
        allowed = set(self.setup.modes if modes is None else modes)
        depart = df["depart_s"].to_numpy(float)
        walk_m = np.asarray(self.walk.dist_m(o_idx, d_idx), dtype=float) + o_m + d_m \
            if n else np.zeros(0)
        walk_m = np.where(np.isfinite(walk_m), walk_m, np.inf)
        direct_walk_s = walk_m / speed
        fields = {f: np.zeros((n, len(MODES))) for f in
                  ("walk_min", "wait_min", "ivt_min", "transfers", "fare_yen",
                   "reliability_sd_min", "schedule_delay_min")}
        avail = np.zeros((n, len(MODES)), dtype=bool)
        j = MODES.index
        # walk: always available (the fallback), even when very long
        fields["walk_min"][:, j("walk")] = np.where(np.isfinite(walk_m), walk_m / speed / 60.0,
                                                    1e4)
        avail[:, j("walk")] = True
        if "bike" in allowed:
            ok = np.isfinite(walk_m)
            fields["ivt_min"][:, j("bike")] = np.where(ok, walk_m / self.bike_speed_mps, 0) / 60
            fields["walk_min"][:, j("bike")] = 1.0  # assumed: parking the bike
            avail[:, j("bike")] = ok
        car_needed = {"car_driver", "car_passenger", "drt"} & allowed
        car: dict[str, np.ndarray] | None = None
        if car_needed and n:
            co, co_m = self._snap(self.drive, df["o_lat"], df["o_lon"])
            cd, cd_m = self._snap(self.drive, df["d_lat"], df["d_lon"])
            car = car_level_of_service(self.drive, o_node=co, d_node=cd, o_snap_m=co_m,
                                       d_snap_m=cd_m, depart_s=depart,
                                       d_zone=df["d_zone"].to_numpy(),
                                       hour_speed_factor=self.hour_speed_factor, cfg=self.car)
            for m in ("car_driver", "car_passenger"):
                if m in allowed:
                    fields["ivt_min"][:, j(m)] = car["ivt_min"]
                    fields["walk_min"][:, j(m)] = car["walk_min"]
                    fields["reliability_sd_min"][:, j(m)] = car["reliability_sd_min"]
                    avail[:, j(m)] = car["available"]
            if "car_driver" in allowed:
                fields["fare_yen"][:, j("car_driver")] = car["fare_driver_yen"]
        pt: dict[str, PtSkim] = {}
        if n and any(m in allowed for m in sup.modes):
            stop_nodes = np.array([sup.stops[s].node for s in sup.stop_ids], dtype=np.int64)
            dist_o = np.asarray(self.walk.dist_matrix_m(o_idx, stop_nodes), float) + o_m[:, None]
            dist_d = np.asarray(self.walk.dist_matrix_m(stop_nodes, d_idx), float).T \
                + d_m[:, None]
            snap_stop = np.array([sup.stops[s].snap_m for s in sup.stop_ids])
            dist_o = dist_o + snap_stop[None, :]
            dist_d = dist_d + snap_stop[None, :]
            ids = df["trip_id"].to_numpy()
            for m in sup.modes:
                if m not in allowed:
                    continue
                sk = skim_pt(sup, m, trip_ids=ids, depart_s=depart, dist_o=dist_o,
                             dist_d=dist_d, direct_walk_m=walk_m, u_margin=u_margin,
                             timetable_headway_s=self.timetable_headway_s,
                             arrival_margin_s=self.arrival_margin_s)
                pt[m] = sk
                for f in fields:
                    fields[f][:, j(m)] = getattr(sk, f)
                avail[:, j(m)] = sk.available
        if "drt" in allowed and n:
            assert car is not None
            d_fields, d_avail = drt_level_of_service(
                self.drt, car_ivt_min=car["ivt_min"], car_available=car["available"],
                depart_s=depart, fare_yen=self.drt_fare_yen,
                o_lat=df["o_lat"].to_numpy(float), o_lon=df["o_lon"].to_numpy(float),
                d_lat=df["d_lat"].to_numpy(float), d_lon=df["d_lon"].to_numpy(float),
                hour_speed_factor=self.hour_speed_factor, suspended_s=self.drt_suspended_s)
            for f, v in d_fields.items():
                fields[f][:, j("drt")] = v
            avail[:, j("drt")] = d_avail
        self._free_fares(fields["fare_yen"], depart)
        los = LevelOfService(**fields, available=avail, modes=MODES)
        if n:
            los = apply_car_availability(los, df["car_in_household"].to_numpy(bool),
                                         df["licence"].to_numpy(bool))
        winter = bool(self.generator.winter)
        return Prepared(trips=df, los=los, pt=pt, direct_walk_s=direct_walk_s, winter=winter)

    def _free_fares(self, fare: np.ndarray, depart: np.ndarray) -> None:
        for start, end, modes in self.setup.free_periods:
            rows = (depart >= start) & (depart < end)
            for m in modes:
                fare[rows, MODES.index(m)] = 0.0

    def _prepare_last_mile(self, prepared: Prepared, u_margin: np.ndarray,
                           u_park: np.ndarray) -> None:
        df = prepared.trips
        by_event = {p.event: p for p in self.parking}
        share = df["event"].map({k: p.share for k, p in by_event.items()}).fillna(0.0)
        is_ev = (df["source"] == "event").to_numpy() & df["event"].isin(by_event).to_numpy() \
            & (u_park < share.to_numpy(float))
        rows = np.flatnonzero(is_ev)
        if not len(rows):
            return
        car = prepared.los
        # outbound: the last mile starts at the car park when the car arrives (departure +
        # half the car access walk, at home, + car time); return: it leaves the venue at the
        # trip's departure time
        car_ivt = car.ivt_min[rows, MODES.index("car_driver")]
        out = (df["direction"].to_numpy()[rows] == "outbound")
        recs = []
        o_idx, o_m, d_idx, d_m = [], [], [], []
        for k, r in enumerate(rows):
            p = by_event[df["event"].iat[r]]
            row = df.iloc[r].to_dict()
            row["trip_id"] = f"{row['trip_id']}L"
            row["stage"] = "last_mile"
            if out[k]:
                row.update(o_lat=p.lat, o_lon=p.lon, d_lat=p.venue_lat, d_lon=p.venue_lon,
                           depart_s=row["depart_s"] + car_ivt[k] * 60.0 + self.car.access_min
                           * 30.0)
                o_idx.append(p.node), o_m.append(p.snap_m)
                d_idx.append(p.venue_node), d_m.append(p.venue_snap_m)
            else:
                row.update(o_lat=p.venue_lat, o_lon=p.venue_lon, d_lat=p.lat, d_lon=p.lon)
                o_idx.append(p.venue_node), o_m.append(p.venue_snap_m)
                d_idx.append(p.node), d_m.append(p.snap_m)
            row["car_in_household"] = False  # no car for the last mile
            row["licence"] = False
            recs.append(row)
        ldf = pd.DataFrame(recs, columns=list(df.columns)).astype(df.dtypes.to_dict())
        modes = [m for m in _LAST_MILE_MODES if m in self.setup.modes]
        last = self._skim(ldf, np.asarray(o_idx, np.int64), np.asarray(o_m, float),
                          np.asarray(d_idx, np.int64), np.asarray(d_m, float), u_margin[rows],
                          modes=modes)
        prepared.last = last
        prepared.last_of = rows.astype(np.int64)

    # ------------------------------------------------------------------ step 3
    def utilities(self, prepared: Prepared, los: LevelOfService) -> np.ndarray:
        """Systematic utilities ``[n, len(MODES)]`` (``-inf`` = unavailable)."""
        return utilities(self._restrict(los), self.setup.params, self.setup.levers,
                         winter=prepared.winter)

    def probabilities(self, prepared: Prepared, los: LevelOfService) -> np.ndarray:
        """Choice probabilities ``[n, len(MODES)]``."""
        return probabilities(self._restrict(los), self.setup.params, self.setup.levers,
                             winter=prepared.winter)

    def _restrict(self, los: LevelOfService) -> LevelOfService:
        keep = np.array([m in self.setup.modes for m in los.modes])
        if keep.all():
            return los
        return replace(los, available=los.available & keep[None, :])

    def choose(self, prepared: Prepared, los: LevelOfService, los_last: LevelOfService | None,
               u: np.ndarray) -> Choices:
        """Choose main modes with ``u[0]`` and last-mile modes (drivers only) with ``u[1]``."""
        main = choose_with_uniforms(self.probabilities(prepared, los), u[0])
        last = np.full(0 if prepared.last is None else prepared.last.n, -1, dtype=np.int64)
        if prepared.last is not None and los_last is not None and len(last):
            drove = np.isin(main[prepared.last_of],
                            [MODES.index("car_driver"), MODES.index("car_passenger")])
            if drove.any():
                p = self.probabilities(prepared.last, los_last)
                c = choose_with_uniforms(p, u[1][prepared.last_of])
                last = np.where(drove, c, -1)
        return Choices(main=main, last=last)

    # ------------------------------------------------------------------ step 4
    def requests(self, prepared: Prepared, choices: Choices, *,
                 simulated_only: bool = False) -> list[Request]:
        """Requests of every traveller (``simulated_only``: only ``pt``/``drt`` riders)."""
        out = self._requests(prepared, choices.main, simulated_only)
        if prepared.last is not None and len(choices.last):
            act = np.flatnonzero(choices.last >= 0)
            if len(act):
                sub = _subset(prepared.last, act)
                out += self._requests(sub, choices.last[act], simulated_only)
        out.sort(key=lambda q: (q.depart_s, q.request_id))
        return out

    def _requests(self, p: Prepared, chosen: np.ndarray, simulated_only: bool) -> list[Request]:
        df = p.trips
        ids = df["trip_id"].to_numpy()
        dep = df["depart_s"].to_numpy(float)
        o_lat, o_lon = df["o_lat"].to_numpy(float), df["o_lon"].to_numpy(float)
        d_lat, d_lon = df["d_lat"].to_numpy(float), df["d_lon"].to_numpy(float)
        purpose = df["purpose"].to_numpy()
        band = df["age_band"].to_numpy()
        out: list[Request] = []
        for i, c in enumerate(np.asarray(chosen, dtype=np.int64)):
            mode = MODES[int(c)]
            sim_mode = SIM_MODE[mode]
            if simulated_only and sim_mode not in ("pt", "drt"):
                continue
            acc: tuple = ()
            egr: tuple = ()
            t = float(dep[i])
            walk_s = float(p.direct_walk_s[i])
            if mode in p.pt:
                sk = p.pt[mode]
                acc, egr = sk.access[i], sk.egress[i]
                t = float(sk.depart_s[i])
                walk_s = math.inf
            out.append(Request(
                request_id=str(ids[i]), depart_s=t, o_lat=float(o_lat[i]), o_lon=float(o_lon[i]),
                d_lat=float(d_lat[i]), d_lon=float(d_lon[i]), access=acc, egress=egr,
                direct_walk_s=walk_s, mode=sim_mode, purpose=str(purpose[i]),
                pax_class=PAX_CLASS.get(str(band[i]), "adult")))
        return out


def _subset(p: Prepared, rows: np.ndarray) -> Prepared:
    """A Prepared restricted to ``rows`` (for building requests)."""
    pt = {}
    for m, sk in p.pt.items():
        pt[m] = PtSkim(**{f: getattr(sk, f)[rows] for f in sk.__dataclass_fields__})
    return Prepared(trips=p.trips.iloc[rows].reset_index(drop=True), los=p.los, pt=pt,
                    direct_walk_s=p.direct_walk_s[rows], winter=p.winter)
