"""The travel-time provider the dispatcher needs, and a matrix implementation for tests.

Any object with ``time_s(i, j)`` and ``dist_m(i, j)`` works (the network layer's
``TravelTimes`` oracle does): both take compact node indices as ints or numpy integer arrays
(broadcast together) and return seconds / metres as floats or float arrays, ``inf`` when
unreachable. The dispatcher assumes ``time_s(i, j) >= 0`` and ``time_s(i, i) == 0``; it does
not need the triangle inequality.

**Time-dependent travel times.** A provider may also have ``arrival_s(i, j, t_dep)``: the
arrival time at ``j`` when leaving ``i`` at ``t_dep`` (broadcasting). Every schedule of the
dispatcher then uses it (:func:`leg_fn`) instead of ``t_dep + time_s(i, j)``; ``time_s``
stays the free-flow time (used only for reachability and rankings). The provider must be
FIFO (leaving later never arrives earlier), so waiting never helps and the
as-early-as-possible schedule stays the right one. :class:`TimeDependentTravelTimes` wraps
any provider with a :class:`SpeedProfile` (speed factors by hour of the day, integrated
over the leg: FIFO by construction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tomakomai_maas.errors import DispatchError

__all__ = ["TravelTimeProvider", "MatrixTravelTimes", "SpeedProfile",
           "TimeDependentTravelTimes", "leg_fn"]


@runtime_checkable
class TravelTimeProvider(Protocol):
    """O(1) travel-time/distance look-ups on compact node indices (broadcasting)."""

    def time_s(self, i: Any, j: Any) -> Any: ...

    def dist_m(self, i: Any, j: Any) -> Any: ...


class MatrixTravelTimes:
    """A :class:`TravelTimeProvider` backed by dense ``n x n`` matrices.

    Args:
        time_matrix_s: travel times (s), ``inf`` = unreachable, zero diagonal.
        dist_matrix_m: road distances (m); defaults to zeros.
    """

    def __init__(self, time_matrix_s: Any, dist_matrix_m: Any | None = None) -> None:
        t = np.asarray(time_matrix_s, dtype=np.float64)
        if t.ndim != 2 or t.shape[0] != t.shape[1]:
            raise DispatchError(f"time_matrix_s must be square, got shape {t.shape}")
        if np.isnan(t).any() or (t < 0).any():
            raise DispatchError("time_matrix_s must be >= 0 (inf = unreachable), no NaN")
        if (np.diag(t) != 0).any():
            raise DispatchError("time_matrix_s must have a zero diagonal")
        d = np.zeros_like(t) if dist_matrix_m is None else np.asarray(dist_matrix_m, np.float64)
        if d.shape != t.shape:
            raise DispatchError(f"dist_matrix_m shape {d.shape} != time_matrix_s {t.shape}")
        self._t = t
        self._d = d
        self._t.setflags(write=False)
        self._d.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return int(self._t.shape[0])

    def time_s(self, i: Any, j: Any) -> Any:
        """Travel time (s) from ``i`` to ``j`` (ints or broadcastable int arrays)."""
        return self._t[i, j]

    def dist_m(self, i: Any, j: Any) -> Any:
        """Distance (m) from ``i`` to ``j``."""
        return self._d[i, j]


class SpeedProfile:
    """Speed factors that are constant within each period (default: hour) of the day.

    ``factors[k]`` multiplies the free-flow speed during ``[k, k+1) * period_s`` (repeating
    every ``len(factors) * period_s``, i.e. daily for 24 hourly factors). A leg of free-flow
    time ``b`` that leaves at ``t`` is driven at the factor in force at each moment: in one
    period it takes ``b / f``; across a period boundary the free-flow time still to drive
    carries over to the next period's factor (the time-dependent travel-time model of Ichoua,
    Gendreau & Potvin 2003). So the arrival time grows with the departure time (FIFO), which
    a "factor at the departure for the whole leg" rule does not guarantee.

    The factor used for a time ``t`` is ``factors[floor(t / period_s) mod n]``.
    """

    def __init__(self, factors: Sequence[float], period_s: float = 3600.0) -> None:
        f = tuple(float(x) for x in factors)
        if not f or not all(math.isfinite(x) and x > 0 for x in f):
            raise DispatchError(f"speed factors must be finite and > 0, got {factors!r}")
        if not period_s > 0:
            raise DispatchError(f"period_s must be > 0, got {period_s}")
        self.factors = f
        self.period_s = float(period_s)
        self._n = len(f)
        self._f = np.array(f, dtype=np.float64)
        self.constant = all(x == f[0] for x in f)

    @property
    def is_identity(self) -> bool:
        """True when every factor is 1 (travel times are the free-flow ones)."""
        return self.constant and self.factors[0] == 1.0

    def factor_at(self, t_s: float) -> float:
        """The factor in force at time ``t_s``."""
        return self.factors[int(math.floor(t_s / self.period_s)) % self._n]

    def arrival_s(self, t_dep: Any, base_s: Any) -> Any:
        """Arrival time of legs of free-flow time ``base_s`` leaving at ``t_dep``
        (scalars or broadcasting arrays; ``inf``/NaN pass through as ``t_dep + base_s``)."""
        if np.ndim(t_dep) == 0 and np.ndim(base_s) == 0:
            return self._arrival_scalar(float(t_dep), float(base_s))
        t = np.asarray(t_dep, dtype=np.float64)
        b = np.asarray(base_s, dtype=np.float64)
        t, b = np.broadcast_arrays(t, b)
        out = t + b
        ok = np.isfinite(t) & np.isfinite(b) & (b > 0)
        if not ok.any():
            return out
        tt, bb = t[ok], b[ok]
        if self.constant:
            out[ok] = tt + bb / self._f[0]
            return out
        res = np.empty_like(tt)
        idx = np.arange(tt.size)
        p = self.period_s
        while idx.size:
            k = np.floor(tt / p)
            f = self._f[(k % self._n).astype(np.intp)]
            end = (k + 1.0) * p
            cap = (end - tt) * f
            fin = bb <= cap
            res[idx[fin]] = tt[fin] + bb[fin] / f[fin]
            keep = ~fin
            idx, bb, tt = idx[keep], bb[keep] - cap[keep], end[keep]
        out[ok] = res
        return out

    def _arrival_scalar(self, t: float, b: float) -> float:
        if not (math.isfinite(t) and math.isfinite(b)) or b <= 0:
            return t + b
        if self.constant:
            return t + b / self.factors[0]
        p = self.period_s
        while True:
            k = math.floor(t / p)
            f = self.factors[int(k) % self._n]
            end = (k + 1.0) * p
            cap = (end - t) * f
            if b <= cap:
                return t + b / f
            b, t = b - cap, end


class TimeDependentTravelTimes:
    """A provider whose legs are driven at the speed factors of a :class:`SpeedProfile`.

    ``time_s``/``dist_m`` are the base provider's (free-flow times, road distances);
    ``arrival_s(i, j, t_dep)`` is ``profile.arrival_s(t_dep, base.time_s(i, j))``.
    Other attributes (``lat``, ``lon``, ``n``, ...) are the base provider's.
    """

    def __init__(self, base: Any, profile: SpeedProfile) -> None:
        self.base = base
        self.profile = profile

    def time_s(self, i: Any, j: Any) -> Any:
        """Free-flow travel time (s)."""
        return self.base.time_s(i, j)

    def dist_m(self, i: Any, j: Any) -> Any:
        return self.base.dist_m(i, j)

    def arrival_s(self, i: Any, j: Any, t_dep: Any) -> Any:
        """Arrival at ``j`` leaving ``i`` at ``t_dep`` (broadcasting)."""
        return self.profile.arrival_s(t_dep, self.base.time_s(i, j))

    def travel_s(self, i: Any, j: Any, t_dep: Any) -> Any:
        """Duration of the leg ``i -> j`` leaving at ``t_dep``."""
        return self.arrival_s(i, j, t_dep) - t_dep

    def __getattr__(self, name: str) -> Any:
        if name in ("base", "profile"):
            raise AttributeError(name)
        return getattr(self.base, name)


def leg_fn(tt: Any) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """``f(t_dep, i, j) -> (arrival, duration)`` of legs on ``tt`` (broadcasting).

    Time-dependent providers (with ``arrival_s``) give ``(a, a - t_dep)``; plain ones
    ``(t_dep + time_s(i, j), time_s(i, j))`` — exactly the arithmetic of a static table.
    """
    arrival = getattr(tt, "arrival_s", None)
    if arrival is not None:
        def td(t: Any, i: Any, j: Any) -> tuple[Any, Any]:
            a = arrival(i, j, t)
            return a, a - t
        return td
    time_s = tt.time_s

    def static(t: Any, i: Any, j: Any) -> tuple[Any, Any]:
        x = time_s(i, j)
        return t + x, x
    return static
