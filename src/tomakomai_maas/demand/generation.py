"""Trip generation and destination choice over a zone table (pure numpy, no simpy).

:class:`GeneratedDemand` is a picklable callable ``sample(rng) -> pandas.DataFrame`` that draws
one service day of person-trips (all modes; mode choice comes later, :mod:`.choice`) from
three sources:

* **residents** - for each zone, age band and purpose, a Poisson number of one-way trips with
  mean ``population x rate x day-type factor x winter factor x scale``; each trip is
  *outbound* (home -> destination) or, with probability ``return_share``, *return*
  (destination -> home), with its own hourly departure profile. Outbound and return trips
  are drawn independently (no tour linking): aggregate flows by hour are right, individual
  itineraries are not chained;
* **visitors** (purpose ``tourism`` by default) - a Poisson number of trips per day whose
  "home" is drawn from an origin attraction column (``station``: arrivals by JR);
* **events** (:class:`EventDemand`) - attendees from zones by a gravity model towards the
  venue, arriving by hour before the start and leaving by hour after the end.

Destinations follow a logit/gravity model (:func:`destination_probabilities`):
``P(d | o) ∝ A_d · exp(beta · t_od)`` with ``A_d`` the purpose's attraction (a weighted sum
of zone columns, each normalised to sum 1) and ``t_od`` the provided zone-to-zone time
matrix (minutes, zone row order; its diagonal is the intrazonal time and must be realistic,
e.g. :func:`~tomakomai_maas.demand.zones.crow_fly_time_matrix`).

Trip ends are random points in a disc of the zone's area around the centroid (``points=
"disc"``, the zone shape being unknown) or the exact centroid (``points="centroid"``); event
trips end/start exactly at the venue. The randomness drawn does not depend on ``points`` or
``window_s`` (common random numbers). All numbers below are **assumed** (Tomakomai is not in
the 道央 person-trip survey, facts §4); calibrate them before drawing conclusions.

Output columns (:data:`GENERATED_TRIP_COLUMNS`, rows sorted by ``depart_s``):

==================  =======================================================================
trip_id             ``<prefix><7 digits>`` in departure order (str)
source              ``resident`` | ``visitor`` | ``event``
purpose             one of :data:`PURPOSES` (events: the event's ``purpose``)
direction           ``outbound`` (from home / arrival point / to the venue) or ``return``
age_band            one of :data:`AGE_BANDS`
home_zone           residents: home zone; visitors: arrival zone; events: attendee's zone
o_zone, d_zone      origin / destination zone ids (event venue: nearest zone)
o_lat ... d_lon     trip end points, WGS84 degrees
depart_s            desired departure, seconds since midnight (event arrivals: arrival time
                    minus matrix travel time, so it can be < 0 for early events)
car_in_household    a car is available in the traveller's household (visitors: brought one)
licence             the traveller holds a driving licence
event               event name, "" for other trips
==================  =======================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from tomakomai_maas.demand.zones import (
    AGE_BAND_COLUMNS,
    ATTRACTION_COLUMNS,
    DEFAULT_POINT_RADIUS_KM,
    KM_PER_DEG_LAT,
    nearest_zone,
)
from tomakomai_maas.errors import ScenarioError

__all__ = [
    "AGE_BANDS",
    "PURPOSES",
    "GENERATED_TRIP_COLUMNS",
    "PurposeSpec",
    "CarAvailability",
    "EventDemand",
    "DEFAULT_PURPOSES",
    "hourly_profile",
    "attraction_vector",
    "destination_probabilities",
    "GeneratedDemand",
]

AGE_BANDS = ("0_14", "15_64", "65p")
PURPOSES = ("commute", "school", "shopping", "hospital", "leisure", "tourism")

GENERATED_TRIP_COLUMNS: dict[str, str] = {
    "trip_id": "str", "source": "str", "purpose": "str", "direction": "str",
    "age_band": "str", "home_zone": "str", "o_zone": "str", "d_zone": "str",
    "o_lat": "float64", "o_lon": "float64", "d_lat": "float64", "d_lon": "float64",
    "depart_s": "float64", "car_in_household": "bool", "licence": "bool", "event": "str",
}
"""Columns and dtypes of the table returned by :class:`GeneratedDemand`."""

#: Zone columns a purpose may use as attraction (besides :data:`ATTRACTION_COLUMNS`).
_EXTRA_ATTRACTION = ("pop_total", "households")


def hourly_profile(weights: Mapping[int, float], *, base: float = 0.0) -> tuple[float, ...]:
    """24 hourly weights: ``weights[h]`` for the given hours, ``base`` elsewhere."""
    bad = [h for h in weights if not 0 <= h <= 23]
    if bad:
        raise ValueError(f"hours {bad} not in 0..23")
    return tuple(float(weights.get(h, base)) for h in range(24))


def _err(field_path: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{field_path}: {msg}")


@dataclass(frozen=True)
class PurposeSpec:
    """One trip purpose (all values assumed unless stated).

    ``rates``: one-way trips per resident per weekday, by age band :data:`AGE_BANDS`.
    ``visitor_trips_per_day``: trips by non-residents per weekday in the zoned area, whose
    arrival ("home") zone is drawn by the zone column ``visitor_origin``.
    ``attraction``: ``(zone column, weight)`` pairs; each column is normalised to sum 1.
    ``beta_time_per_min``: destination-choice sensitivity to travel time (<= 0).
    ``outbound_profile`` / ``return_profile``: 24 hourly departure weights.
    ``weekend_factor``, ``winter_factor``: multiply the rates on weekends / in winter.
    """

    name: str
    attraction: tuple[tuple[str, float], ...]
    beta_time_per_min: float
    outbound_profile: tuple[float, ...]
    return_profile: tuple[float, ...]
    rates: tuple[float, float, float] = (0.0, 0.0, 0.0)
    visitor_trips_per_day: float = 0.0
    visitor_origin: str = "station"
    return_share: float = 0.5
    weekend_factor: float = 1.0
    winter_factor: float = 1.0

    def __post_init__(self) -> None:
        path = f"demand.purposes.{self.name}"
        if len(self.rates) != len(AGE_BANDS) or any(not r >= 0 for r in self.rates):
            raise _err(f"{path}.rates", f"{self.rates!r}: need {len(AGE_BANDS)} non-negative "
                       f"trips/person/day for age bands {list(AGE_BANDS)}")
        for nm in ("outbound_profile", "return_profile"):
            prof = getattr(self, nm)
            if len(prof) != 24 or any(not w >= 0 for w in prof) or sum(prof) <= 0:
                raise _err(f"{path}.{nm}", "need 24 non-negative hourly weights, not all 0")
        allowed = (*ATTRACTION_COLUMNS, *_EXTRA_ATTRACTION)
        for col, w in self.attraction:
            if col not in allowed:
                raise _err(f"{path}.attraction", f"unknown zone column {col!r}; allowed: "
                           f"{list(allowed)}")
            if not w >= 0:
                raise _err(f"{path}.attraction", f"weight of {col!r} must be >= 0, got {w}")
        if not self.attraction or sum(w for _, w in self.attraction) <= 0:
            raise _err(f"{path}.attraction", "need at least one positive weight")
        if self.visitor_origin not in allowed:
            raise _err(f"{path}.visitor_origin", f"unknown zone column "
                       f"{self.visitor_origin!r}; allowed: {list(allowed)}")
        checks = (("beta_time_per_min", self.beta_time_per_min <= 0, "<= 0"),
                  ("return_share", 0 <= self.return_share <= 1, "in [0, 1]"),
                  ("visitor_trips_per_day", self.visitor_trips_per_day >= 0, ">= 0"),
                  ("weekend_factor", self.weekend_factor >= 0, ">= 0"),
                  ("winter_factor", self.winter_factor >= 0, ">= 0"))
        for nm, ok, allowed_txt in checks:
            if not ok:
                raise _err(f"{path}.{nm}", f"{getattr(self, nm)!r} must be {allowed_txt}")

    def factor(self, day_type: str, winter: bool) -> float:
        """Rate multiplier for a day type and season."""
        f = self.weekend_factor if day_type == "weekend" else 1.0
        return f * (self.winter_factor if winter else 1.0)


# Default purposes. EVERY number is assumed (order of magnitude ~2 one-way trips per person
# per day, as in Japanese urban travel surveys generally; Tomakomai has no person-trip survey,
# facts §4). Calibrate against counts (e.g. bus ridership, facts §2.2) before use.
DEFAULT_PURPOSES: dict[str, PurposeSpec] = {
    "commute": PurposeSpec(
        "commute", (("jobs", 1.0),), beta_time_per_min=-0.05,
        outbound_profile=hourly_profile({5: 2, 6: 8, 7: 30, 8: 25, 9: 6, 10: 3, 11: 2, 12: 2,
                                         13: 2, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 2,
                                         20: 1, 21: 1, 22: 1}, base=0.5),  # shifts at mills
        return_profile=hourly_profile({7: 2, 8: 2, 9: 2, 10: 2, 11: 2, 12: 2, 13: 2, 14: 2,
                                       15: 4, 16: 8, 17: 22, 18: 20, 19: 12, 20: 6, 21: 4,
                                       22: 3, 23: 2}, base=0.5),
        rates=(0.0, 0.9, 0.2), weekend_factor=0.35, winter_factor=1.0),
    "school": PurposeSpec(
        "school", (("school", 1.0),), beta_time_per_min=-0.15,
        outbound_profile=hourly_profile({7: 55, 8: 35, 9: 4, 10: 1, 11: 1, 12: 1, 13: 1}),
        return_profile=hourly_profile({12: 3, 13: 5, 14: 10, 15: 30, 16: 25, 17: 15, 18: 8,
                                       19: 3}),
        rates=(1.4, 0.1, 0.0), weekend_factor=0.05, winter_factor=1.0),
    "shopping": PurposeSpec(
        "shopping", (("retail", 1.0), ("port_market", 0.1)), beta_time_per_min=-0.10,
        outbound_profile=hourly_profile({9: 6, 10: 14, 11: 12, 12: 8, 13: 10, 14: 12, 15: 12,
                                         16: 10, 17: 8, 18: 6, 19: 4, 20: 2}),
        return_profile=hourly_profile({10: 6, 11: 14, 12: 12, 13: 8, 14: 10, 15: 12, 16: 12,
                                       17: 10, 18: 8, 19: 6, 20: 4, 21: 2}),
        rates=(0.1, 0.35, 0.55), weekend_factor=1.3, winter_factor=0.9),
    "hospital": PurposeSpec(
        "hospital", (("hospital", 1.0),), beta_time_per_min=-0.06,
        outbound_profile=hourly_profile({7: 5, 8: 25, 9: 25, 10: 15, 11: 6, 12: 3, 13: 8,
                                         14: 8, 15: 4, 16: 2}),
        return_profile=hourly_profile({9: 4, 10: 14, 11: 20, 12: 18, 13: 10, 14: 8, 15: 10,
                                       16: 8, 17: 5, 18: 3}),
        rates=(0.05, 0.08, 0.3), weekend_factor=0.2, winter_factor=1.0),
    "leisure": PurposeSpec(
        "leisure", (("retail", 0.5), ("port_market", 0.2), ("pop_total", 0.3)),
        beta_time_per_min=-0.08,
        outbound_profile=hourly_profile({9: 5, 10: 8, 11: 8, 12: 7, 13: 8, 14: 8, 15: 7,
                                         16: 6, 17: 6, 18: 7, 19: 6, 20: 4, 21: 2}),
        return_profile=hourly_profile({11: 4, 12: 6, 13: 6, 14: 7, 15: 8, 16: 8, 17: 8,
                                       18: 8, 19: 7, 20: 7, 21: 6, 22: 4, 23: 2}),
        rates=(0.3, 0.35, 0.35), weekend_factor=1.6, winter_factor=0.75),
    "tourism": PurposeSpec(
        "tourism", (("port_market", 0.6), ("retail", 0.3), ("station", 0.1)),
        beta_time_per_min=-0.05,
        outbound_profile=hourly_profile({9: 8, 10: 15, 11: 15, 12: 12, 13: 12, 14: 10, 15: 6,
                                         16: 3}),
        return_profile=hourly_profile({11: 5, 12: 10, 13: 14, 14: 15, 15: 15, 16: 12, 17: 8,
                                       18: 5}),
        visitor_trips_per_day=300.0, visitor_origin="station",
        weekend_factor=1.8, winter_factor=0.6),
}


@dataclass(frozen=True)
class CarAvailability:
    """Car access by age band :data:`AGE_BANDS` (probabilities; all **assumed**).

    Basis: Hokkaido averages 1.03 passenger cars per household (facts §4; the Tomakomai
    value is NOT FOUND), so most households have a car; lower for 65+ (many one-person
    households: 31,557 of 79,738 households in 2020 have one person, facts §4). Children
    hold no licence. ``visitor_*``: share of visitors who came with a car, and licences.
    """

    household_car_prob: tuple[float, float, float] = (0.85, 0.85, 0.70)
    licence_prob: tuple[float, float, float] = (0.0, 0.80, 0.55)
    visitor_car_prob: float = 0.30
    visitor_licence_prob: float = 0.80

    def __post_init__(self) -> None:
        vals = (*self.household_car_prob, *self.licence_prob, self.visitor_car_prob,
                self.visitor_licence_prob)
        if len(self.household_car_prob) != 3 or len(self.licence_prob) != 3 \
                or any(not 0 <= p <= 1 for p in vals):
            raise _err("demand.car_availability", "probabilities must be in [0, 1], three "
                       f"per age band {list(AGE_BANDS)}")


@dataclass(frozen=True)
class EventDemand:
    """Trips to and from an event at ``(lat, lon)``.

    ``attendance``: expected attendees (Poisson). ``arrive_shares[k]``: share arriving in the
    ``k``-th hour before ``start_s`` (``k = 0`` = the last hour); ``depart_shares[k]``: share
    leaving in the ``k``-th hour after ``end_s``. Shares of each tuple sum to <= 1; the
    remainder makes no modelled trip in that direction (e.g. already nearby, stays on).
    Attendees come from zones weighted by ``origin_column x exp(beta_time_per_min x t)``.
    Default shares and beta are **assumed**.
    """

    name: str
    lat: float
    lon: float
    start_s: float
    end_s: float
    attendance: float
    arrive_shares: tuple[float, ...] = (0.6, 0.3, 0.1)
    depart_shares: tuple[float, ...] = (0.7, 0.2, 0.1)
    beta_time_per_min: float = -0.05
    origin_column: str = "pop_total"
    purpose: str = "leisure"

    def __post_init__(self) -> None:
        path = f"demand.events.{self.name}"
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise _err(f"{path}.lat/lon", f"({self.lat}, {self.lon}) is not a WGS84 point")
        if not self.end_s >= self.start_s:
            raise _err(f"{path}.end_s", f"{self.end_s} is before start_s {self.start_s}")
        if not self.attendance >= 0:
            raise _err(f"{path}.attendance", f"{self.attendance} must be >= 0")
        for nm in ("arrive_shares", "depart_shares"):
            sh = getattr(self, nm)
            if any(not s >= 0 for s in sh) or sum(sh) > 1 + 1e-9:
                raise _err(f"{path}.{nm}", f"{sh!r}: shares must be >= 0 and sum to <= 1")
        if self.beta_time_per_min > 0:
            raise _err(f"{path}.beta_time_per_min", f"{self.beta_time_per_min} must be <= 0")
        if self.origin_column not in (*ATTRACTION_COLUMNS, *_EXTRA_ATTRACTION):
            raise _err(f"{path}.origin_column", f"unknown zone column {self.origin_column!r}")


def attraction_vector(zones: pd.DataFrame, weights: tuple[tuple[str, float], ...]
                      ) -> np.ndarray:
    """``sum_k w_k * col_k / sum(col_k)``: each column normalised so weights are shares."""
    a = np.zeros(len(zones))
    for col, w in weights:
        v = zones[col].to_numpy(float)
        if w > 0 and v.sum() > 0:
            a += w * v / v.sum()
    return a


def destination_probabilities(time_min: np.ndarray, attraction: np.ndarray,
                              beta_time_per_min: float) -> np.ndarray:
    """Row-stochastic ``P[o, d] ∝ attraction[d] * exp(beta * time_min[o, d])``.

    Zones with zero attraction get probability 0. Computed in log space (stable for large
    times). Raises :class:`ScenarioError` if no zone has positive attraction.
    """
    a = np.asarray(attraction, dtype=float)
    if not (a > 0).any():
        raise ScenarioError("destination choice: no zone has a positive attraction")
    with np.errstate(divide="ignore"):
        logw = np.log(a)[None, :] + beta_time_per_min * np.asarray(time_min, dtype=float)
    logw -= logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    return w / w.sum(axis=1, keepdims=True)


def _cum(p: np.ndarray) -> np.ndarray:
    """Cumulative probabilities whose last entry is exactly 1 (rows if 2-D)."""
    c = np.cumsum(p, axis=-1)
    return c / c[..., -1:]


def _draw(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw from a 1-D cumulative vector (never picks a zero-probability tail)."""
    return np.searchsorted(cum, u, side="right")


@dataclass(frozen=True, eq=False)
class GeneratedDemand:
    """Picklable demand sampler: ``GeneratedDemand(zones, time_min, ...)(rng) -> DataFrame``.

    ``zones``: a table from :func:`~tomakomai_maas.demand.zones.load_zones`; ``time_min``:
    zone-to-zone travel times in minutes (``[n_zones, n_zones]``, zone row order, finite,
    >= 0). ``scale`` samples a fraction of the population (1.0 = everyone). ``window_s``
    keeps trips with ``window_s[0] <= depart_s < window_s[1]``. See the module docstring
    for the output columns (:data:`GENERATED_TRIP_COLUMNS`).
    """

    zones: pd.DataFrame
    time_min: np.ndarray
    purposes: tuple[PurposeSpec, ...] = tuple(DEFAULT_PURPOSES.values())
    day_type: Literal["weekday", "weekend"] = "weekday"
    winter: bool = False
    scale: float = 1.0
    events: tuple[EventDemand, ...] = ()
    car: CarAvailability = field(default_factory=CarAvailability)
    points: Literal["disc", "centroid"] = "disc"
    window_s: tuple[float, float] | None = None
    id_prefix: str = "g"

    def __post_init__(self) -> None:
        z = self.zones
        missing = [c for c in ("zone_id", "lat", "lon", "area_km2", "pop_total",
                               *AGE_BAND_COLUMNS) if c not in z.columns]
        if missing:
            raise _err("demand.zones", f"missing column(s) {missing}; use load_zones()")
        n = len(z)
        t = np.asarray(self.time_min, dtype=float)
        if t.shape != (n, n) or not np.isfinite(t).all() or (t < 0).any():
            raise _err("demand.time_min", f"need finite, non-negative minutes of shape "
                       f"({n}, {n}) in zone order; got shape {t.shape}")
        if self.day_type not in ("weekday", "weekend"):
            raise _err("demand.day_type", f"{self.day_type!r}; allowed: weekday, weekend")
        if self.points not in ("disc", "centroid"):
            raise _err("demand.points", f"{self.points!r}; allowed: disc, centroid")
        if not self.scale >= 0:
            raise _err("demand.scale", f"{self.scale} must be >= 0")
        names = [p.name for p in self.purposes]
        if len(set(names)) != len(names):
            raise _err("demand.purposes", f"duplicate purpose names in {names}")
        for e in self.events:
            if e.name == "":
                raise _err("demand.events", "every event needs a name")
        pop = z[list(AGE_BAND_COLUMNS)].to_numpy(float)
        area = z["area_km2"].to_numpy(float)
        radius = np.where(np.isfinite(area) & (area > 0), np.sqrt(np.abs(area) / math.pi),
                          DEFAULT_POINT_RADIUS_KM)
        cum_dest: dict[str, np.ndarray] = {}
        for p in self.purposes:
            try:
                a = attraction_vector(z, p.attraction)
                cum_dest[p.name] = _cum(destination_probabilities(t, a, p.beta_time_per_min))
            except ScenarioError as exc:
                raise _err(f"demand.purposes.{p.name}.attraction",
                           f"columns {[c for c, _ in p.attraction]} are all 0 in the zone "
                           "table") from exc
            if p.visitor_trips_per_day > 0 and z[p.visitor_origin].to_numpy(float).sum() <= 0:
                raise _err(f"demand.purposes.{p.name}.visitor_origin",
                           f"zone column {p.visitor_origin!r} is all 0")
        event_zone = tuple(nearest_zone(z, e.lat, e.lon) for e in self.events)
        for e in self.events:
            if z[e.origin_column].to_numpy(float).sum() <= 0:
                raise _err(f"demand.events.{e.name}.origin_column",
                           f"zone column {e.origin_column!r} is all 0")
        object.__setattr__(self, "time_min", t)
        object.__setattr__(self, "_ids", z["zone_id"].astype(str).to_numpy(dtype=object))
        object.__setattr__(self, "_lat", z["lat"].to_numpy(float))
        object.__setattr__(self, "_lon", z["lon"].to_numpy(float))
        object.__setattr__(self, "_radius", radius)
        object.__setattr__(self, "_pop", pop)
        object.__setattr__(self, "_cum_dest", cum_dest)
        object.__setattr__(self, "_event_zone", event_zone)

    # ------------------------------------------------------------------ introspection
    def destination_probabilities(self, purpose: str) -> np.ndarray:
        """``P[o, d]`` of a purpose (rows sum to 1)."""
        c = self._cum_dest[purpose]
        return np.diff(c, axis=1, prepend=0.0)

    def expected_trips(self) -> dict[str, float]:
        """Expected trips per purpose (and ``event:<name>``), before the time window."""
        out: dict[str, float] = {}
        for p in self.purposes:
            f = p.factor(self.day_type, self.winter) * self.scale
            out[p.name] = float((self._pop * np.asarray(p.rates)).sum() * f
                                + p.visitor_trips_per_day * f)
        for e in self.events:
            out[f"event:{e.name}"] = (e.attendance * self.scale
                                      * (sum(e.arrive_shares) + sum(e.depart_shares)))
        return out

    # ------------------------------------------------------------------ sampling
    def __call__(self, rng: np.random.Generator) -> pd.DataFrame:
        parts = [self._purpose_trips(rng, p) for p in self.purposes]
        parts += [self._event_trips(rng, e, ez) for e, ez in zip(self.events,
                                                                  self._event_zone, strict=True)]
        cols = {c: np.concatenate([p[c] for p in parts]) if parts else np.array([])
                for c in GENERATED_TRIP_COLUMNS if c != "trip_id"}
        if self.window_s is not None:
            lo, hi = self.window_s
            keep = (cols["depart_s"] >= lo) & (cols["depart_s"] < hi)
            cols = {c: v[keep] for c, v in cols.items()}
        order = np.lexsort((cols["home_zone"].astype(str), cols["purpose"].astype(str),
                            cols["source"].astype(str), cols["depart_s"]))
        cols = {c: v[order] for c, v in cols.items()}
        n = len(order)
        cols["trip_id"] = np.array([f"{self.id_prefix}{i:07d}" for i in range(n)], dtype=object)
        df = pd.DataFrame({c: cols[c] for c in GENERATED_TRIP_COLUMNS})
        return df.astype(GENERATED_TRIP_COLUMNS)

    def _points(self, rng: np.random.Generator, zone: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        u = rng.random((2, len(zone)))  # always drawn: CRN across point settings
        lat, lon = self._lat[zone], self._lon[zone]
        if self.points == "centroid":
            return lat, lon
        r = self._radius[zone] * np.sqrt(u[0])
        th = 2.0 * math.pi * u[1]
        dlat = r * np.sin(th) / KM_PER_DEG_LAT
        dlon = r * np.cos(th) / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
        return lat + dlat, lon + dlon

    def _car(self, rng: np.random.Generator, band: np.ndarray, visitor: bool
             ) -> tuple[np.ndarray, np.ndarray]:
        u = rng.random((2, len(band)))
        if visitor:
            return u[0] < self.car.visitor_car_prob, u[1] < self.car.visitor_licence_prob
        return (u[0] < np.asarray(self.car.household_car_prob)[band],
                u[1] < np.asarray(self.car.licence_prob)[band])

    def _purpose_trips(self, rng: np.random.Generator, p: PurposeSpec) -> dict[str, np.ndarray]:
        f = p.factor(self.day_type, self.winter) * self.scale
        nz = len(self._lat)
        lam = self._pop * np.asarray(p.rates)[None, :] * f  # [zone, band]
        counts = rng.poisson(lam)
        k = np.repeat(np.arange(nz * 3), counts.ravel())
        home, band = k // 3, k % 3
        source = np.full(len(home), "resident", dtype=object)
        n_vis = int(rng.poisson(p.visitor_trips_per_day * f))
        if n_vis:
            w = self.zones[p.visitor_origin].to_numpy(float)
            vz = _draw(_cum(w), rng.random(n_vis))
            city = self._pop.sum(axis=0)
            vb = _draw(_cum(city), rng.random(n_vis))
            home = np.concatenate([home, vz])
            band = np.concatenate([band, vb])
            source = np.concatenate([source, np.full(n_vis, "visitor", dtype=object)])
        n = len(home)
        cum = self._cum_dest[p.name]
        u_dest = rng.random(n)
        dest = np.empty(n, dtype=np.int64)
        for o in np.unique(home):
            sel = home == o
            dest[sel] = _draw(cum[o], u_dest[sel])
        is_ret = rng.random(n) < p.return_share
        u_hour, u_min = rng.random((2, n))
        hour = np.where(is_ret, _draw(_cum(np.asarray(p.return_profile)), u_hour),
                        _draw(_cum(np.asarray(p.outbound_profile)), u_hour))
        depart = (hour + u_min) * 3600.0
        h_lat, h_lon = self._points(rng, home)
        d_lat, d_lon = self._points(rng, dest)
        visitor = source == "visitor"
        car_r, lic_r = self._car(rng, band, visitor=False)
        car_v, lic_v = self._car(rng, band, visitor=True)
        car = np.where(visitor, car_v, car_r)
        lic = np.where(visitor, lic_v, lic_r)
        return self._table(source=source, purpose=p.name, is_ret=is_ret, band=band, home=home,
                           o=np.where(is_ret, dest, home), d=np.where(is_ret, home, dest),
                           o_lat=np.where(is_ret, d_lat, h_lat),
                           o_lon=np.where(is_ret, d_lon, h_lon),
                           d_lat=np.where(is_ret, h_lat, d_lat),
                           d_lon=np.where(is_ret, h_lon, d_lon),
                           depart=depart, car=car, lic=lic, event="")

    def _event_trips(self, rng: np.random.Generator, e: EventDemand, ez: int
                     ) -> dict[str, np.ndarray]:
        n = int(rng.poisson(e.attendance * self.scale))
        t = self.time_min[:, ez]
        with np.errstate(divide="ignore"):
            logw = np.log(self.zones[e.origin_column].to_numpy(float)) + e.beta_time_per_min * t
        w = np.exp(logw - logw.max())
        home = _draw(_cum(w), rng.random(n))
        band = np.empty(n, dtype=np.int64)
        u_band = rng.random(n)
        pop = self._pop
        for o in np.unique(home):
            sel = home == o
            band[sel] = _draw(_cum(pop[o]) if pop[o].sum() > 0 else _cum(pop.sum(axis=0)),
                              u_band[sel])
        h_lat, h_lon = self._points(rng, home)
        car, lic = self._car(rng, band, visitor=False)
        arr = np.asarray((*e.arrive_shares, max(0.0, 1.0 - sum(e.arrive_shares))))
        dep = np.asarray((*e.depart_shares, max(0.0, 1.0 - sum(e.depart_shares))))
        u = rng.random((4, n))
        k_arr = _draw(_cum(arr), u[0])
        k_dep = _draw(_cum(dep), u[1])
        arrive_s = e.start_s - (k_arr + 1 - u[2]) * 3600.0
        out_depart = arrive_s - t[home] * 60.0
        back_depart = e.end_s + (k_dep + u[3]) * 3600.0
        go = k_arr < len(e.arrive_shares)
        back = k_dep < len(e.depart_shares)
        ev_lat, ev_lon = np.full(n, e.lat), np.full(n, e.lon)
        ezv = np.full(n, ez)
        idx = np.concatenate([np.flatnonzero(go), np.flatnonzero(back)])
        is_ret = np.concatenate([np.zeros(go.sum(), bool), np.ones(back.sum(), bool)])
        hm = home[idx]
        return self._table(
            source=np.full(len(idx), "event", dtype=object), purpose=e.purpose, is_ret=is_ret,
            band=band[idx], home=hm, o=np.where(is_ret, ezv[idx], hm),
            d=np.where(is_ret, hm, ezv[idx]),
            o_lat=np.where(is_ret, ev_lat[idx], h_lat[idx]),
            o_lon=np.where(is_ret, ev_lon[idx], h_lon[idx]),
            d_lat=np.where(is_ret, h_lat[idx], ev_lat[idx]),
            d_lon=np.where(is_ret, h_lon[idx], ev_lon[idx]),
            depart=np.where(is_ret, back_depart[idx], out_depart[idx]),
            car=car[idx], lic=lic[idx], event=e.name)

    def _table(self, *, source: np.ndarray, purpose: str, is_ret: np.ndarray, band: np.ndarray,
               home: np.ndarray, o: np.ndarray, d: np.ndarray, o_lat: np.ndarray,
               o_lon: np.ndarray, d_lat: np.ndarray, d_lon: np.ndarray, depart: np.ndarray,
               car: np.ndarray, lic: np.ndarray, event: str) -> dict[str, np.ndarray]:
        n = len(home)
        ids = self._ids
        bands = np.asarray(AGE_BANDS, dtype=object)
        return {
            "source": np.asarray(source, dtype=object),
            "purpose": np.full(n, purpose, dtype=object),
            "direction": np.where(is_ret, "return", "outbound").astype(object),
            "age_band": bands[band] if n else np.array([], dtype=object),
            "home_zone": ids[home] if n else np.array([], dtype=object),
            "o_zone": ids[o] if n else np.array([], dtype=object),
            "d_zone": ids[d] if n else np.array([], dtype=object),
            "o_lat": np.asarray(o_lat, float), "o_lon": np.asarray(o_lon, float),
            "d_lat": np.asarray(d_lat, float), "d_lon": np.asarray(d_lon, float),
            "depart_s": np.asarray(depart, float),
            "car_in_household": np.asarray(car, bool), "licence": np.asarray(lic, bool),
            "event": np.full(n, event, dtype=object),
        }
